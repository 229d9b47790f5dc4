package dev.warden.core.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.metrics.Metrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileApprovalsTest {
    @TempDir Path dir;
    final MemoryLedger ledger = new MemoryLedger();
    final TestClock clock = new TestClock();
    final Approvers approvers = Approvers.of(
            List.of(new ApproverConfig("alice", new Secret("alice-token")), new ApproverConfig("bob", new Secret("bob-token"))),
            List.of(new AgentConfig("claude", new Secret("agent-secret"), List.of())));
    FileApprovals store;

    @BeforeEach
    void open() throws Exception {
        store = FileApprovals.open(dir, ledger, approvers, clock, new Metrics());
    }

    @AfterEach
    void close() {
        store.close();
    }

    static Operation op(String agent, String db, String text) {
        return new Operation(agent, db, "postgres", text, List.of(), "fixing /orders", "s1", "127.0.0.1", null);
    }

    static Decision rule(ApprovalSpec.Mode mode, int approvers) {
        return new Decision(Action.APPROVE, "schema-changes", List.of("ddl"),
                new ApprovalSpec(mode, approvers, Duration.ofMinutes(5), Duration.ofMinutes(10)));
    }

    /** What the approver saw a ticket's statement do; {@link #OTHER} is the same text meaning something else. */
    static final Classification SAME = Classification.unknown("x", "test");
    static final Classification OTHER = Classification.of(List.of(new dev.warden.core.Statement(dev.warden.core.Kind.WRITE,
            "x", "DELETE", List.of(new dev.warden.core.ObjectAccess("public.b", dev.warden.core.Access.WRITE, List.of())),
            List.of(), java.util.Set.of(), List.of())));

    ApprovalRequest openTicket(Operation op) {
        return store.open(op, Classification.unknown(op.text(), "test"), rule(ApprovalSpec.Mode.TICKET, 1), false);
    }

    @Test
    void ticketBindsAgentDatabaseAndStatementAndIsUsedOnce() {
        Operation op = op("claude", "shop", "CREATE INDEX CONCURRENTLY i ON orders(id)");
        ApprovalRequest r = openTicket(op);
        assertThat(store.redeem(op, SAME)).as("pending is not approved").isEmpty();
        store.decide(r.id(), "alice", true, "ok");

        assertThat(store.redeem(op("claude", "shop", "CREATE INDEX CONCURRENTLY i ON orders(id) "), SAME)).as("other text").isEmpty();
        assertThat(store.redeem(op("other", "shop", op.text()), SAME)).as("other agent").isEmpty();
        assertThat(store.redeem(op("claude", "crm", op.text()), SAME)).as("other database").isEmpty();
        Operation withParams = new Operation("claude", "shop", "postgres", op.text(), List.of("1"), "", "s", "", null);
        assertThat(store.redeem(withParams, SAME)).as("other parameters").isEmpty();
        assertThat(store.redeem(op, OTHER)).as("same text, another effect (search path, EXECUTE of a redefined name)").isEmpty();

        assertThat(store.redeem(op, SAME)).get().extracting(ApprovalRequest::status).isEqualTo(ApprovalRequest.Status.USED);
        assertThat(store.redeem(op, SAME)).as("reuse").isEmpty();
        assertThat(verdicts()).containsExactly("requested", "approved", "used");
    }

    @Test
    void approvalExpiresAfterValidFor() {
        Operation op = op("claude", "shop", "DROP INDEX i");
        ApprovalRequest r = openTicket(op);
        store.decide(r.id(), "alice", true, null);
        clock.advance(Duration.ofMinutes(10).plusSeconds(1));
        assertThat(store.redeem(op, SAME)).isEmpty();
        store.sweep();
        assertThat(store.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.EXPIRED);
        assertThat(verdicts()).containsExactly("requested", "approved", "expired");
    }

    @Test
    void pendingRequestTimesOut() {
        ApprovalRequest r = openTicket(op("claude", "shop", "DROP INDEX i"));
        clock.advance(Duration.ofMinutes(5));
        assertThatThrownBy(() -> store.decide(r.id(), "alice", true, null)).hasMessageContaining("expired");
        assertThat(store.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.EXPIRED);
    }

    @Test
    void twoApproverRuleNeedsTwoDistinctPeople() {
        Operation op = op("claude", "shop", "ALTER TABLE orders ADD c int");
        ApprovalRequest r = store.open(op, Classification.unknown(op.text(), "t"), rule(ApprovalSpec.Mode.TICKET, 2), false);
        ApprovalRequest first = store.decide(r.id(), "alice", true, null);
        assertThat(first.status()).isEqualTo(ApprovalRequest.Status.PENDING);
        assertThat(store.redeem(op, SAME)).isEmpty();
        assertThatThrownBy(() -> store.decide(r.id(), "alice", true, null)).hasMessageContaining("different approvers");
        ApprovalRequest second = store.decide(r.id(), "bob", true, "second pair of eyes");
        assertThat(second.status()).isEqualTo(ApprovalRequest.Status.APPROVED);
        assertThat(second.approvedBy()).containsExactly("alice", "bob");
        assertThat(store.redeem(op, SAME)).isPresent();
        List<Entry.ApprovalEntry> entries = approvalEntries();
        assertThat(entries).extracting(Entry.ApprovalEntry::approver).containsExactly(null, "alice", "bob", null);
    }

    @Test
    void agentsAndStrangersCannotDecide() {
        ApprovalRequest r = openTicket(op("claude", "shop", "DROP INDEX i"));
        assertThatThrownBy(() -> store.decide(r.id(), "claude", true, null)).hasMessageContaining("agent identity");
        assertThatThrownBy(() -> store.decide(r.id(), "mallory", true, null)).hasMessageContaining("not a configured approver");
        assertThat(store.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.PENDING);
        assertThat(verdicts()).containsExactly("requested");
    }

    @Test
    void tokensAuthenticateInConstantTimeAndAgentsAreRecognised() {
        assertThat(approvers.authenticate("alice-token")).contains(new Approvers.Caller("alice", false));
        assertThat(approvers.authenticate("agent-secret")).contains(new Approvers.Caller("claude", true));
        assertThat(approvers.authenticate("alice-token ")).isEmpty();
        assertThat(approvers.authenticate("")).isEmpty();
        assertThat(approvers.authenticate(null)).isEmpty();
        assertThat(approvers.mayDecide("claude")).isFalse();
        // An identity configured both as agent and approver is treated as an agent.
        Approvers both = Approvers.of(List.of(new ApproverConfig("x", new Secret("t"))),
                List.of(new AgentConfig("x", new Secret("s"), List.of())));
        assertThat(both.mayDecide("x")).isFalse();
    }

    @Test
    void holdWaitsAndRunsOnceOnApproval() throws Exception {
        Operation op = op("claude", "shop", "CREATE INDEX CONCURRENTLY i ON orders(id)");
        ApprovalRequest r = store.open(op, Classification.unknown(op.text(), "t"), rule(ApprovalSpec.Mode.HOLD, 1), true);
        CompletableFuture<ApprovalRequest> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return store.await(r.id(), Duration.ofSeconds(20));
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertThat(waiting).isNotDone();
        store.decide(r.id(), "bob", true, null);
        assertThat(waiting.get(5, TimeUnit.SECONDS).status()).isEqualTo(ApprovalRequest.Status.USED);
        assertThat(store.redeem(op, SAME)).as("a hold approval is not a ticket").isEmpty();
    }

    @Test
    void holdDeniedAndTimedOut() throws Exception {
        Operation op = op("claude", "shop", "DROP TABLE audit_log");
        ApprovalRequest denied = store.open(op, Classification.unknown(op.text(), "t"), rule(ApprovalSpec.Mode.HOLD, 1), false);
        store.decide(denied.id(), "alice", false, "not on my watch");
        ApprovalRequest d = store.await(denied.id(), Duration.ofSeconds(5));
        assertThat(d.status()).isEqualTo(ApprovalRequest.Status.DENIED);
        assertThat(d.decidedBy()).isEqualTo("alice");
        assertThat(d.comment()).isEqualTo("not on my watch");

        ApprovalRequest slow = store.open(op, Classification.unknown(op.text(), "t"), rule(ApprovalSpec.Mode.HOLD, 1), false);
        assertThat(store.await(slow.id(), Duration.ofMillis(50)).status()).isEqualTo(ApprovalRequest.Status.EXPIRED);
        assertThatThrownBy(() -> store.decide(slow.id(), "alice", true, null)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void restartDeniesHeldRequestsAndKeepsTickets() throws Exception {
        Operation held = op("claude", "shop", "CREATE INDEX CONCURRENTLY i ON orders(id)");
        ApprovalRequest h = store.open(held, Classification.unknown(held.text(), "t"), rule(ApprovalSpec.Mode.HOLD, 1), false);
        Operation ticket = op("claude", "shop", "DROP INDEX i");
        ApprovalRequest t = openTicket(ticket);
        store.close();

        FileApprovals again = FileApprovals.open(dir, ledger, approvers, clock, new Metrics());
        try {
            ApprovalRequest hr = again.get(h.id()).orElseThrow();
            assertThat(hr.status()).isEqualTo(ApprovalRequest.Status.DENIED);
            assertThat(hr.comment()).contains("restarted");
            assertThatThrownBy(() -> again.decide(h.id(), "alice", true, null)).isInstanceOf(IllegalStateException.class);
            assertThat(again.redeem(held, SAME)).isEmpty();

            ApprovalRequest tr = again.get(t.id()).orElseThrow();
            assertThat(tr.status()).isEqualTo(ApprovalRequest.Status.PENDING);
            assertThat(tr.operation()).isEqualTo(t.operation());
            assertThat(tr.classification()).isEqualTo(t.classification());
            assertThat(tr.decision()).isEqualTo(t.decision());
            again.decide(t.id(), "alice", true, null);
            assertThat(again.redeem(ticket, SAME)).isPresent();
        } finally {
            again.close();
        }
        assertThat(Files.list(dir.resolve("approvals")).filter(p -> p.toString().endsWith(".tmp"))).isEmpty();
    }

    @Test
    void finishedRequestsAreDroppedAfterTheRetention() throws Exception {
        Operation op = op("claude", "shop", "DROP INDEX i");
        ApprovalRequest done = openTicket(op);
        store.decide(done.id(), "alice", false, null);
        ApprovalRequest open = openTicket(op("claude", "shop", "DROP INDEX j"));
        store.close();
        clock.advance(FileApprovals.RETENTION.plusDays(1));
        FileApprovals again = FileApprovals.open(dir, ledger, approvers, clock, new Metrics());
        try {
            assertThat(again.get(done.id())).isEmpty();
            assertThat(dir.resolve("approvals/" + done.id() + ".json")).doesNotExist();
            assertThat(again.get(open.id())).get().extracting(ApprovalRequest::status).isEqualTo(ApprovalRequest.Status.EXPIRED);
        } finally {
            again.close();
        }
    }

    @Test
    void unreadableRequestIsSetAsideAndNeverUsable() throws Exception {
        store.close();
        Files.writeString(dir.resolve("approvals/rbroken.json"), "{\"id\":\"rbroken\",\"status\":\"approved\"");
        FileApprovals again = FileApprovals.open(dir, ledger, approvers, clock, new Metrics());
        try {
            assertThat(again.get("rbroken")).isEmpty();
            assertThat(dir.resolve("approvals/rbroken.json.unreadable")).exists();
        } finally {
            again.close();
        }
    }

    @Test
    void subscribersSeeEveryEvent() {
        List<String> seen = new CopyOnWriteArrayList<>();
        store.subscribe(e -> seen.add(e.type() + ":" + e.request().status()));
        Operation op = op("claude", "shop", "DROP INDEX i");
        ApprovalRequest r = openTicket(op);
        store.decide(r.id(), "alice", true, null);
        store.redeem(op, SAME);
        assertThat(seen).containsExactly("requested:PENDING", "approved:APPROVED", "used:USED");
    }

    @Test
    void killSwitchDeniesPendingRequests() throws Exception {
        ApprovalRequest r = openTicket(op("claude", "shop", "DROP INDEX i"));
        AgentSwitch sw = AgentSwitch.open(dir, ledger, approvers.agents());
        List<AgentSwitch.Change> changes = new CopyOnWriteArrayList<>();
        sw.subscribe(changes::add);
        sw.disable("claude", "alice", "runaway");
        assertThat(store.denyAllOf("claude", "alice", "agent disabled")).isEqualTo(1);
        assertThat(store.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.DENIED);
        assertThat(sw.allows("claude")).isFalse();
        assertThat(AgentSwitch.open(dir, ledger, approvers.agents()).allows("claude")).as("survives restart").isFalse();
        sw.enable("claude", "bob", null);
        assertThat(sw.allows("claude")).isTrue();
        assertThat(changes).extracting(AgentSwitch.Change::disabled).containsExactly(true, false);
        assertThat(approvalEntries()).filteredOn(e -> e.requestId().equals("agent:claude"))
                .extracting(Entry.ApprovalEntry::verdict, Entry.ApprovalEntry::approver)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("agent_disabled", "alice"),
                        org.assertj.core.groups.Tuple.tuple("agent_enabled", "bob"));
        assertThatThrownBy(() -> sw.disable("nobody", "alice", null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void ledgerFailureChangesNothing() throws Exception {
        var failing = new dev.warden.core.ledger.Ledger() {
            volatile boolean fail;
            public long append(Entry e, dev.warden.core.ledger.Durability d) throws dev.warden.core.ledger.LedgerException {
                if (fail) throw new dev.warden.core.ledger.LedgerException("disk full");
                return 0;
            }
            public boolean healthy() { return !fail; }
            public void writeStaged(long seq) {}
            public void afterSync(long seq, java.util.function.Consumer<dev.warden.core.ledger.LedgerException> then) {}
            public void close() {}
        };
        FileApprovals s = FileApprovals.open(dir.resolve("other"), failing, approvers, clock, new Metrics());
        try {
            Operation op = op("claude", "shop", "DROP INDEX i");
            ApprovalRequest r = s.open(op, Classification.unknown(op.text(), "t"), rule(ApprovalSpec.Mode.TICKET, 1), false);
            failing.fail = true;
            assertThatThrownBy(() -> s.decide(r.id(), "alice", true, null)).hasMessageContaining("ledger");
            assertThat(s.get(r.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.PENDING);
            assertThatThrownBy(() -> s.open(op, Classification.unknown(op.text(), "t"), rule(ApprovalSpec.Mode.TICKET, 1), false))
                    .hasMessageContaining("ledger");
        } finally {
            s.close();
        }
    }

    private List<Entry.ApprovalEntry> approvalEntries() {
        return ledger.entries().stream().filter(e -> e instanceof Entry.ApprovalEntry).map(e -> (Entry.ApprovalEntry) e).toList();
    }

    private List<String> verdicts() {
        return approvalEntries().stream().map(Entry.ApprovalEntry::verdict).toList();
    }
}
