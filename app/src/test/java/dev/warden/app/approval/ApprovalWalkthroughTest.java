package dev.warden.app.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.console.ConsoleServer;
import dev.warden.console.ConsoleServices;
import dev.warden.core.Action;
import dev.warden.core.Gate;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;
import dev.warden.core.Target;
import dev.warden.core.Verdict;
import dev.warden.core.approval.AgentSwitch;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvers;
import dev.warden.core.approval.FileApprovals;
import dev.warden.core.approval.StatedReason;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.ConsoleConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.config.LedgerConfig;
import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.FileLedger;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.LedgerException;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.metrics.Metrics;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.PostgresEngine;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The product story at the gate, with the real PostgreSQL classifier and catalog, the real approval store, the real
 * console over HTTP and a real PostgreSQL: reads run and are logged; CREATE INDEX CONCURRENTLY is held, approved
 * through the API and builds; DROP TABLE audit_log is denied and nothing is dropped. The test forwards what the gate
 * lets through exactly as a front end would (the wire front end's own walkthrough runs once it has landed).
 */
class ApprovalWalkthroughTest {
    static final String POLICY = """
            rules:
              - name: reads
                match: { kind: [read] }
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

    static EmbeddedPostgres pg;
    @TempDir static Path dir;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pgdata")).setCleanDataDirectory(true).start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE orders (id serial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), amount numeric)");
            s.execute("INSERT INTO orders (amount) SELECT i FROM generate_series(1, 5000) i");
            s.execute("CREATE TABLE audit_log (id serial PRIMARY KEY, what text)");
            s.execute("INSERT INTO audit_log (what) VALUES ('created')");
            s.execute("ANALYZE");
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (pg != null) pg.close();
    }

    @Test
    @SuppressWarnings("unchecked")
    void theStory() throws Exception {
        Path data = dir.resolve("data");
        MemoryLedger ledger = new MemoryLedger();
        FileLedger fileLedger = FileLedger.open(data, LedgerConfig.DEFAULTS);
        Ledger both = new Ledger() {
            // The file ledger is the record (and what the console's audit browser reads); the memory copy lets the
            // test look at the entries as objects.
            public long append(Entry e, Durability d) throws LedgerException {
                long seq = fileLedger.append(e, d);
                ledger.append(e, d);
                return seq;
            }
            public void writeStaged(long seq) throws LedgerException { fileLedger.writeStaged(seq); }
            public void afterSync(long seq, java.util.function.Consumer<LedgerException> then) { fileLedger.afterSync(seq, then); }
            public boolean healthy() { return fileLedger.healthy(); }
            public void close() { fileLedger.close(); }
        };
        Approvers approvers = Approvers.of(List.of(new ApproverConfig("alice", new Secret("alice-token-123"))),
                List.of(new AgentConfig("claude", new Secret("agent-secret-123"), List.of())));
        DatabaseConfig shop = new DatabaseConfig("shop", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", pg.getPort(), "postgres", "postgres", null), Duration.ofSeconds(30));
        PostgresEngine engine = new PostgresEngine();
        Catalog catalog = engine.catalog(shop, Map.of());
        try (both; FileApprovals approvals = FileApprovals.open(data, both, approvers)) {
            AgentSwitch agents = AgentSwitch.open(data, both, Set.of("claude"));
            ConsoleServer console = ConsoleServer.start(new ConsoleConfig(new HostPort("127.0.0.1", 0)),
                    new ConsoleServices(approvals, approvers, agents, data, new Metrics(), both::healthy,
                            ConsoleServices.fileLedgerVerifier(data, java.util.Optional.empty())));
            try {
                Gate gate = new Gate(Map.of("shop", new Target("shop", "postgres", engine.classifier(catalog), catalog)),
                        PolicyLoader.parse(dir.resolve("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8)), approvals, both,
                        console.url(), agents);

                // EXPLAIN and SELECTs run and are logged.
                assertThat(agent(gate, "EXPLAIN SELECT * FROM orders WHERE id = 7").run()).isTrue();
                assertThat(agent(gate, "SELECT count(*) FROM orders").run()).isTrue();

                // CREATE INDEX CONCURRENTLY is held until a person approves it through the API, then builds.
                String ddl = "/* reason: fixing slow /orders endpoint */ CREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at)";
                CompletableFuture<Verdict> held = CompletableFuture.supplyAsync(() -> agent(gate, ddl));
                HttpClient http = HttpClient.newHttpClient();
                String id = null;
                for (int i = 0; i < 200 && id == null; i++) {
                    List<Map<String, Object>> pending = new ObjectMapper().readValue(http.send(HttpRequest.newBuilder(
                                    URI.create(console.url() + "/api/requests?status=pending")).header("Authorization", "Bearer alice-token-123").build(),
                            HttpResponse.BodyHandlers.ofString()).body(), new TypeReference<>() {});
                    if (!pending.isEmpty()) {
                        assertThat(pending.getFirst()).containsEntry("reason", "fixing slow /orders endpoint")
                                .containsEntry("statement", ddl).containsEntry("rule", "schema-changes");
                        id = (String) pending.getFirst().get("id");
                    } else {
                        Thread.sleep(50);
                    }
                }
                assertThat(id).as("the held statement shows up in the queue").isNotNull();
                assertThat(held).isNotDone();
                assertThat(indexExists()).isFalse();
                HttpResponse<String> approve = http.send(HttpRequest.newBuilder(URI.create(console.url() + "/api/requests/" + id + "/approve"))
                        .header("Authorization", "Bearer alice-token-123").header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"comment\":\"ok, concurrently\"}")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(approve.statusCode()).as(approve.body()).isEqualTo(200);
                Verdict v = held.get(60, TimeUnit.SECONDS);
                assertThat(v.run()).as(String.valueOf(v.message())).isTrue();
                assertThat(indexExists()).isTrue();
                assertThat(approvals.get(id).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.USED);
                String approvalId = id;
                assertThat(ledger.entries()).filteredOn(e -> e instanceof Entry.ApprovalEntry a && a.requestId().equals(approvalId))
                        .extracting(e -> ((Entry.ApprovalEntry) e).verdict() + ":" + ((Entry.ApprovalEntry) e).approver())
                        .containsExactly("requested:null", "approved:alice", "used:null");
                assertThat(ledger.entries()).filteredOn(e -> e instanceof Entry.DecisionEntry d && approvalId.equals(d.approvalId()))
                        .singleElement().satisfies(e -> assertThat(((Entry.DecisionEntry) e).operation().text()).isEqualTo(ddl));

                // DROP TABLE audit_log is denied outright, recorded, and nothing is dropped.
                Verdict drop = agent(gate, "DROP TABLE audit_log");
                assertThat(drop.run()).isFalse();
                assertThat(drop.decision().rule()).isEqualTo("protect-audit-log");
                assertThat(drop.message()).contains("the audit log is append-only");
                assertThat(tableExists("audit_log")).isTrue();
                assertThat(ledger.entries()).filteredOn(e -> e instanceof Entry.DecisionEntry d && d.decision().action() == Action.DENY)
                        .singleElement().satisfies(e -> assertThat(((Entry.DecisionEntry) e).operation().text()).isEqualTo("DROP TABLE audit_log"));
                assertThat(ledger.entries()).filteredOn(e -> e instanceof Entry.OutcomeEntry).hasSize(3);

                // The audit browser reads the same entries from the ledger files: statement, approver, time.
                Thread.sleep(1500);  // a checkpoint covers the newest entries within checkpoint_interval (1 s)
                Map<String, Object> audit = new ObjectMapper().readValue(http.send(HttpRequest.newBuilder(
                                URI.create(console.url() + "/api/ledger?type=approval")).header("Authorization", "Bearer alice-token-123").build(),
                        HttpResponse.BodyHandlers.ofString()).body(), new TypeReference<>() {});
                List<Map<String, Object>> approvalsSeen = (List<Map<String, Object>>) audit.get("entries");
                assertThat(approvalsSeen).filteredOn(e -> "approved".equals(e.get("verdict"))).singleElement().satisfies(e -> {
                    assertThat(e).containsEntry("approver", "alice").containsEntry("request_id", approvalId)
                            .containsEntry("comment", "ok, concurrently").containsKey("time");
                });
                Map<String, Object> denials = new ObjectMapper().readValue(http.send(HttpRequest.newBuilder(
                                URI.create(console.url() + "/api/ledger?decision=deny&object=audit_log")).header("Authorization", "Bearer alice-token-123").build(),
                        HttpResponse.BodyHandlers.ofString()).body(), new TypeReference<>() {});
                assertThat((List<Map<String, Object>>) denials.get("entries")).singleElement()
                        .satisfies(e -> assertThat(e).containsEntry("statement", "DROP TABLE audit_log").containsEntry("agent", "claude"));
                assertThat((Map<String, Object>) audit.get("verification")).as(String.valueOf(audit.get("verification")))
                        .containsEntry("status", "verified");
            } finally {
                console.close();
                catalog.close();
            }
        }
    }

    /** What a front end does: ask the gate, forward only what it lets through, record the outcome. */
    static Verdict agent(Gate gate, String sql) {
        Operation op = new Operation("claude", "shop", "postgres", sql, List.of(), StatedReason.parse(sql), "s1", "127.0.0.1", null);
        Verdict v = gate.submit(op, ClassifyContext.defaults(), new Gate.Hold(h -> {}, false));
        if (!v.run()) return v;
        long t0 = System.nanoTime();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            boolean rs = s.execute(sql);
            long rows = rs ? 0 : s.getUpdateCount();
            if (rs) try (ResultSet r = s.getResultSet()) { while (r.next()) rows++; }
            gate.outcome(v, Outcome.ok(rows, (System.nanoTime() - t0) / 1000));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return v;
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
}
