package dev.warden.core.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.config.Secret;
import dev.warden.core.config.WebhookConfig;
import dev.warden.core.ledger.Redactor;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Webhooks against a real local HTTP receiver that fails at first. */
class WebhooksTest {
    HttpServer receiver;
    final BlockingQueue<String[]> received = new LinkedBlockingQueue<>();
    final AtomicInteger calls = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/", ex -> {
            byte[] body = ex.getRequestBody().readAllBytes();
            int n = calls.incrementAndGet();
            // The first attempt fails: delivery must retry.
            int status = n == 1 ? 503 : 200;
            if (status == 200) {
                received.add(new String[] {ex.getRequestURI().getPath(), new String(body, StandardCharsets.UTF_8),
                        String.valueOf(ex.getRequestHeaders().getFirst("X-Warden-Signature"))});
            }
            ex.sendResponseHeaders(status, -1);
            ex.close();
        });
        receiver.start();
    }

    @AfterEach
    void stop() {
        receiver.stop(0);
    }

    static ApprovalRequest request() {
        return request("DROP TABLE audit_log <!here>", List.of());
    }

    static ApprovalRequest request(String text, List<String> parameters) {
        Operation op = new Operation("claude", "shop", "postgres", text, parameters, "cleanup", "s", "", null);
        return new ApprovalRequest("rabc", op, op.statementHash(), Classification.unknown(op.text(), "t"),
                new Decision(Action.APPROVE, "drops", List.of("x"), ApprovalSpec.DEFAULT), Instant.now(),
                Instant.now().plusSeconds(300), ApprovalRequest.Status.PENDING, List.of(), null, null, true, List.of());
    }

    @Test
    void retriesSignsAndFormatsForSlack() throws Exception {
        String base = "http://127.0.0.1:" + receiver.getAddress().getPort();
        Webhooks hooks = new Webhooks(List.of(new WebhookConfig(URI.create(base + "/slack"), WebhookConfig.Format.SLACK, null)),
                "https://warden.example", new Redactor(false), 3, Duration.ofMillis(50));
        long t0 = System.nanoTime();
        hooks.accept(new ApprovalEvent("requested", request(), "claude"));
        assertThat(System.nanoTime() - t0).as("never blocks the caller").isLessThan(TimeUnit.MILLISECONDS.toNanos(200));
        String[] got = received.poll(10, TimeUnit.SECONDS);
        assertThat(got).isNotNull();
        assertThat(calls.get()).isEqualTo(2);
        Map<?, ?> slack = new ObjectMapper().readValue(got[1], Map.class);
        assertThat((String) slack.get("text")).contains("<https://warden.example/#/requests/rabc|Review request rabc>")
                .contains("&lt;!here&gt;").doesNotContain("<!here>").contains("open transaction");

        Webhooks signed = new Webhooks(List.of(new WebhookConfig(URI.create(base + "/json"), WebhookConfig.Format.JSON,
                new Secret("k"))), null, new Redactor(false), 3, Duration.ofMillis(50));
        signed.accept(new ApprovalEvent("approved", request(), "alice"));
        signed.accept(new ApprovalEvent("requested", request(), "claude"));
        String[] json = received.poll(10, TimeUnit.SECONDS);
        assertThat(json[0]).isEqualTo("/json");
        assertThat(json[1]).contains("\"event\":\"approval.requested\"").contains("\"id\":\"rabc\"");
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("k".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        assertThat(json[2]).isEqualTo("sha256=" + HexFormat.of().formatHex(mac.doFinal(json[1].getBytes(StandardCharsets.UTF_8))));
        assertThat(received.poll(300, TimeUnit.MILLISECONDS)).as("only new requests are announced").isNull();
    }

    /** A held ALTER ROLE … PASSWORD went to Slack and to JSON receivers with the password, which the ledger redacts. */
    @Test
    void secretsLeaveRedactedAsTheLedgerRecordsThem() throws Exception {
        String base = "http://127.0.0.1:" + receiver.getAddress().getPort();
        ApprovalRequest role = request("ALTER ROLE app PASSWORD 'hunter2-secret'", List.of());
        for (WebhookConfig.Format format : WebhookConfig.Format.values()) {
            calls.set(1); // the receiver fails every first call: start past it
            // More than one attempt: a delivery lost to a busy machine is tried again, not a failed test.
            new Webhooks(List.of(new WebhookConfig(URI.create(base + "/" + format), format, null)), null,
                    new Redactor(false), 3, Duration.ofMillis(50)).accept(new ApprovalEvent("requested", role, "claude"));
            String[] got = received.poll(10, TimeUnit.SECONDS);
            assertThat(got).isNotNull();
            assertThat(got[1]).doesNotContain("hunter2").contains("[redacted]");
        }
        // With redact_literals, every literal and every bound parameter.
        calls.set(1);
        new Webhooks(List.of(new WebhookConfig(URI.create(base + "/json"), WebhookConfig.Format.JSON, null)), null,
                new Redactor(true), 3, Duration.ofMillis(50))
                .accept(new ApprovalEvent("requested", request("DELETE FROM users WHERE email = 'a@example.com' OR id = $1",
                        List.of("4711")), "claude"));
        String[] got = received.poll(10, TimeUnit.SECONDS);
        assertThat(got[1]).doesNotContain("a@example.com").doesNotContain("4711");
    }
}
