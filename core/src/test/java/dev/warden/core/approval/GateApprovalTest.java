package dev.warden.core.approval;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Access;
import dev.warden.core.Classification;
import dev.warden.core.Gate;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.Target;
import dev.warden.core.Verdict;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.metrics.Metrics;
import dev.warden.core.policy.PolicyLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gate with the real approval store: ticket and hold modes end to end (without a wire front end). */
class GateApprovalTest {
    static final String POLICY = """
            rules:
              - name: ticket-ddl
                match: { kind: [ddl], database: [tickets] }
                action: approve
                approval: { mode: ticket }
              - name: hold-ddl
                match: { kind: [ddl], database: [held] }
                action: approve
                approval: { mode: hold, timeout: 30s }
            """;
    static final dev.warden.core.engine.Classifier DDL = (text, ctx) -> Classification.of(List.of(new Statement(Kind.DDL, text,
            "CREATE INDEX", List.of(ObjectAccess.of("public.orders", Access.DDL)), List.of(), Set.of(), List.of())));

    @TempDir Path dir;
    final MemoryLedger ledger = new MemoryLedger();
    FileApprovals approvals;
    Gate gate;

    @BeforeEach
    void start() throws Exception {
        approvals = FileApprovals.open(dir, ledger, Approvers.of(List.of(new ApproverConfig("alice", new Secret("t"))),
                List.of(new AgentConfig("agent", new Secret("s"), List.of()))), java.time.Clock.systemUTC(), new Metrics());
        gate = new Gate(Map.of("tickets", new Target("tickets", "postgres", DDL, Catalog.NONE),
                "held", new Target("held", "postgres", DDL, Catalog.NONE)),
                PolicyLoader.parse(dir.resolve("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8)), approvals, ledger,
                "http://127.0.0.1:8080");
    }

    @AfterEach
    void stop() {
        approvals.close();
    }

    static Operation op(String db, String text) {
        return new Operation("agent", db, "postgres", text, List.of(), StatedReason.parse(text), "s1", "", null);
    }

    @Test
    void ticketDeniesNamingTheRequestThenRunsTheIdenticalStatementOnce() {
        String sql = "/* reason: speed up */ CREATE INDEX CONCURRENTLY i ON orders(id)";
        Verdict first = gate.submit(op("tickets", sql), ClassifyContext.defaults(), null);
        assertThat(first.run()).isFalse();
        assertThat(first.approvalId()).isNotNull();
        assertThat(first.message()).contains("approval request " + first.approvalId() + " is pending")
                .contains("http://127.0.0.1:8080/#/requests/" + first.approvalId()).contains("send the identical statement again");
        assertThat(approvals.get(first.approvalId()).orElseThrow().operation().reason()).isEqualTo("speed up");

        approvals.decide(first.approvalId(), "alice", true, null);
        assertThat(gate.submit(op("tickets", sql + " "), ClassifyContext.defaults(), null).run()).as("not the same text").isFalse();
        Verdict second = gate.submit(op("tickets", sql), ClassifyContext.defaults(), null);
        assertThat(second.run()).isTrue();
        assertThat(second.approvalId()).isEqualTo(first.approvalId());
        Verdict third = gate.submit(op("tickets", sql), ClassifyContext.defaults(), null);
        assertThat(third.run()).as("single use").isFalse();
        assertThat(third.approvalId()).isNotEqualTo(first.approvalId());
        // The decision entry of the run names the approval it used.
        assertThat(ledger.entries()).filteredOn(e -> e instanceof Entry.DecisionEntry d && first.approvalId().equals(d.approvalId()))
                .hasSize(2);
    }

    @Test
    void aHoldRuleJudgedWithoutHoldingOnTheWireIsNoTicketToRunLater() {
        // The wire's Parse judges a statement the text alone seems to condemn with no hold; were that to open a
        // ticket, an approval meant for a held session would let the identical statement run later, in any session.
        String sql = "CREATE INDEX i ON orders(id)";
        Verdict first = gate.submit(op("held", sql), ClassifyContext.defaults(), null);
        assertThat(first.run()).isFalse();
        assertThat(approvals.get(first.approvalId()).orElseThrow().decision().approval().mode())
                .isEqualTo(dev.warden.core.ApprovalSpec.Mode.HOLD);
        approvals.decide(first.approvalId(), "alice", true, null);
        Verdict later = gate.submit(op("held", sql), ClassifyContext.defaults(), null);
        assertThat(later.run()).as("a hold approval is no ticket").isFalse();
        assertThat(approvals.get(first.approvalId()).orElseThrow().status()).isNotEqualTo(ApprovalRequest.Status.USED);
    }

    @Test
    void aFrontEndThatAnswersAtOnceGetsATicketForAHoldRuleRedeemedOnce() {
        String sql = "CREATE INDEX i ON orders(id)";
        Verdict first = gate.submit(op("held", sql), ClassifyContext.defaults(), Gate.ANSWERS_AT_ONCE);
        assertThat(first.run()).isFalse();
        assertThat(first.message()).contains("send the identical statement again");
        approvals.decide(first.approvalId(), "alice", true, null);
        Operation otherAgent = new Operation("other", "held", "postgres", sql, List.of(), null, "s2", "", null);
        assertThat(gate.submit(otherAgent, ClassifyContext.defaults(), Gate.ANSWERS_AT_ONCE).run()).as("another agent").isFalse();
        Verdict second = gate.submit(op("held", sql), ClassifyContext.defaults(), Gate.ANSWERS_AT_ONCE);
        assertThat(second.run()).isTrue();
        assertThat(second.approvalId()).isEqualTo(first.approvalId());
        assertThat(gate.submit(op("held", sql), ClassifyContext.defaults(), Gate.ANSWERS_AT_ONCE).run()).as("once").isFalse();
    }

    @Test
    void judgedBeforeItRunsAnApprovalRuleNeitherUsesATicketNorOpensARequest() {
        // The wire's Parse, before Execute: a ticket used up there left the Execute without one.
        String sql = "CREATE INDEX i ON orders(id)";
        Verdict first = gate.submit(op("tickets", sql), ClassifyContext.defaults(), null);
        approvals.decide(first.approvalId(), "alice", true, null);
        int before = approvals.list().size();
        assertThat(gate.judgeUnlessApproval(op("tickets", sql), dev.warden.core.Classification.of(List.of(new Statement(Kind.DDL, sql,
                "CREATE INDEX", List.of(ObjectAccess.of("public.orders", Access.DDL)), List.of(), Set.of(), List.of()))),
                ClassifyContext.defaults())).isEmpty();
        assertThat(gate.judgeUnlessApproval(op("held", sql), DDL.classify(sql, ClassifyContext.defaults()), ClassifyContext.defaults())).isEmpty();
        assertThat(approvals.list()).hasSize(before);
        assertThat(approvals.get(first.approvalId()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.APPROVED);
        assertThat(gate.submit(op("tickets", sql), ClassifyContext.defaults(), null).run()).isTrue();
    }

    @Test
    void holdWaitsForAPersonAndMarksTheTransaction() throws Exception {
        List<Gate.Held> notices = new CopyOnWriteArrayList<>();
        CompletableFuture<Verdict> v = CompletableFuture.supplyAsync(() -> gate.submit(op("held", "CREATE INDEX i ON orders(id)"),
                ClassifyContext.defaults(), new Gate.Hold(notices::add, true)));
        long deadline = System.currentTimeMillis() + 5000;
        while (notices.isEmpty() && System.currentTimeMillis() < deadline) Thread.sleep(10);
        assertThat(notices).hasSize(1);
        ApprovalRequest r = notices.getFirst().request();
        assertThat(r.inTransaction()).isTrue();
        assertThat(notices.getFirst().message()).contains(r.id()).contains("times out in 30s");
        assertThat(v).isNotDone();
        approvals.decide(r.id(), "alice", false, "not now");
        Verdict denied = v.get(5, TimeUnit.SECONDS);
        assertThat(denied.run()).isFalse();
        assertThat(denied.message()).contains("was denied by alice: not now");
    }

    /** An approval given after the kill switch was thrown does not run the held statement. */
    @Test
    void aHoldApprovedAfterTheAgentWasDisabledDoesNotRun() throws Exception {
        AgentSwitch sw = AgentSwitch.open(dir, ledger, Set.of("agent"));
        Gate g = new Gate(Map.of("held", new Target("held", "postgres", DDL, Catalog.NONE)),
                PolicyLoader.parse(dir.resolve("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8)), approvals, ledger, null, sw);
        List<Gate.Held> notices = new CopyOnWriteArrayList<>();
        CompletableFuture<Verdict> v = CompletableFuture.supplyAsync(() -> g.submit(op("held", "CREATE INDEX i ON orders(id)"),
                ClassifyContext.defaults(), new Gate.Hold(notices::add, false)), r -> Thread.ofPlatform().daemon().start(r));
        long deadline = System.currentTimeMillis() + 5000;
        while (notices.isEmpty() && System.currentTimeMillis() < deadline) Thread.sleep(10);
        ApprovalRequest r = notices.getFirst().request();
        // The switch alone (the console also denies the agent's requests; an approver may be quicker).
        sw.disable("agent", "alice", "runaway");
        approvals.decide(r.id(), "alice", true, "ok");
        Verdict after = v.get(5, TimeUnit.SECONDS);
        assertThat(after.run()).isFalse();
        assertThat(after.message()).contains("disabled");
    }

    @Test
    void aDisabledAgentIsDeniedAtTheGate() throws Exception {
        AgentSwitch sw = AgentSwitch.open(dir, ledger, Set.of("agent"));
        Gate g = new Gate(Map.of("tickets", new Target("tickets", "postgres", DDL, Catalog.NONE)),
                PolicyLoader.parse(dir.resolve("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8)), approvals, ledger, null, sw);
        assertThat(g.agents()).contains(sw);
        sw.disable("agent", "alice", "runaway");
        Verdict v = g.submit(op("tickets", "CREATE INDEX i ON orders(id)"), ClassifyContext.defaults(), null);
        assertThat(v.run()).isFalse();
        assertThat(v.message()).contains("disabled");
        assertThat(approvals.list()).as("no request is opened for a disabled agent").isEmpty();
        assertThat(ledger.entries()).filteredOn(e -> e instanceof Entry.DecisionEntry).hasSize(1);
        Operation own = op("tickets", "SELECT 1");
        Verdict ownVerdict = g.recordOwn(own, g.classify(own, ClassifyContext.defaults()), "describe");
        assertThat(ownVerdict.run()).as("Warden's own operations for a disabled agent").isFalse();
        assertThat(ownVerdict.message()).contains("disabled");
        sw.enable("agent", "alice", null);
        assertThat(g.submit(op("tickets", "CREATE INDEX i ON orders(id)"), ClassifyContext.defaults(), null).approvalId()).isNotNull();
    }

    @Test
    void anApprovalStoreThatCannotRecordDenies() throws Exception {
        approvals.close();
        var failing = new dev.warden.core.ledger.Ledger() {
            int n;
            public long append(Entry e, dev.warden.core.ledger.Durability d) throws dev.warden.core.ledger.LedgerException {
                if (e instanceof Entry.ApprovalEntry) throw new dev.warden.core.ledger.LedgerException("disk full");
                return n++;
            }
            public boolean healthy() { return false; }
            public void writeStaged(long seq) {}
            public void afterSync(long seq, java.util.function.Consumer<dev.warden.core.ledger.LedgerException> then) {}
            public void close() {}
        };
        FileApprovals broken = FileApprovals.open(dir.resolve("b"), failing, Approvers.of(List.of(), List.of()),
                java.time.Clock.systemUTC(), new Metrics());
        Gate g = new Gate(Map.of("held", new Target("held", "postgres", DDL, Catalog.NONE)),
                PolicyLoader.parse(dir.resolve("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8)), broken, failing, null);
        Verdict v = g.submit(op("held", "CREATE INDEX i ON orders(id)"), ClassifyContext.defaults(), new Gate.Hold(h -> {}, false));
        assertThat(v.run()).isFalse();
        assertThat(v.message()).contains("could not be opened");
        broken.close();
    }
}
