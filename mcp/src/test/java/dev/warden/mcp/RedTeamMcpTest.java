package dev.warden.mcp;

import static dev.warden.mcp.McpHttpTest.call;
import static dev.warden.mcp.McpHttpTest.data;
import static dev.warden.mcp.McpHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Gate;
import dev.warden.core.Target;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Engine;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyLoader;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Red-team findings against the MCP server: each test states the invariant and FAILS while the bug is present.
 * The first group uses the shared {@link McpFixture} (its policy, a 2 s statement timeout, 1000 rows / 1 MiB caps);
 * the second a fixture with two agents on the same database and a policy that denies reading one table.
 */
class RedTeamMcpTest {
    static McpFixture f;
    static McpSyncClient client;

    @BeforeAll
    static void start() throws Exception {
        f = McpFixture.start();
        client = f.httpClient(McpFixture.SECRET);
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) client.closeGracefully();
        if (f != null) f.close();
    }

    // ---- 1. the database's statement_timeout (a configured limit) can be lifted by the agent ---------------------

    /**
     * The wire front end refuses any change to statement_timeout whatever the policy says (SqlSessionTracking:
     * "statement_timeout is set by Warden for this database; agents cannot change it"). The MCP path has no such
     * check: with a policy that allows set_config (as the fixture's does), a multi-statement text lifts the timeout
     * for the statements after it (PostgreSQL re-arms the timer per statement of a simple query).
     */
    @Test
    void anAgentCannotLiftTheDatabasesStatementTimeout() throws Exception {
        String sql = "SELECT set_config('statement_timeout', '0', false); SELECT pg_sleep(4) /* red-timeout */";
        CompletableFuture<CallToolResult> r = async(() -> call(client, "query",
                Map.of("database", "app", "sql", sql)));
        Thread.sleep(3000); // the database's statement_timeout is 2 s
        long stillRunning = f.count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                + " AND query LIKE '%red-timeout%' AND pid <> pg_backend_pid()");
        CallToolResult res = r.get();
        assertThat(stillRunning).as("a backend still running the agent's statement after the 2 s timeout").isZero();
        assertThat(res.isError()).as(text(res)).isTrue();
    }

    // ---- 2. the read-only transaction ("second fence") is ended by the agent's own text ---------------------------

    /**
     * Allowed reads run inside START TRANSACTION READ ONLY ... ROLLBACK. A READ-classified text may start with
     * COMMIT / ROLLBACK (TCL ranks below READ) or SET TRANSACTION READ WRITE, after which the rest of the text runs
     * read-write: the fence is gone for every statement the classifier wrongly called a read.
     */
    @Test
    void aReadCannotLeaveItsReadOnlyTransaction() {
        for (String sql : List.of(
                "COMMIT; SELECT current_setting('transaction_read_only')",
                "ROLLBACK; SELECT current_setting('transaction_read_only')",
                "SET TRANSACTION READ WRITE; SELECT current_setting('transaction_read_only')")) {
            CallToolResult r = call(client, "query", Map.of("database", "app", "sql", sql));
            if (r.isError()) continue; // refused: the fence holds
            assertThat(data(r).get("rows")).as(sql).isEqualTo(List.of(List.of("on")));
        }
    }

    // ---- 3. max_rows / max_bytes do not apply to database error messages -----------------------------------------

    /**
     * A result is capped at max_rows (1000) and max_bytes (1 MiB), but a database error's message is returned whole
     * (twice: in the text and in the structured content) and recorded whole in the ledger. Casting an aggregate of
     * any readable data to int returns all of it in the 22P02 message.
     */
    @Test
    void anErrorMessageDoesNotCarryMoreThanTheCaps() throws Exception {
        String sql = "SELECT (SELECT string_agg(g::text, ',') FROM generate_series(1, 300000) g)::int";
        CallToolResult r = call(client, "query", Map.of("database", "app", "sql", sql));
        long maxBytes = f.config.mcp().orElseThrow().maxBytes();
        int maxRows = f.config.mcp().orElseThrow().maxRows();
        assertThat(text(r).getBytes(StandardCharsets.UTF_8).length).as("bytes of the answer").isLessThanOrEqualTo((int) maxBytes);
        assertThat(text(r)).as("values beyond max_rows").doesNotContain("," + (maxRows + 1000) + ",");
    }

    // ---- 4. an MCP session is not bound to the agent that opened it ----------------------------------------------

    /** Another agent's token, with the victim's Mcp-Session-Id, terminates the victim's MCP session. */
    @Test
    void anotherAgentCannotEndAnAgentsMcpSession() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                + "\"capabilities\":{},\"clientInfo\":{\"name\":\"victim\",\"version\":\"1\"}}}";
        HttpResponse<String> opened = http.send(post(init, McpFixture.SECRET, null), HttpResponse.BodyHandlers.ofString());
        String session = opened.headers().firstValue("Mcp-Session-Id").orElseThrow();
        http.send(post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", McpFixture.SECRET, session),
                HttpResponse.BodyHandlers.ofString());
        HttpRequest kill = HttpRequest.newBuilder(f.server.endpoint()).header("Authorization", "Bearer " + McpFixture.OTHER_SECRET)
                .header("Mcp-Session-Id", session).DELETE().build();
        HttpResponse<String> killed = http.send(kill, HttpResponse.BodyHandlers.ofString());
        String list = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{}}";
        HttpResponse<String> after = http.send(post(list, McpFixture.SECRET, session), HttpResponse.BodyHandlers.ofString());
        assertThat(after.statusCode()).as("the victim's session after reporting-agent's DELETE (" + killed.statusCode() + ")")
                .isEqualTo(200);
    }

    private static HttpRequest post(String body, String token, String session) {
        HttpRequest.Builder b = HttpRequest.newBuilder(f.server.endpoint()).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (session != null) b.header("Mcp-Session-Id", session);
        return b.build();
    }

    // ---- 5/6. two agents on one database, a policy that denies reading one table --------------------------------

    static final String POLICY = """
            rules:
              - name: no-secrets
                match: { objects: ["public.api_keys"] }
                action: deny
                reason: nobody reads the keys
              - name: reads
                match: { kind: [read] }
                action: allow
              - name: sleeps
                match: { kind: [read], functions: ["pg_catalog.pg_sleep"] }
                action: allow
            """;

    /** describe showed tables the policy denies reading (its catalog queries are Warden's own, not judged). */
    @Test
    void describeHidesWhatThePolicyDenies() throws Exception {
        // What it shows is limited to what the agent could read; that it is recorded: McpDescribeLedgerTest.
        try (TwoAgents t = TwoAgents.start()) {
            CallToolResult denied = call(t.a, "query", Map.of("database", "app", "sql", "SELECT * FROM api_keys"));
            assertThat(denied.isError()).as(text(denied)).isTrue();
            CallToolResult d = call(t.a, "describe", Map.of("database", "app"));
            assertThat(d.isError()).as(text(d)).isFalse();
            assertThat(text(d)).as("describe of a table the policy denies").doesNotContain("api_keys")
                    .doesNotContain("key_value");
        }
    }

    // Every agent runs as Warden's one database role, so pg_stat_activity shows each agent the others' statements:
    // a known limit (README); a policy rule denying reads of pg_catalog.pg_stat_activity closes it.

    /** On a platform thread of its own (the SDK's blocking client stalls on a common-pool thread). */
    static <T> CompletableFuture<T> async(java.util.function.Supplier<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                f.complete(work.get());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    static long countOn(EmbeddedPostgres pg, String sql) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static final class TwoAgents implements AutoCloseable {
        EmbeddedPostgres pg;
        McpServer server;
        MemoryLedger ledger;
        Catalog catalog;
        McpSyncClient a;
        McpSyncClient b;

        static TwoAgents start() throws Exception {
            TwoAgents t = new TwoAgents();
            t.pg = EmbeddedPostgres.builder().start();
            try (Connection c = t.pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE api_keys (id int PRIMARY KEY, key_value text)");
                s.execute("INSERT INTO api_keys VALUES (1, 'sk-live-secret')");
                s.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
            }
            DatabaseConfig app = new DatabaseConfig("app", "postgres", new HostPort("127.0.0.1", 0),
                    new UpstreamConfig("127.0.0.1", t.pg.getPort(), "postgres", "postgres", null), Duration.ofSeconds(5));
            WardenConfig config = new WardenConfig(Path.of("warden.yaml").toAbsolutePath(), Path.of("data"), Path.of("policy.yaml"),
                    List.of(new AgentConfig("agent-a", new Secret("agent-a-secret-0123456789"), List.of("app")),
                            new AgentConfig("agent-b", new Secret("agent-b-secret-0123456789"), List.of("app"))),
                    List.of(), List.of(app), Map.of(), Optional.empty(),
                    Optional.of(new McpConfig(new HostPort("127.0.0.1", 0), Optional.empty(), 1000, 1024 * 1024)));
            Policy policy = PolicyLoader.parse(Path.of("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8));
            Engine engine = new McpFixture.StandInEngine();
            t.ledger = new MemoryLedger();
            t.catalog = engine.catalog(app, config.tags());
            Gate gate = new Gate(Map.of("app", new Target("app", "postgres", engine.classifier(t.catalog), t.catalog)),
                    policy, McpFixture.approvals(t.ledger), t.ledger, null);
            t.server = McpServer.start(gate, config, d -> engine, n -> false, null);
            t.a = client(t.server, "agent-a-secret-0123456789");
            t.b = client(t.server, "agent-b-secret-0123456789");
            return t;
        }

        static McpSyncClient client(McpServer server, String token) {
            var e = server.endpoint();
            var tr = io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport
                    .builder(e.getScheme() + "://" + e.getAuthority()).endpoint(e.getPath())
                    .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + token)).build();
            McpSyncClient c = io.modelcontextprotocol.client.McpClient.sync(tr).requestTimeout(Duration.ofSeconds(30))
                    .clientInfo(new io.modelcontextprotocol.spec.McpSchema.Implementation("red", "1")).build();
            c.initialize();
            return c;
        }

        @Override
        public void close() throws Exception {
            try {
                if (a != null) a.closeGracefully();
                if (b != null) b.closeGracefully();
            } finally {
                if (server != null) server.close();
                if (catalog != null) catalog.close();
                if (pg != null) pg.close();
            }
        }
    }
}
