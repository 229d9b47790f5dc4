package dev.warden.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.FullDiskLedger;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngineTest;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GateTest {
    /** Labels "SELECT…" read of public.orders, "DROP…" ddl of public.audit_log, and fails on "BOOM". */
    static final dev.warden.core.engine.Classifier TOY = (text, ctx) -> {
        if (text.startsWith("BOOM")) throw new IllegalStateException("parser exploded");
        if (text.startsWith("SELECT")) {
            return Classification.of(List.of(new Statement(Kind.READ, text, "SELECT",
                    List.of(ObjectAccess.of("public.orders", Access.READ)), List.of(), Set.of(), List.of())));
        }
        return Classification.of(List.of(new Statement(Kind.DDL, text, "DROP TABLE",
                List.of(ObjectAccess.of("public.audit_log", Access.DDL)), List.of(), Set.of("destructive"), List.of())));
    };

    static Gate gate(Ledger ledger) throws Exception {
        Policy p = PolicyEngineTest.policy(PolicyEngineTest.STORY);
        return new Gate(Map.of("app", new Target("app", "postgres", TOY, Catalog.NONE)), p, null, ledger, null);
    }

    static Operation op(String text) {
        return op("app", text);
    }

    static Operation op(String db, String text) {
        return new Operation("coding-agent", db, "postgres", text, List.of(), null, "s1", "127.0.0.1", null);
    }

    @Test
    void anAllowedReadRunsAfterItsDecisionIsRecorded() throws Exception {
        MemoryLedger ledger = new MemoryLedger();
        Verdict v = gate(ledger).submit(op("SELECT * FROM orders"), ClassifyContext.defaults(), null);
        assertThat(v.run()).isTrue();
        assertThat(v.seq()).isZero();
        assertThat(ledger.entries()).singleElement().isInstanceOfSatisfying(Entry.DecisionEntry.class,
                e -> assertThat(e.decision().action()).isEqualTo(Action.ALLOW));
    }

    @Test
    void aDenialIsRecordedAndRefusedWithTheRuleInTheMessage() throws Exception {
        MemoryLedger ledger = new MemoryLedger();
        Verdict v = gate(ledger).submit(op("DROP TABLE audit_log"), ClassifyContext.defaults(), null);
        assertThat(v.run()).isFalse();
        assertThat(v.message()).isEqualTo("warden: denied by rule \"protect-audit-log\": the audit log is append-only");
        assertThat(ledger.entries()).hasSize(1);
    }

    @Test
    void aLedgerThatCannotWriteRefusesEvenAnAllowedRead() throws Exception {
        Ledger broken = new FullDiskLedger();
        Verdict v = gate(broken).submit(op("SELECT 1"), ClassifyContext.defaults(), null);
        assertThat(v.run()).isFalse();
        assertThat(v.seq()).isNegative();
        assertThat(v.message()).contains("ledger");
    }

    @Test
    void wardensOwnOperationIsRecordedAsAllowedByNoRuleWithItsReason() throws Exception {
        MemoryLedger ledger = new MemoryLedger();
        Gate g = gate(ledger);
        // DDL by its text: the policy would deny it, but recordOwn is not the policy's to judge; it only records.
        Operation own = op("DROP TABLE audit_log");
        Verdict v = g.recordOwn(own, g.classify(own, ClassifyContext.defaults()), "describe: Warden's own catalog queries");
        assertThat(v.run()).isTrue();
        assertThat(v.seq()).isZero();
        assertThat(ledger.entries()).singleElement().isInstanceOfSatisfying(Entry.DecisionEntry.class, e -> {
            assertThat(e.operation()).isEqualTo(own);
            assertThat(e.decision().action()).isEqualTo(Action.ALLOW);
            assertThat(e.decision().rule()).isNull();
            assertThat(e.decision().reasons()).containsExactly("describe: Warden's own catalog queries");
            assertThat(e.policyHash()).isEqualTo(g.policy().hash());
        });
    }

    @Test
    void wardensOwnOperationIsRefusedWhenTheLedgerCannotRecordIt() throws Exception {
        Ledger broken = new FullDiskLedger();
        Gate g = gate(broken);
        Operation own = op("SELECT 1");
        Verdict v = g.recordOwn(own, g.classify(own, ClassifyContext.defaults()), "describe");
        assertThat(v.run()).isFalse();
        assertThat(v.message()).contains("ledger");
    }

    @Test
    void aClassifierFailureIsUnknownAndDenied() throws Exception {
        Verdict v = gate(new MemoryLedger()).submit(op("BOOM"), ClassifyContext.defaults(), null);
        assertThat(v.run()).isFalse();
        assertThat(v.classification().kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(v.decision().reasons()).anyMatch(r -> r.contains("parser exploded"));
    }

    @Test
    void anUnconfiguredDatabaseIsDenied() throws Exception {
        Verdict v = gate(new MemoryLedger()).submit(op("other", "SELECT 1"), ClassifyContext.defaults(), null);
        assertThat(v.run()).isFalse();
        assertThat(v.decision().reasons()).anyMatch(r -> r.contains("not configured"));
    }

    @Test
    void anApprovalWithoutAnApprovalServiceIsRefused() throws Exception {
        Policy p = PolicyEngineTest.policy("""
                rules:
                  - name: all-ddl
                    match: { kind: [ddl] }
                    action: approve
                """);
        Gate g = new Gate(Map.of("app", new Target("app", "postgres", TOY, Catalog.NONE)), p, null, new MemoryLedger(), null);
        Verdict v = g.submit(op("DROP TABLE x"), ClassifyContext.defaults(), null);
        assertThat(v.run()).isFalse();
        assertThat(v.message()).contains("no approval service");
    }

    @Test
    void statementHashBindsTextAndParameters() {
        Operation a = new Operation("a", "d", "postgres", "SELECT $1", List.of("1"), null, null, null, null);
        Operation b = new Operation("a", "d", "postgres", "SELECT $1", List.of("2"), null, null, null, null);
        Operation c = new Operation("a", "d", "postgres", "SELECT $1", java.util.Arrays.asList((String) null), null, null, null, null);
        Operation d = new Operation("a", "d", "postgres", "SELECT $1", List.of("1"), "other reason", null, null, null);
        assertThat(a.statementHash()).isNotEqualTo(b.statementHash()).isNotEqualTo(c.statementHash()).isEqualTo(d.statementHash());
    }
}
