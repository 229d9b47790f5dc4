package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code warden proxy} with an {@code mcp:} section, as a real process in front of a real PostgreSQL: the SDK's MCP
 * client over streamable HTTP and through {@code warden mcp} over stdio; the file ledger records every call.
 */
class McpProxyIT {
    @TempDir
    Path dir;

    @Test
    void theServiceServesMcpThroughTheGateAndRecordsIt() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE audit_log (id int, note text)");
                s.execute("INSERT INTO audit_log VALUES (1, 'first'), (2, 'second')");
                s.execute("CREATE TABLE orders (id int, item text)");
            }
            Files.writeString(dir.resolve("policy.yaml"), """
                    rules:
                      - name: protect-audit-log
                        match: {kind: [write, ddl], objects: ["public.audit_log"]}
                        action: deny
                        reason: the audit log is append-only
                      - name: reads
                        match: {kind: [read]}
                        action: allow
                      - name: order-changes
                        match: {kind: [write], objects: ["public.orders"]}
                        action: approve
                        approval: {mode: ticket}
                    """);
            Files.writeString(dir.resolve("warden.yaml"), """
                    policy: policy.yaml
                    agents:
                      - name: bot
                        secret_env: BOT_SECRET
                    approvers:
                      - name: alice
                        token_env: ALICE_TOKEN
                    console:
                      listen: 127.0.0.1:0
                    databases:
                      - name: app
                        engine: postgres
                        listen: 127.0.0.1:0
                        upstream: {host: 127.0.0.1, port: %d, database: postgres, user: postgres, password_env: UP_PW}
                    mcp:
                      listen: 127.0.0.1:0
                      max_rows: 50
                    """.formatted(pg.getPort()));
            Path target = Path.of("target").toAbsolutePath();
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String cp = target.resolve("warden-app.jar") + ":" + target.resolve("lib") + "/*";
            ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", cp,
                    "dev.warden.app.Main", "proxy", "--config", dir.resolve("warden.yaml").toString());
            pb.environment().put("BOT_SECRET", "bot-secret-value");
            pb.environment().put("UP_PW", "unused-with-trust");
            pb.environment().put("ALICE_TOKEN", "alice-approver-token");
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            Process p = pb.start();
            List<String> err = new CopyOnWriteArrayList<>();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) err.add(line);
                } catch (Exception ignored) {
                    // process ended
                }
            });
            try {
                String line = waitFor(err, "MCP endpoint ", Duration.ofSeconds(60));
                URI endpoint = URI.create(line.substring(line.indexOf("MCP endpoint ") + "MCP endpoint ".length()).trim());

                McpSyncClient http = McpClient.sync(HttpClientStreamableHttpTransport.builder("http://" + endpoint.getAuthority())
                                .endpoint(endpoint.getPath())
                                .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer bot-secret-value"))
                                .build())
                        .requestTimeout(Duration.ofSeconds(30)).build();
                try {
                    http.initialize();
                    CallToolResult read = http.callTool(new McpSchema.CallToolRequest("query",
                            Map.of("database", "app", "sql", "SELECT note FROM audit_log ORDER BY id", "reason", "audit check")));
                    assertThat(read.isError()).isFalse();
                    assertThat(text(read)).contains("[[\"first\"],[\"second\"]]");
                    CallToolResult denied = http.callTool(new McpSchema.CallToolRequest("query",
                            Map.of("database", "app", "sql", "DELETE FROM audit_log")));
                    assertThat(denied.isError()).isTrue();
                    assertThat(text(denied)).contains("protect-audit-log");
                    CallToolResult many = http.callTool(new McpSchema.CallToolRequest("query",
                            Map.of("database", "app", "sql", "SELECT g FROM generate_series(1, 500) g")));
                    assertThat(text(many)).contains("\"truncated\":true").contains("max_rows (50)");

                    // Approval through the console API, then run_approved runs the statement once.
                    String insert = "INSERT INTO orders VALUES (1, 'approved')";
                    CallToolResult pending = http.callTool(new McpSchema.CallToolRequest("query",
                            Map.of("database", "app", "sql", insert, "reason", "customer order")));
                    assertThat(pending.isError()).as(text(pending)).isFalse();
                    @SuppressWarnings("unchecked")
                    String id = (String) ((Map<String, Object>) pending.structuredContent()).get("approval_id");
                    assertThat(id).isNotBlank();
                    String consoleLine = waitFor(err, "console on ", Duration.ofSeconds(5));
                    String console = consoleLine.substring(consoleLine.indexOf("console on ") + "console on ".length()).trim();
                    HttpResponse<String> approved = HttpClient.newHttpClient().send(
                            HttpRequest.newBuilder(URI.create(console + "/api/requests/" + id + "/approve"))
                                    .header("Authorization", "Bearer alice-approver-token").header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString("{\"comment\":\"ok\"}")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
                    CallToolResult ran = http.callTool(new McpSchema.CallToolRequest("run_approved", Map.of("id", id)));
                    assertThat(ran.isError()).as(text(ran)).isFalse();
                    CallToolResult again = http.callTool(new McpSchema.CallToolRequest("run_approved", Map.of("id", id)));
                    assertThat(again.isError()).isTrue();
                } finally {
                    http.closeGracefully();
                }

                McpSyncClient stdio = McpClient.sync(new StdioClientTransport(ServerParameters.builder(java)
                                .args("--enable-native-access=ALL-UNNAMED", "-cp", cp, "dev.warden.app.Main",
                                        "mcp", "--url", endpoint.toString(), "--agent", "bot")
                                .addEnvVar("WARDEN_AGENT_SECRET", "bot-secret-value").build(),
                                new JacksonMcpJsonMapper(new ObjectMapper())))
                        .requestTimeout(Duration.ofSeconds(30)).initializationTimeout(Duration.ofSeconds(30)).build();
                try {
                    stdio.initialize();
                    CallToolResult read = stdio.callTool(new McpSchema.CallToolRequest("query",
                            Map.of("database", "app", "sql", "SELECT count(*) FROM audit_log")));
                    assertThat(text(read)).contains("[[\"2\"]]");
                    CallToolResult drop = stdio.callTool(new McpSchema.CallToolRequest("query",
                            Map.of("database", "app", "sql", "DROP TABLE audit_log")));
                    assertThat(drop.isError()).isTrue();
                } finally {
                    stdio.closeGracefully();
                }

                McpSyncClient wrong = McpClient.sync(HttpClientStreamableHttpTransport.builder("http://" + endpoint.getAuthority())
                        .endpoint(endpoint.getPath())
                        .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer not-it")).build())
                        .requestTimeout(Duration.ofSeconds(10)).build();
                assertThatThrownBy(wrong::initialize).isInstanceOf(Exception.class);

                p.destroy();
                assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
            } finally {
                p.destroyForcibly();
            }
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_log")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
            Path data = dir.resolve("warden-data");
            WardenProcess.Result search = WardenProcess.run(null, "audit", "search", "--data-dir", data.toString(),
                    "--agent", "bot", "--decision", "deny");
            assertThat(search.exit()).as(search.stderr()).isZero();
            assertThat(search.stdout()).contains("DELETE FROM audit_log").contains("DROP TABLE audit_log");
            WardenProcess.Result verify = WardenProcess.run(null, "audit", "verify", "--data-dir", data.toString());
            assertThat(verify.exit()).as(verify.stdout() + verify.stderr()).isZero();
        }
    }

    private static String text(CallToolResult r) {
        return ((McpSchema.TextContent) r.content().getFirst()).text();
    }

    private static String waitFor(List<String> lines, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String l : new ArrayList<>(lines)) if (l.contains(text)) return l;
            Thread.sleep(50);
        }
        throw new AssertionError("no line containing '" + text + "' in:\n" + String.join("\n", lines));
    }
}
