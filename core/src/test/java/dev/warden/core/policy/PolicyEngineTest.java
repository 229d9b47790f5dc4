package dev.warden.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

public class PolicyEngineTest {
    public static Policy policy(String yaml) throws Exception {
        return PolicyLoader.parse(Path.of("test-policy.yaml"), yaml.getBytes(StandardCharsets.UTF_8));
    }

    static Operation op(String agent, String database, String engine) {
        return new Operation(agent, database, engine, "irrelevant", List.of(), null, "s1", "127.0.0.1", null);
    }

    static Operation op() {
        return op("coding-agent", "app", "postgres");
    }

    static Statement stmt(Kind kind, ObjectAccess... objects) {
        return new Statement(kind, "", kind.name(), List.of(objects), List.of(), Set.of(), List.of());
    }

    static Statement stmt(Kind kind, List<String> functions, Set<String> flags, ObjectAccess... objects) {
        return new Statement(kind, "", kind.name(), List.of(objects), functions, flags, List.of());
    }

    static Classification of(Statement... s) {
        return Classification.of(List.of(s));
    }

    public static final String STORY = """
            rules:
              - name: reads
                match: { kind: [read] }
                action: allow
              - name: schema-changes
                match: { kind: [ddl] }
                action: approve
              - name: protect-audit-log
                match: { objects: ["public.audit_log"], kind: [write, ddl] }
                action: deny
                reason: the audit log is append-only
            """;

    @Test
    void allowsWhatARuleAllows() throws Exception {
        Decision d = PolicyEngine.decide(policy(STORY), op(), of(stmt(Kind.READ, ObjectAccess.of("public.orders", Access.READ))));
        assertThat(d.action()).isEqualTo(Action.ALLOW);
        assertThat(d.rule()).isEqualTo("reads");
    }

    @Test
    void defaultDenyWhenNoRuleMatches() throws Exception {
        Decision d = PolicyEngine.decide(policy(STORY), op(), of(stmt(Kind.WRITE, ObjectAccess.of("public.orders", Access.WRITE))));
        assertThat(d.action()).isEqualTo(Action.DENY);
        assertThat(d.rule()).isNull();
        assertThat(d.reasons().getFirst()).contains("default deny").contains("write");
    }

    @Test
    void denyBeatsApproveWhateverTheOrder() throws Exception {
        Decision d = PolicyEngine.decide(policy(STORY), op(), of(stmt(Kind.DDL, ObjectAccess.of("public.audit_log", Access.DDL))));
        assertThat(d.action()).isEqualTo(Action.DENY);
        assertThat(d.rule()).isEqualTo("protect-audit-log");
        assertThat(d.reasons()).containsExactly("the audit log is append-only");
        assertThat(d.summary()).isEqualTo("denied by rule \"protect-audit-log\": the audit log is append-only");
    }

    @Test
    void approveBeatsAllowWhateverTheOrder() throws Exception {
        Policy p = policy("""
                rules:
                  - name: big-writes
                    match: { kind: [write], rows_over: 1000 }
                    action: approve
                  - name: writes
                    match: { kind: [write] }
                    action: allow
                """);
        Classification big = of(stmt(Kind.WRITE)).withEnrichment(Set.of(), 5000, "catalog");
        Classification small = of(stmt(Kind.WRITE)).withEnrichment(Set.of(), 10, "catalog");
        assertThat(PolicyEngine.decide(p, op(), big).action()).isEqualTo(Action.APPROVE);
        assertThat(PolicyEngine.decide(p, op(), big).rule()).isEqualTo("big-writes");
        assertThat(PolicyEngine.decide(p, op(), small).action()).isEqualTo(Action.ALLOW);
    }

    @Test
    void missingRowEstimateCountsAsExceeded() throws Exception {
        Policy p = policy("""
                rules:
                  - name: writes
                    match: { kind: [write] }
                    action: allow
                  - name: big-writes
                    match: { kind: [write], rows_over: 1000 }
                    action: approve
                """);
        assertThat(PolicyEngine.decide(p, op(), of(stmt(Kind.WRITE))).action()).isEqualTo(Action.APPROVE);
    }

    @Test
    void strictestStatementWinsInAMultiStatementText() throws Exception {
        Decision d = PolicyEngine.decide(policy(STORY), op(), of(
                stmt(Kind.READ, ObjectAccess.of("public.orders", Access.READ)),
                stmt(Kind.WRITE, ObjectAccess.of("public.audit_log", Access.WRITE)),
                stmt(Kind.DDL, ObjectAccess.of("public.orders", Access.DDL))));
        assertThat(d.action()).isEqualTo(Action.DENY);
        assertThat(d.rule()).isEqualTo("protect-audit-log");
        assertThat(d.reasons().getFirst()).startsWith("statement 2");
    }

    @Test
    void transactionControlIsAllowedUnlessARuleMatchesIt() throws Exception {
        Policy readsOnly = policy("""
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                """);
        Decision tx = PolicyEngine.decide(readsOnly, op(), of(stmt(Kind.TCL), stmt(Kind.READ), stmt(Kind.TCL)));
        assertThat(tx.action()).isEqualTo(Action.ALLOW);
        assertThat(tx.rule()).isEqualTo("reads");
        // COMMIT; DELETE ...: the write is judged on its own.
        assertThat(PolicyEngine.decide(readsOnly, op(), of(stmt(Kind.TCL), stmt(Kind.WRITE))).action()).isEqualTo(Action.DENY);
        Policy noTcl = policy("""
                rules:
                  - name: no-transactions
                    match: { kind: [tcl] }
                    action: deny
                """);
        Decision d = PolicyEngine.decide(noTcl, op(), of(stmt(Kind.TCL)));
        assertThat(d.action()).isEqualTo(Action.DENY);
        assertThat(d.rule()).isEqualTo("no-transactions");
    }

    @Test
    void unknownIsDeniedByDefaultWithTheClassifiersReason() throws Exception {
        Decision d = PolicyEngine.decide(policy(STORY), op(), Classification.unknown("DO $$ $$", "DO blocks run server-side code"));
        assertThat(d.action()).isEqualTo(Action.DENY);
        assertThat(d.reasons()).contains("DO blocks run server-side code");
    }

    @Test
    void agentDatabaseAndEngineKeys() throws Exception {
        Policy p = policy("""
                rules:
                  - name: analytics-reads
                    match: { agent: [analytics-*], database: [warehouse], engine: [postgres], kind: [read] }
                    action: allow
                """);
        Classification read = of(stmt(Kind.READ));
        assertThat(PolicyEngine.decide(p, op("analytics-bot", "warehouse", "postgres"), read).action()).isEqualTo(Action.ALLOW);
        assertThat(PolicyEngine.decide(p, op("coding-agent", "warehouse", "postgres"), read).action()).isEqualTo(Action.DENY);
        assertThat(PolicyEngine.decide(p, op("analytics-bot", "app", "postgres"), read).action()).isEqualTo(Action.DENY);
        assertThat(PolicyEngine.decide(p, op("analytics-bot", "warehouse", "mysql"), read).action()).isEqualTo(Action.DENY);
    }

    @Test
    void objectsMatchByGlobAndByAccessMode() throws Exception {
        // Reading the audit log while writing elsewhere is not a write on the audit log.
        Classification copyOut = of(stmt(Kind.WRITE,
                new ObjectAccess("public.audit_archive", Access.WRITE, List.of()),
                new ObjectAccess("public.audit_log", Access.READ, List.of())));
        Policy p = policy(STORY + """
                  - name: archive
                    match: { objects: ["public.audit_*"], kind: [write] }
                    action: allow
                """);
        Decision d = PolicyEngine.decide(p, op(), copyOut);
        assertThat(d.action()).isEqualTo(Action.ALLOW);
        assertThat(d.rule()).isEqualTo("archive");
        Policy anyMode = policy("""
                rules:
                  - name: writes
                    match: { kind: [write] }
                    action: allow
                  - name: no-audit
                    match: { objects: ["public.audit_log"] }
                    action: deny
                """);
        assertThat(PolicyEngine.decide(anyMode, op(), copyOut).action()).isEqualTo(Action.DENY);
    }

    @Test
    void columnsMatchSchemaTableColumn() throws Exception {
        Policy p = policy("""
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: pii
                    match: { columns: ["public.users.email", "public.users.phone"] }
                    action: approve
                """);
        Classification email = of(stmt(Kind.READ, new ObjectAccess("public.users", Access.READ, List.of("id", "email"))));
        Classification name = of(stmt(Kind.READ, new ObjectAccess("public.users", Access.READ, List.of("id", "name"))));
        assertThat(PolicyEngine.decide(p, op(), email).action()).isEqualTo(Action.APPROVE);
        assertThat(PolicyEngine.decide(p, op(), name).action()).isEqualTo(Action.ALLOW);
    }

    @Test
    void flagsAndTagsKeys() throws Exception {
        Policy p = policy("""
                rules:
                  - name: writes
                    match: { kind: [write] }
                    action: allow
                  - name: no-destruction
                    match: { flags: [destructive] }
                    action: deny
                  - name: financial
                    match: { tags: [financial] }
                    action: approve
                """);
        Classification wipe = of(stmt(Kind.WRITE, List.of(), Set.of("destructive")));
        Classification pay = of(stmt(Kind.WRITE)).withEnrichment(Set.of("financial"), 1, "catalog");
        Classification plain = of(stmt(Kind.WRITE)).withEnrichment(Set.of("pii"), 1, "catalog");
        assertThat(PolicyEngine.decide(p, op(), wipe).rule()).isEqualTo("no-destruction");
        assertThat(PolicyEngine.decide(p, op(), pay).action()).isEqualTo(Action.APPROVE);
        assertThat(PolicyEngine.decide(p, op(), plain).action()).isEqualTo(Action.ALLOW);
    }

    @Test
    void functionsKeyDeclaresReaderFunctionsOnlyWhenItNamesEveryUnprovenOne() throws Exception {
        Policy p = policy("""
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: our-readers
                    match: { functions: ["app.get_*"], kind: [read] }
                    action: allow
                """);
        Statement oneReader = new Statement(Kind.UNKNOWN, "", "SELECT", List.of(), List.of("app.get_user"), Set.of(),
                List.of("app.get_user is not a built-in"), List.of("app.get_user"), Kind.READ);
        Statement readerAndWriter = new Statement(Kind.UNKNOWN, "", "SELECT", List.of(),
                List.of("app.get_user", "app.bump_counter"), Set.of(), List.of("not built-in"),
                List.of("app.get_user", "app.bump_counter"), Kind.READ);
        assertThat(PolicyEngine.decide(p, op(), of(oneReader)).action()).isEqualTo(Action.ALLOW);
        assertThat(PolicyEngine.decide(p, op(), of(oneReader)).rule()).isEqualTo("our-readers");
        assertThat(PolicyEngine.decide(p, op(), of(readerAndWriter)).action()).isEqualTo(Action.DENY);
    }

    @Test
    void approvalSpecComesFromTheRule() throws Exception {
        Policy p = policy("""
                rules:
                  - name: schema-changes
                    match: { kind: [ddl] }
                    action: approve
                    approval: { mode: ticket, approvers: 2, timeout: 90s, valid_for: 1h }
                """);
        Decision d = PolicyEngine.decide(p, op(), of(stmt(Kind.DDL)));
        assertThat(d.approval().mode()).isEqualTo(dev.warden.core.ApprovalSpec.Mode.TICKET);
        assertThat(d.approval().approvers()).isEqualTo(2);
        assertThat(d.approval().timeout()).hasSeconds(90);
        assertThat(d.approval().validFor()).hasHours(1);
    }
}
