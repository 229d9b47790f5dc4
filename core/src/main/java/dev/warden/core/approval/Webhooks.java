package dev.warden.core.approval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.config.WebhookConfig;
import dev.warden.core.ledger.Redactor;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Announces each new approval request to the configured webhooks. Delivery runs on its own virtual thread per
 * request and hook, with exponential back-off; failures are logged. The gate is never blocked by a slow or dead hook.
 */
public final class Webhooks implements Consumer<ApprovalEvent> {
    private static final System.Logger LOG = System.getLogger(Webhooks.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<WebhookConfig> hooks;
    private final String consoleUrl;
    private final HttpClient client;
    private final Redactor redactor;
    private final int attempts;
    private final Duration firstDelay;

    /**
     * @param consoleUrl the console's public URL, for links; may be {@code null}
     * @param redactor   the ledger's: a request leaves Warden as redacted as the ledger records it (a password in an
     *                   {@code ALTER ROLE} does not go to a chat channel)
     */
    public Webhooks(List<WebhookConfig> hooks, String consoleUrl, Redactor redactor) {
        this(hooks, consoleUrl, redactor, 5, Duration.ofSeconds(1));
    }

    public Webhooks(List<WebhookConfig> hooks, String consoleUrl, Redactor redactor, int attempts, Duration firstDelay) {
        this.hooks = List.copyOf(hooks);
        this.consoleUrl = consoleUrl;
        this.redactor = redactor;
        this.attempts = attempts;
        this.firstDelay = firstDelay;
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public void accept(ApprovalEvent e) {
        if (!"requested".equals(e.type())) return;
        for (WebhookConfig h : hooks) {
            Thread.ofVirtual().name("webhook-" + e.request().id()).start(() -> deliver(h, e.request()));
        }
    }

    private void deliver(WebhookConfig hook, ApprovalRequest r) {
        byte[] body;
        try {
            body = JSON.writeValueAsBytes(hook.format() == WebhookConfig.Format.SLACK ? slack(r) : json(r));
        } catch (JsonProcessingException ex) {
            LOG.log(System.Logger.Level.ERROR, "webhook payload for " + r.id() + " could not be built: " + ex);
            return;
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(hook.url()).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").header("User-Agent", "warden")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (hook.secret() != null) b.header("X-Warden-Signature", "sha256=" + sign(hook.secret().value(), body));
        HttpRequest request = b.build();
        Duration delay = firstDelay;
        for (int i = 1; i <= attempts; i++) {
            String problem;
            try {
                HttpResponse<Void> resp = client.send(request, HttpResponse.BodyHandlers.discarding());
                if (resp.statusCode() / 100 == 2) return;
                problem = "HTTP " + resp.statusCode();
            } catch (java.io.IOException ex) {
                problem = ex.toString();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            }
            LOG.log(System.Logger.Level.WARNING, "webhook " + hook.url().getHost() + " for request " + r.id()
                    + " failed (attempt " + i + " of " + attempts + "): " + problem);
            if (i == attempts) break;
            try {
                Thread.sleep(delay);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            }
            delay = delay.multipliedBy(2);
        }
        LOG.log(System.Logger.Level.ERROR, "webhook " + hook.url().getHost() + " gave up on request " + r.id());
    }

    private String link(ApprovalRequest r) {
        return consoleUrl == null ? null : consoleUrl + "/#/requests/" + r.id();
    }

    Map<String, Object> json(ApprovalRequest r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "approval.requested");
        m.put("sent", Instant.now().toString());
        m.put("url", link(r));
        Map<String, Object> request = ApprovalJson.write(r);
        redactor.redactOperation(request, r.operation().engine());
        m.put("request", request);
        return m;
    }

    Map<String, Object> slack(ApprovalRequest r) {
        String stmt = redactor.redact(r.operation().engine(), r.operation().text());
        if (stmt.length() > 1500) stmt = stmt.substring(0, 1500) + "…";
        String link = link(r);
        StringBuilder t = new StringBuilder();
        t.append(":warning: *Approval needed* — agent `").append(esc(r.operation().agent())).append("` on `")
                .append(esc(r.operation().database())).append("` (rule \"").append(esc(String.valueOf(r.decision().rule())))
                .append("\", ").append(r.classification().kind().label()).append(")\n```")
                .append(esc(stmt).replace("```", "`\u200b``")).append("```");
        if (!r.operation().reason().isEmpty()) t.append("\nAgent's stated reason (unverified): ").append(esc(r.operation().reason()));
        if (r.inTransaction()) t.append("\n:lock: held inside an open transaction: its locks are held while it waits");
        if (link != null) t.append("\n<").append(link).append("|Review request ").append(r.id()).append('>');
        return Map.of("text", t.toString());
    }

    /** Slack's control characters in text: &, < and >. */
    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String sign(String secret, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
