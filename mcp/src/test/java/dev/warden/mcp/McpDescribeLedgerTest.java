package dev.warden.mcp;

import static dev.warden.mcp.McpHttpTest.call;
import static dev.warden.mcp.McpHttpTest.data;
import static dev.warden.mcp.McpHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Action;
import dev.warden.core.Gate;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Classifier;
import dev.warden.core.engine.DoctorCheck;
import dev.warden.core.engine.Engine;
import dev.warden.core.engine.FrontEnd;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.engine.UpstreamSession;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.FullDiskLedger;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * describe reads the database (Warden's own catalog queries), so it is recorded like every other action that reaches
 * a database: a decision entry naming the agent, the database and the exact texts before they run, an outcome entry
 * with how many tables were described after; and nothing runs when the ledger cannot record it.
 */
class McpDescribeLedgerTest {
    @Test
    void describeIsRecordedBeforeItRunsAndItsOutcomeAfter() throws Exception {
        try (RedTeamMcpTest.TwoAgents t = RedTeamMcpTest.TwoAgents.start()) {
            int before = t.ledger.entries().size();
            CallToolResult r = call(t.a, "describe", Map.of("database", "app"));
            assertThat(r.isError()).as(text(r)).isFalse();
            List<?> tables = (List<?>) data(r).get("tables");
            assertThat(text(r)).doesNotContain("api_keys"); // denied by the policy: not shown, as before

            List<Entry> all = t.ledger.entries();
            int at = -1;
            for (int i = before; i < all.size(); i++) {
                if (all.get(i) instanceof Entry.DecisionEntry d && d.operation().agent().equals("agent-a")
                        && d.operation().text().contains("information_schema.columns")) {
                    at = i;
                }
            }
            assertThat(at).as("a decision entry for agent-a's describe in " + all.subList(before, all.size())).isNotNegative();
            Entry.DecisionEntry d = (Entry.DecisionEntry) all.get(at);
            assertThat(d.operation().database()).isEqualTo("app");
            assertThat(d.operation().engine()).isEqualTo("postgres");
            assertThat(d.operation().sessionId()).isNotBlank();
            // The exact texts that ran: Warden's own catalog queries, not anything the agent sent.
            assertThat(d.operation().text()).contains("information_schema.columns").contains("pg_catalog.pg_indexes");
            // Classified as the gate classifies any text (information_schema's views call SQL functions, which
            // the classifier cannot prove read-only): the ledger says truthfully what was read.
            assertThat(d.classification().statements()).hasSize(2);
            assertThat(d.classification().statements()).flatExtracting(s -> s.objects())
                    .extracting(o -> o.name() + ":" + o.access())
                    .contains("information_schema.columns:READ", "pg_catalog.pg_indexes:READ");
            assertThat(d.decision().action()).isEqualTo(Action.ALLOW);
            assertThat(String.join(" ", d.decision().reasons())).contains("describe");
            assertThat(d.policyHash()).isNotBlank();
            long seq = at; // MemoryLedger: the seq is the index
            assertThat(all.subList(at + 1, all.size())).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(
                    Entry.OutcomeEntry.class, o -> {
                        assertThat(o.decisionSeq()).isEqualTo(seq);
                        assertThat(o.outcome().status()).isEqualTo("ok");
                        assertThat(o.outcome().rows()).as("tables described").isEqualTo(tables.size()).isEqualTo(1);
                    }));
        }
    }

    /**
     * list_databases and approval_status read only Warden's own state, and left no entry: "every tool call is
     * recorded" held for all tools but these two, so an agent's probing of what it may use and of its requests was
     * invisible to an auditor. Each is now a decision entry (allowed by no rule, engine mcp) and an outcome.
     */
    @Test
    void listDatabasesAndApprovalStatusAreRecorded() throws Exception {
        try (RedTeamMcpTest.TwoAgents t = RedTeamMcpTest.TwoAgents.start()) {
            int before = t.ledger.entries().size();
            assertThat(call(t.a, "list_databases", Map.of()).isError()).isFalse();
            assertThat(call(t.a, "approval_status", Map.of("id", "no-such-request")).isError()).isTrue();
            List<Entry> added = t.ledger.entries().subList(before, t.ledger.entries().size());
            assertThat(added).filteredOn(e -> e instanceof Entry.DecisionEntry).extracting(e -> (Entry.DecisionEntry) e)
                    .extracting(d -> d.operation().agent() + "|" + d.operation().engine() + "|" + d.operation().text() + "|"
                            + d.decision().action())
                    .containsExactly("agent-a|mcp|-- list_databases|ALLOW", "agent-a|mcp|-- approval_status no-such-request|ALLOW");
            assertThat(added).filteredOn(e -> e instanceof Entry.OutcomeEntry).extracting(e -> ((Entry.OutcomeEntry) e).outcome().status())
                    .containsExactly("ok", "error");
        }
    }

    @Test
    void aDescribeThatCannotReachTheDatabaseIsRecordedWithItsError() throws Exception {
        try (McpFixture f = McpFixture.start()) {
            McpSyncClient c = f.httpClient(McpFixture.SECRET);
            try {
                f.pg.close(); // the upstream is gone
                int before = f.ledger.entries().size();
                CallToolResult r = call(c, "describe", Map.of("database", "app"));
                assertThat(r.isError()).as(text(r)).isTrue();
                List<Entry> added = f.ledger.entries().subList(before, f.ledger.entries().size());
                assertThat(added).anySatisfy(e -> assertThat(e).isInstanceOf(Entry.DecisionEntry.class));
                assertThat(added).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Entry.OutcomeEntry.class,
                        o -> assertThat(o.outcome().status()).isEqualTo("error")));
            } finally {
                c.closeGracefully();
            }
        }
    }

    @Test
    void nothingRunsWhenTheLedgerCannotRecordTheDescribe() throws Exception {
        try (McpFixture f = McpFixture.start()) {
            Gate broken = new Gate(Map.of("app", f.gate.target("app").orElseThrow()), f.gate.policy(), f.approvals,
                    new FullDiskLedger(), null);
            Counting engine = new Counting();
            try (McpServer server = McpServer.start(broken, f.config, d -> engine, n -> false, null)) {
                McpSyncClient c = RedTeamMcpTest.TwoAgents.client(server, McpFixture.SECRET);
                try {
                    CallToolResult r = call(c, "describe", Map.of("database", "app"));
                    assertThat(r.isError()).as(text(r)).isTrue();
                    assertThat(text(r)).contains("ledger").doesNotContain("orders");
                    assertThat(engine.connects.get()).as("upstream sessions opened").isZero();
                    // The same as query, which has always failed closed.
                    CallToolResult q = call(c, "query", Map.of("database", "app", "sql", "SELECT 1"));
                    assertThat(q.isError()).as(text(q)).isTrue();
                    assertThat(engine.connects.get()).isZero();
                } finally {
                    c.closeGracefully();
                }
            }
        }
    }

    /** The real engine, counting the upstream sessions it opens. */
    static final class Counting implements Engine {
        final Engine real = new McpFixture.StandInEngine();
        final AtomicInteger connects = new AtomicInteger();

        public String name() { return real.name(); }
        public Classifier classifier(Catalog catalog) { return real.classifier(catalog); }
        public Catalog catalog(DatabaseConfig database, Map<String, List<String>> tags) { return real.catalog(database, tags); }
        public FrontEnd frontEnd(FrontEndContext context) { return real.frontEnd(context); }
        public UpstreamSession connect(DatabaseConfig database) throws IOException {
            connects.incrementAndGet();
            return real.connect(database);
        }
        public List<DoctorCheck> doctor(DatabaseConfig database) { return real.doctor(database); }
    }
}
