package dev.warden.app.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.console.ConsoleServer;
import dev.warden.console.ConsoleServices;
import dev.warden.core.Gate;
import dev.warden.core.Target;
import dev.warden.core.approval.AgentSwitch;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvers;
import dev.warden.core.approval.FileApprovals;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.ConsoleConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.LedgerConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.ledger.FileLedger;
import dev.warden.core.metrics.Metrics;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.PostgresEngine;
import dev.warden.postgres.wire.PgFrontEnd;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The product story end to end through the real PostgreSQL wire front end, with pgjdbc as the agent: EXPLAIN and
 * SELECTs run and are logged; CREATE INDEX CONCURRENTLY is held, approved through the console API, and builds; the
 * ledger shows statement, approver and time; DROP TABLE audit_log is denied outright, recorded, and nothing is dropped.
 */
class WireWalkthroughTest {
    static final String POLICY = """
            rules:
              - name: reads
                match: { kind: [read] }
                action: allow
              - name: session-settings
                match: { kind: [session] }
                action: allow
              - name: protect-audit-log
                match: { objects: ["public.audit_log"] }
                action: deny
                reason: the audit log is append-only
              - name: schema-changes
                match: { kind: [ddl] }
                action: approve
                approval: { mode: hold, timeout: 1m }
            """;

    @TempDir static Path dir;
    static EmbeddedPostgres pg;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pgdata")).setCleanDataDirectory(true).start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE warden_up LOGIN PASSWORD 'up-password-1'");
            s.execute("CREATE TABLE orders (id serial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), amount numeric)");
            s.execute("INSERT INTO orders (amount) SELECT i FROM generate_series(1, 5000) i");
            s.execute("CREATE TABLE audit_log (id serial PRIMARY KEY, what text)");
            s.execute("INSERT INTO audit_log (what) VALUES ('created')");
            s.execute("ALTER TABLE orders OWNER TO warden_up");
            s.execute("ALTER TABLE audit_log OWNER TO warden_up");
            s.execute("GRANT CREATE ON SCHEMA public TO warden_up");
            s.execute("ANALYZE");
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) pg.close();
    }

    @Test
    @SuppressWarnings("unchecked")
    void theStoryThroughTheWire() throws Exception {
        Path data = dir.resolve("data");
        Path policyFile = Files.writeString(dir.resolve("policy.yaml"), POLICY);
        DatabaseConfig shop = new DatabaseConfig("shop", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", pg.getPort(), "postgres", "warden_up", new Secret("up-password-1")), Duration.ofSeconds(30));
        List<AgentConfig> agentConfigs = List.of(new AgentConfig("claude", new Secret("agent-secret-123"), List.of()));
        List<ApproverConfig> approverConfigs = List.of(new ApproverConfig("alice", new Secret("alice-token-123")));
        WardenConfig config = new WardenConfig(dir.resolve("warden.yaml"), data, policyFile, agentConfigs, approverConfigs,
                List.of(shop), Map.of(), Optional.empty());
        PostgresEngine engine = new PostgresEngine();
        Catalog catalog = engine.catalog(shop, Map.of());
        Approvers approvers = Approvers.of(approverConfigs, agentConfigs);
        try (FileLedger ledger = FileLedger.open(data, LedgerConfig.DEFAULTS);
             FileApprovals approvals = FileApprovals.open(data, ledger, approvers)) {
            AgentSwitch agents = AgentSwitch.open(data, ledger, approvers.agents());
            ConsoleServer console = ConsoleServer.start(new ConsoleConfig(new HostPort("127.0.0.1", 0)),
                    new ConsoleServices(approvals, approvers, agents, data, new Metrics(), ledger::healthy,
                            ConsoleServices.fileLedgerVerifier(data, java.util.Optional.empty())));
            Gate gate = new Gate(Map.of("shop", new Target("shop", "postgres", engine.classifier(catalog), catalog)),
                    PolicyLoader.parse(policyFile, POLICY.getBytes(StandardCharsets.UTF_8)), approvals, ledger, console.url(), agents);
            PgFrontEnd frontEnd = new PgFrontEnd(new FrontEndContext(gate, config, List.of(shop)), null, System.err::println);
            frontEnd.start();
            HttpClient http = HttpClient.newHttpClient();
            String jdbc = "jdbc:postgresql://127.0.0.1:" + frontEnd.port() + "/shop?sslmode=disable";
            try (Connection agent = DriverManager.getConnection(jdbc, "claude", "agent-secret-123");
                 Statement s = agent.createStatement()) {
                // EXPLAIN and SELECTs run.
                try (ResultSet r = s.executeQuery("EXPLAIN SELECT * FROM orders WHERE id = 7")) {
                    assertThat(r.next()).isTrue();
                }
                try (ResultSet r = s.executeQuery("SELECT count(*) FROM orders")) {
                    r.next();
                    assertThat(r.getLong(1)).isEqualTo(5000);
                }

                // CREATE INDEX CONCURRENTLY is held until alice approves it through the API; then it builds.
                String ddl = "/* reason: fixing slow /orders endpoint */ CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at)";
                CompletableFuture<Void> held = CompletableFuture.runAsync(() -> {
                    try {
                        s.execute(ddl);
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                String id = null;
                for (int i = 0; i < 300 && id == null; i++) {
                    List<Map<String, Object>> pending = new ObjectMapper().readValue(http.send(HttpRequest.newBuilder(
                                    URI.create(console.url() + "/api/requests?status=pending")).header("Authorization", "Bearer alice-token-123").build(),
                            HttpResponse.BodyHandlers.ofString()).body(), new TypeReference<>() {});
                    if (pending.isEmpty()) {
                        Thread.sleep(50);
                        continue;
                    }
                    assertThat(pending.getFirst()).containsEntry("statement", ddl).containsEntry("agent", "claude")
                            .containsEntry("reason", "fixing slow /orders endpoint").containsEntry("rule", "schema-changes");
                    id = (String) pending.getFirst().get("id");
                }
                assertThat(id).as("the held statement is in the queue").isNotNull();
                Thread.sleep(200);
                assertThat(held).as("the agent's statement waits").isNotDone();
                assertThat(indexExists()).isFalse();
                HttpResponse<String> approve = http.send(HttpRequest.newBuilder(URI.create(console.url() + "/api/requests/" + id + "/approve"))
                        .header("Authorization", "Bearer alice-token-123").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"comment\":\"go ahead\"}")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(approve.statusCode()).as(approve.body()).isEqualTo(200);
                held.get(60, TimeUnit.SECONDS);
                assertThat(indexExists()).as("the index was built").isTrue();
                assertThat(approvals.get(id).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.USED);

                // DROP TABLE audit_log is denied outright with PostgreSQL's own error; nothing is dropped.
                assertThatThrownBy(() -> s.execute("DROP TABLE audit_log")).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("42501");
                    assertThat(e.getMessage()).contains("protect-audit-log");
                });
                assertThat(tableExists("audit_log")).isTrue();
            } finally {
                frontEnd.close();
                console.close();
                catalog.close();
            }

            // The ledger: the held statement's decision, alice's approval with its time, and the denial.
            Thread.sleep(1500);
            ConsoleServer reader = ConsoleServer.start(new ConsoleConfig(new HostPort("127.0.0.1", 0)),
                    new ConsoleServices(approvals, approvers, agents, data, new Metrics(), ledger::healthy,
                            ConsoleServices.fileLedgerVerifier(data, java.util.Optional.empty())));
            try {
                Map<String, Object> all = new ObjectMapper().readValue(http.send(HttpRequest.newBuilder(URI.create(reader.url() + "/api/ledger"))
                        .header("Authorization", "Bearer alice-token-123").build(), HttpResponse.BodyHandlers.ofString()).body(), new TypeReference<>() {});
                List<Map<String, Object>> entries = (List<Map<String, Object>>) all.get("entries");
                assertThat(entries).filteredOn(e -> "approval".equals(e.get("type")) && "approved".equals(e.get("verdict")))
                        .singleElement().satisfies(e -> assertThat(e).containsEntry("approver", "alice").containsKey("time")
                                .containsEntry("comment", "go ahead"));
                assertThat(entries).filteredOn(e -> "decision".equals(e.get("type")) && String.valueOf(e.get("statement")).contains("CREATE INDEX CONCURRENTLY"))
                        .isNotEmpty().allSatisfy(e -> assertThat(e).containsEntry("decision", "approve"));
                assertThat(entries).filteredOn(e -> "decision".equals(e.get("type")) && "DROP TABLE audit_log".equals(e.get("statement")))
                        .singleElement().satisfies(e -> assertThat(e).containsEntry("decision", "deny").containsEntry("rule", "protect-audit-log"));
                assertThat(entries).filteredOn(e -> "decision".equals(e.get("type")) && "allow".equals(e.get("decision"))
                        && String.valueOf(e.get("statement")).startsWith("EXPLAIN")).isNotEmpty();
                assertThat((Map<String, Object>) all.get("verification")).as(String.valueOf(all.get("verification")))
                        .containsEntry("status", "verified");
            } finally {
                reader.close();
            }
        }
    }

    static boolean indexExists() throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_created_idx'")) {
            r.next();
            return r.getInt(1) == 1;
        }
    }

    static boolean tableExists(String name) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT to_regclass('public." + name + "') IS NOT NULL")) {
            r.next();
            return r.getBoolean(1);
        }
    }

    @Test
    void killSwitchEndsLiveSessionsAndRefusesNewOnes() throws Exception {
        Path data = dir.resolve("data-kill");
        Path policyFile = Files.writeString(dir.resolve("policy-kill.yaml"), POLICY);
        DatabaseConfig shop = new DatabaseConfig("shop", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", pg.getPort(), "postgres", "warden_up", new Secret("up-password-1")), Duration.ofSeconds(30));
        List<AgentConfig> agentConfigs = List.of(new AgentConfig("claude", new Secret("agent-secret-123"), List.of()));
        List<ApproverConfig> approverConfigs = List.of(new ApproverConfig("alice", new Secret("alice-token-123")));
        WardenConfig config = new WardenConfig(dir.resolve("warden.yaml"), data, policyFile, agentConfigs, approverConfigs,
                List.of(shop), Map.of(), Optional.empty());
        PostgresEngine engine = new PostgresEngine();
        Approvers approvers = Approvers.of(approverConfigs, agentConfigs);
        try (FileLedger ledger = FileLedger.open(data, LedgerConfig.DEFAULTS);
             FileApprovals approvals = FileApprovals.open(data, ledger, approvers)) {
            AgentSwitch agents = AgentSwitch.open(data, ledger, approvers.agents());
            ConsoleServer console = ConsoleServer.start(new ConsoleConfig(new HostPort("127.0.0.1", 0)),
                    new ConsoleServices(approvals, approvers, agents, data, new Metrics(), ledger::healthy, null));
            Gate gate = new Gate(Map.of("shop", new Target("shop", "postgres", engine.classifier(Catalog.NONE), Catalog.NONE)),
                    PolicyLoader.parse(policyFile, POLICY.getBytes(StandardCharsets.UTF_8)), approvals, ledger, console.url(), agents);
            PgFrontEnd frontEnd = new PgFrontEnd(new FrontEndContext(gate, config, List.of(shop)), null, System.err::println);
            frontEnd.start();
            HttpClient http = HttpClient.newHttpClient();
            String jdbc = "jdbc:postgresql://127.0.0.1:" + frontEnd.port() + "/shop?sslmode=disable";
            try (Connection live = DriverManager.getConnection(jdbc, "claude", "agent-secret-123")) {
                try (Statement s = live.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
                    assertThat(r.next()).isTrue();
                }
                HttpResponse<String> off = http.send(HttpRequest.newBuilder(URI.create(console.url() + "/api/agents/claude/disable"))
                        .header("Authorization", "Bearer alice-token-123").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"comment\":\"runaway loop\"}")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
                // The live session is ended...
                assertThatThrownBy(() -> {
                    try (Statement s = live.createStatement()) {
                        s.executeQuery("SELECT 1");
                    }
                }).isInstanceOf(SQLException.class);
                // ...and a new one is refused.
                assertThatThrownBy(() -> DriverManager.getConnection(jdbc, "claude", "agent-secret-123").close())
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains("disabled"));
                HttpResponse<String> on = http.send(HttpRequest.newBuilder(URI.create(console.url() + "/api/agents/claude/enable"))
                        .header("Authorization", "Bearer alice-token-123").POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(on.statusCode()).isEqualTo(200);
                try (Connection again = DriverManager.getConnection(jdbc, "claude", "agent-secret-123");
                     Statement s = again.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
                    assertThat(r.next()).isTrue();
                }
            } finally {
                frontEnd.close();
                console.close();
            }
        }
    }
}
