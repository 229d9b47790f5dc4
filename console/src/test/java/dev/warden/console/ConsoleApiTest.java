package dev.warden.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.ledger.Entry;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConsoleApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir Path dir;
    ConsoleFixture f;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        f = new ConsoleFixture(dir);
    }

    @AfterEach
    void stop() {
        f.close();
    }

    HttpResponse<String> call(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(f.url() + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static Map<String, Object> obj(HttpResponse<String> r) throws Exception {
        return JSON.readValue(r.body(), new TypeReference<>() {});
    }

    /**
     * A status the API does not know answered 200 with an empty list: a script asking for ?status=pendng was told
     * nothing was pending (found by the README check, reading openapi.yaml's enum against the API).
     */
    @Test
    void anUnknownStatusIsRefusedNotAnEmptyList() throws Exception {
        f.open("CREATE INDEX i ON orders(id)", ApprovalSpec.Mode.TICKET, 1, false);
        HttpResponse<String> typo = call("GET", "/api/requests?status=pendng", null, "Authorization", "Bearer " + ConsoleFixture.ALICE);
        assertThat(typo.statusCode()).isEqualTo(400);
        assertThat(typo.body()).contains("pendng").contains("pending, approved, denied, expired, used");
        HttpResponse<String> any = call("GET", "/api/requests?status=PENDING", null, "Authorization", "Bearer " + ConsoleFixture.ALICE);
        assertThat(any.statusCode()).isEqualTo(200);
        assertThat(JSON.readValue(any.body(), new TypeReference<List<Object>>() {})).hasSize(1);
    }

    @Test
    void bearerListGetApprove() throws Exception {
        ApprovalRequest r = f.open("CREATE INDEX CONCURRENTLY i ON orders(id)", ApprovalSpec.Mode.TICKET, 1, true);
        HttpResponse<String> list = call("GET", "/api/requests?status=pending", null, "Authorization", "Bearer " + ConsoleFixture.ALICE);
        assertThat(list.statusCode()).isEqualTo(200);
        List<Map<String, Object>> items = JSON.readValue(list.body(), new TypeReference<>() {});
        assertThat(items).hasSize(1);
        assertThat(items.getFirst()).containsKeys("id", "status", "agent", "database", "statement", "rule", "created", "expires")
                .containsEntry("status", "pending").containsEntry("in_transaction", true)
                .containsEntry("reason", "fixing slow /orders endpoint");

        HttpResponse<String> approved = call("POST", "/api/requests/" + r.id() + "/approve", "{\"comment\":\"go\"}",
                "Authorization", "Bearer " + ConsoleFixture.ALICE);
        assertThat(approved.statusCode()).isEqualTo(200);
        assertThat(obj(approved)).containsEntry("status", "approved").containsEntry("decided_by", "alice");
        assertThat(f.approvals.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.APPROVED);
        assertThat(f.ledger.entries()).filteredOn(e -> e instanceof Entry.ApprovalEntry a && a.verdict().equals("approved"))
                .singleElement().extracting(e -> ((Entry.ApprovalEntry) e).approver()).isEqualTo("alice");

        HttpResponse<String> again = call("POST", "/api/requests/" + r.id() + "/deny", null, "Authorization", "Bearer " + ConsoleFixture.BOB);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(call("GET", "/api/requests/rnosuchrequest", null, "Authorization", "Bearer " + ConsoleFixture.BOB).statusCode()).isEqualTo(404);
    }

    @Test
    void twoApproversThroughTheApi() throws Exception {
        ApprovalRequest r = f.open("ALTER TABLE orders ADD c int", ApprovalSpec.Mode.TICKET, 2, false);
        assertThat(obj(call("POST", "/api/requests/" + r.id() + "/approve", null, "Authorization", "Bearer " + ConsoleFixture.ALICE)))
                .containsEntry("status", "pending");
        assertThat(call("POST", "/api/requests/" + r.id() + "/approve", null, "Authorization", "Bearer " + ConsoleFixture.ALICE).statusCode())
                .isEqualTo(409);
        assertThat(obj(call("POST", "/api/requests/" + r.id() + "/approve", null, "Authorization", "Bearer " + ConsoleFixture.BOB)))
                .containsEntry("status", "approved");
    }

    /** Only the deciding approver's comment was kept: the second approver never saw why the first said yes. */
    @Test
    void eachApproversCommentIsKept() throws Exception {
        ApprovalRequest r = f.open("ALTER TABLE orders ADD d int", ApprovalSpec.Mode.TICKET, 2, false);
        call("POST", "/api/requests/" + r.id() + "/approve", "{\"comment\":\"nullable, no rewrite\"}",
                "Authorization", "Bearer " + ConsoleFixture.ALICE);
        assertThat(obj(call("GET", "/api/requests/" + r.id(), null, "Authorization", "Bearer " + ConsoleFixture.BOB)).get("comments"))
                .isEqualTo(List.of(Map.of("by", "alice", "comment", "nullable, no rewrite")));
        Map<String, Object> done = obj(call("POST", "/api/requests/" + r.id() + "/approve", "{\"comment\":\"agreed\"}",
                "Authorization", "Bearer " + ConsoleFixture.BOB));
        assertThat(done).containsEntry("status", "approved").containsEntry("comment", "agreed");
        assertThat(done.get("comments")).isEqualTo(List.of(Map.of("by", "alice", "comment", "nullable, no rewrite"),
                Map.of("by", "bob", "comment", "agreed")));
        // Kept where requests are stored, so a restart shows them too.
        assertThat(dev.warden.core.approval.ApprovalJson.read(new ObjectMapper().readValue(
                f.dataDir.resolve("approvals/" + r.id() + ".json").toFile(), Map.class)).comments())
                .extracting(ApprovalRequest.ApproverComment::by).containsExactly("alice", "bob");
    }

    @Test
    void agentsAndStrangersAreRefused() throws Exception {
        ApprovalRequest r = f.open("DROP TABLE audit_log", ApprovalSpec.Mode.TICKET, 1, false);
        assertThat(call("POST", "/api/requests/" + r.id() + "/approve", null, "Authorization", "Bearer " + ConsoleFixture.AGENT).statusCode())
                .isEqualTo(403);
        assertThat(call("GET", "/api/requests", null, "Authorization", "Bearer " + ConsoleFixture.AGENT).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/login", "{\"token\":\"" + ConsoleFixture.AGENT + "\"}").statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/requests/" + r.id() + "/approve", null, "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
        assertThat(call("POST", "/api/requests/" + r.id() + "/approve", null).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/api/requests", null, "Authorization", "Basic YWxpY2U6eA==").statusCode()).isEqualTo(401);
        assertThat(call("POST", "/api/login", "{\"token\":\"nope\"}").statusCode()).isEqualTo(401);
        assertThat(f.approvals.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.PENDING);
    }

    @Test
    void cookieSessionsNeedCsrfAndSameOrigin() throws Exception {
        ApprovalRequest r = f.open("DROP INDEX i", ApprovalSpec.Mode.TICKET, 1, false);
        HttpResponse<String> login = call("POST", "/api/login", "{\"token\":\"" + ConsoleFixture.BOB + "\"}");
        assertThat(login.statusCode()).isEqualTo(200);
        String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict").doesNotContain("Secure");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        String csrf = (String) obj(login).get("csrf");

        assertThat(call("GET", "/api/requests", null, "Cookie", cookie).statusCode()).isEqualTo(200);
        String path = "/api/requests/" + r.id() + "/approve";
        assertThat(call("POST", path, "{}", "Cookie", cookie).statusCode()).as("no token").isEqualTo(403);
        assertThat(call("POST", path, "{}", "Cookie", cookie, "X-CSRF-Token", csrf + "x").statusCode()).as("wrong token").isEqualTo(403);
        assertThat(call("POST", path, "{}", "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", "https://evil.example").statusCode())
                .as("cross-origin").isEqualTo(403);
        assertThat(f.approvals.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.PENDING);
        HttpResponse<String> ok = call("POST", path, "{}", "Cookie", cookie, "X-CSRF-Token", csrf, "Origin", f.url());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(obj(ok)).containsEntry("decided_by", "bob");

        assertThat(call("POST", "/api/logout", "{}", "Cookie", cookie, "X-CSRF-Token", csrf).statusCode()).isEqualTo(200);
        assertThat(call("GET", "/api/requests", null, "Cookie", cookie).statusCode()).isEqualTo(401);
    }

    @Test
    void secureHeadersEverywhere() throws Exception {
        for (String p : List.of("/", "/app.js", "/api/requests", "/healthz", "/nope")) {
            HttpResponse<String> r = call("GET", p, null);
            assertThat(r.headers().firstValue("Content-Security-Policy")).get().asString().contains("frame-ancestors 'none'")
                    .contains("script-src 'self'").doesNotContain("unsafe-inline");
            assertThat(r.headers().firstValue("X-Frame-Options")).contains("DENY");
            assertThat(r.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
            assertThat(r.headers().firstValue("Referrer-Policy")).contains("no-referrer");
        }
        assertThat(call("GET", "/", null).body()).contains("<title>Warden");
        assertThat(call("GET", "/api/openapi.yaml", null).body()).contains("openapi: 3.1.0");
    }

    @Test
    void healthAndMetrics() throws Exception {
        f.open("DROP INDEX i", ApprovalSpec.Mode.TICKET, 1, false);
        HttpResponse<String> h = call("GET", "/healthz", null);
        assertThat(h.statusCode()).isEqualTo(200);
        assertThat(obj(h)).containsEntry("status", "ok");
        String m = call("GET", "/metrics", null).body();
        assertThat(m).contains("# TYPE warden_decisions_total counter").contains("warden_held_requests 0")
                .contains("warden_ledger_fsync_seconds_bucket{le=\"+Inf\"}");
    }

    @Test
    void liveEventsAnnounceNewRequests() throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(f.url() + "/api/events"))
                .header("Authorization", "Bearer " + ConsoleFixture.ALICE).build();
        HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertThat(resp.statusCode()).isEqualTo(200);
        assertThat(resp.headers().firstValue("Content-Type")).get().asString().startsWith("text/event-stream");
        BufferedReader in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
        CompletableFuture<String> seen = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                boolean hello = false;
                while ((line = in.readLine()) != null) {
                    if (line.equals("event: hello")) hello = true;
                    if (line.startsWith("data: ") && line.contains("\"requested\"")) return hello + " " + line;
                }
                return "closed";
            } catch (Exception e) {
                return e.toString();
            }
        });
        Thread.sleep(300);
        ApprovalRequest r = f.open("CREATE INDEX CONCURRENTLY i ON orders(id)", ApprovalSpec.Mode.HOLD, 1, false);
        String got = seen.get(10, TimeUnit.SECONDS);
        assertThat(got).startsWith("true ").contains(r.id());
        resp.body().close();
    }

    @Test
    void ledgerBrowserFilters() throws Exception {
        Path ledgerDir = dir.resolve("ledger");
        Files.createDirectories(ledgerDir);
        Files.writeString(ledgerDir.resolve("00000000000000000000.jsonl"), String.join("\n",
                "{\"seq\":0,\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"policy\",\"source\":\"policy.yaml\"}",
                "{\"seq\":1,\"time\":\"2026-01-01T00:00:01Z\",\"type\":\"decision\",\"agent\":\"claude\",\"database\":\"shop\",\"statement\":\"SELECT * FROM orders\",\"classification\":{\"statements\":[{\"objects\":[{\"name\":\"public.orders\"}]}]},\"decision\":\"allow\",\"rule\":\"reads\"}",
                "{\"seq\":2,\"time\":\"2026-01-01T00:00:02Z\",\"type\":\"decision\",\"operation\":{\"agent\":\"claude\",\"database\":\"shop\",\"statement\":\"DROP TABLE audit_log\"},\"classification\":{\"statements\":[{\"objects\":[{\"name\":\"public.audit_log\"}]}]},\"decision\":{\"decision\":\"deny\",\"rule\":\"no-drops\"}}",
                "{\"seq\":3,\"time\":\"2026-01-01T00:00:03Z\",\"type\":\"decision\",\"operation\":{\"agent\":\"other\",\"database\":\"crm\",\"statement\":\"SELECT 1\"},\"decision\":{\"decision\":\"allow\"}}",
                "not json") + "\n");
        Files.writeString(ledgerDir.resolve("planted.jsonl"), "{\"seq\":9,\"type\":\"decision\",\"agent\":\"claude\"}\n");
        String bearer = "Bearer " + ConsoleFixture.ALICE;
        Map<String, Object> all = obj(call("GET", "/api/ledger", null, "Authorization", bearer));
        assertThat((List<?>) all.get("entries")).hasSize(5);
        assertThat(all.get("verification")).asString().contains("verified");
        List<?> denied = (List<?>) obj(call("GET", "/api/ledger?decision=deny", null, "Authorization", bearer)).get("entries");
        assertThat(denied).hasSize(1).first().asString().contains("audit_log");
        assertThat((List<?>) obj(call("GET", "/api/ledger?agent=claude&object=orders", null, "Authorization", bearer)).get("entries")).hasSize(1);
        assertThat((List<?>) obj(call("GET", "/api/ledger?database=crm", null, "Authorization", bearer)).get("entries")).hasSize(1);
        assertThat((List<?>) obj(call("GET", "/api/ledger?from=2026-01-01T00:00:02Z&to=2026-01-01T00:00:02Z", null,
                "Authorization", bearer)).get("entries")).hasSize(1);
        List<?> newest = (List<?>) obj(call("GET", "/api/ledger?type=decision&limit=1", null, "Authorization", bearer)).get("entries");
        assertThat(newest).hasSize(1).first().asString().contains("seq=3");
        assertThat(call("GET", "/api/ledger?from=yesterday", null, "Authorization", bearer).statusCode()).isEqualTo(400);
        assertThat(call("GET", "/api/ledger", null).statusCode()).isEqualTo(401);
    }

    @Test
    void killSwitchThroughTheApi() throws Exception {
        ApprovalRequest r = f.open("DROP INDEX i", ApprovalSpec.Mode.TICKET, 1, false);
        HttpResponse<String> off = call("POST", "/api/agents/claude/disable", "{\"comment\":\"runaway loop\"}",
                "Authorization", "Bearer " + ConsoleFixture.ALICE);
        assertThat(off.statusCode()).isEqualTo(200);
        assertThat(obj(off)).containsEntry("disabled", true).containsEntry("requests_denied", 1);
        assertThat(f.agents.allows("claude")).isFalse();
        assertThat(f.approvals.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.DENIED);
        assertThat(call("GET", "/api/agents", null, "Authorization", "Bearer " + ConsoleFixture.ALICE).body()).contains("\"disabled\":true");
        assertThat(call("POST", "/api/agents/claude/enable", null, "Authorization", "Bearer " + ConsoleFixture.AGENT).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/api/agents/claude/enable", null, "Authorization", "Bearer " + ConsoleFixture.BOB).statusCode()).isEqualTo(200);
        assertThat(f.agents.allows("claude")).isTrue();
        assertThat(call("POST", "/api/agents/nobody/disable", null, "Authorization", "Bearer " + ConsoleFixture.BOB).statusCode()).isEqualTo(404);
    }
}
