package dev.warden.core.policy;

import static dev.warden.core.policy.PolicyEngineTest.op;
import static dev.warden.core.policy.PolicyEngineTest.policy;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import dev.warden.core.yaml.ConfigException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Red-team findings against the policy engine and loader: each test asserts the safe decision and fails while the
 * gap exists. Classifications are built the way the PostgreSQL classifier builds them (see each comment).
 */
public class RedTeamPolicyTest {

    private static Statement st(Kind kind, String command, ObjectAccess... objects) {
        return new Statement(kind, "", command, List.of(objects), List.of(), Set.of(), List.of());
    }

    private static Classification of(Statement... s) {
        return Classification.of(List.of(s));
    }

    // F1: an allow rule with objects matches when ANY object of the statement matches, so it allows writes to
    // tables it does not name. WITH d AS (DELETE FROM public.orders RETURNING *) INSERT INTO public.audit_archive
    // SELECT * FROM d  ->  WRITE, objects orders WRITE + audit_archive WRITE.
    @Test
    void allowOnObjectsDoesNotCoverOtherObjectsWritten() throws Exception {
        Policy p = policy("""
                rules:
                  - name: archive
                    match: { objects: ["public.audit_*"], kind: [write] }
                    action: allow
                """);
        Classification c = of(st(Kind.WRITE, "INSERT",
                ObjectAccess.of("public.orders", Access.WRITE),
                ObjectAccess.of("public.audit_archive", Access.WRITE)));
        assertThat(PolicyEngine.decide(p, op(), c).action()).isEqualTo(Action.DENY);
    }

    // F1b: same for reads: SELECT * FROM public.orders, secret.api_keys
    @Test
    void allowOnObjectsDoesNotCoverOtherObjectsRead() throws Exception {
        Policy p = policy("""
                rules:
                  - name: orders-readable
                    match: { objects: ["public.orders"], kind: [read] }
                    action: allow
                """);
        Classification c = of(st(Kind.READ, "SELECT",
                ObjectAccess.of("public.orders", Access.READ),
                ObjectAccess.of("secret.api_keys", Access.READ)));
        assertThat(PolicyEngine.decide(p, op(), c).action()).isEqualTo(Action.DENY);
    }

    // F1c: same for columns: SELECT id, password_hash FROM public.users
    @Test
    void allowOnColumnsDoesNotCoverOtherColumns() throws Exception {
        Policy p = policy("""
                rules:
                  - name: user-ids
                    match: { columns: ["public.users.id"], kind: [read] }
                    action: allow
                """);
        Classification c = of(st(Kind.READ, "SELECT",
                new ObjectAccess("public.users", Access.READ, List.of("id", "password_hash"))));
        assertThat(PolicyEngine.decide(p, op(), c).action()).isEqualTo(Action.DENY);
    }

    // F2: the "declares readers" kind substitution is applied only inside the rule that names the functions, so a
    // kind-filtered deny rule never sees the write: UPDATE audit_log SET note = app.get_note(1) is UNKNOWN
    // (unproven app.get_note, kindIfProven WRITE); the reader rule turns it into an allowed write, while
    // protect-audit-log (kind [write, ddl]) still sees UNKNOWN and does not match.
    @Test
    void declaredReaderFunctionDoesNotHideAWriteFromADenyRule() throws Exception {
        Policy p = policy(PolicyEngineTest.STORY + """
                  - name: our-readers
                    match: { functions: ["app.get_*"], kind: [read, write] }
                    action: allow
                """);
        Statement s = new Statement(Kind.UNKNOWN, "", "UPDATE",
                List.of(new ObjectAccess("public.audit_log", Access.WRITE, List.of("note"))),
                List.of("app.get_note"), Set.of(), List.of("app.get_note is not a built-in"),
                List.of("app.get_note"), Kind.WRITE);
        Decision d = PolicyEngine.decide(p, op(), of(s));
        assertThat(d.action()).isEqualTo(Action.DENY);
        assertThat(d.rule()).isEqualTo("protect-audit-log");
    }

    // F3: the statement-kind filter also hides writes of kind admin: COPY public.audit_log FROM '/tmp/x' is ADMIN
    // (file_access) with audit_log WRITE; protect-audit-log (kind [write, ddl]) does not match, the admin approve
    // rule does: approve instead of deny.
    @Test
    void copyFromFileIntoProtectedTableIsStillAWriteOnIt() throws Exception {
        Policy p = policy(PolicyEngineTest.STORY + """
                  - name: maintenance
                    match: { kind: [admin] }
                    action: approve
                """);
        Statement s = new Statement(Kind.ADMIN, "", "COPY",
                List.of(ObjectAccess.of("public.audit_log", Access.WRITE)), List.of(), Set.of("file_access"),
                List.of("COPY FROM a server file: /tmp/x"));
        assertThat(PolicyEngine.decide(p, op(), of(s)).action()).isEqualTo(Action.DENY);
    }

    // F4: among several matching approve rules the FIRST one's approval spec is used, so an earlier, laxer
    // approve rule (1 approver, hold) overrides a later one that requires 2 approvers.
    @Test
    void strictestApprovalSpecAppliesWithinAStatement() throws Exception {
        Policy p = policy("""
                rules:
                  - name: schema-changes
                    match: { kind: [ddl] }
                    action: approve
                  - name: audit-ddl-needs-two
                    match: { objects: ["public.audit_log"], kind: [ddl] }
                    action: approve
                    approval: { approvers: 2 }
                """);
        Decision d = PolicyEngine.decide(p, op(), of(st(Kind.DDL, "ALTER TABLE",
                ObjectAccess.of("public.audit_log", Access.DDL))));
        assertThat(d.action()).isEqualTo(Action.APPROVE);
        assertThat(d.approval().approvers()).isEqualTo(2);
    }

    // F4b: same across statements: "ALTER TABLE public.t ...; ALTER TABLE public.audit_log ..." needs only the
    // first statement's 1 approver.
    @Test
    void strictestApprovalSpecAppliesAcrossStatements() throws Exception {
        Policy p = policy("""
                rules:
                  - name: schema-changes
                    match: { kind: [ddl] }
                    action: approve
                  - name: audit-ddl-needs-two
                    match: { objects: ["public.audit_log"], kind: [ddl] }
                    action: approve
                    approval: { approvers: 2 }
                """);
        Decision d = PolicyEngine.decide(p, op(), of(
                st(Kind.DDL, "ALTER TABLE", ObjectAccess.of("public.t", Access.DDL)),
                st(Kind.DDL, "ALTER TABLE", ObjectAccess.of("public.audit_log", Access.DDL))));
        assertThat(d.action()).isEqualTo(Action.APPROVE);
        assertThat(d.approval().approvers()).isEqualTo(2);
    }

    // F5: "kind: []" is accepted (README: an empty match list is a load error) and then matches EVERY kind.
    @Test
    void emptyKindListIsALoadError() {
        assertThatThrownBy(() -> policy("""
                rules:
                  - name: no-kinds
                    match: { kind: [] }
                    action: allow
                """)).isInstanceOf(ConfigException.class);
    }

    @Test
    void emptyKindListDoesNotAllowDdl() throws Exception {
        Policy p;
        try {
            p = policy("""
                    rules:
                      - name: sandbox
                        match: { objects: ["sandbox.*"], kind: [] }
                        action: allow
                    """);
        } catch (ConfigException e) {
            return; // refusing to load is safe
        }
        Decision d = PolicyEngine.decide(p, op(), of(st(Kind.DDL, "DROP TABLE",
                ObjectAccess.of("sandbox.t", Access.DDL))));
        assertThat(d.action()).isEqualTo(Action.DENY);
    }

    // F6: an unknown flag name loads silently, so a misspelled deny rule is dead (the classifier only ever emits
    // destructive, locks, file_access, server_side_code, privilege).
    @Test
    void unknownFlagIsALoadError() {
        assertThatThrownBy(() -> policy("""
                rules:
                  - name: no-destruction
                    match: { flags: [destrutive] }
                    action: deny
                """)).isInstanceOf(ConfigException.class);
    }

    // F7: columns the classifier could not expand (offline, or catalog down: SELECT * FROM users gives column "*")
    // do not match a column rule: the approve rule on users.email is skipped and the read is allowed.
    @Test
    void starColumnMatchesAColumnRuleOfItsTable() throws Exception {
        Policy p = policy("""
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: pii
                    match: { columns: ["public.users.email"] }
                    action: approve
                """);
        Classification c = of(st(Kind.READ, "SELECT",
                new ObjectAccess("public.users", Access.READ, List.of("*"))));
        assertThat(PolicyEngine.decide(p, op(), c).action()).isEqualTo(Action.APPROVE);
    }

    // F8: without enrichment (offline, catalog unavailable, enrichment failed) tags are unknown, yet a tags rule is
    // treated as not matching (fail open), while rows_over treats a missing estimate as exceeded (fail closed).
    @Test
    void tagsRuleFailsClosedWithoutEnrichment() throws Exception {
        Policy p = policy("""
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: pii
                    match: { tags: [pii] }
                    action: deny
                """);
        Classification c = of(st(Kind.READ, "SELECT",
                new ObjectAccess("public.users", Access.READ, List.of("ssn"))))
                .withEnrichment(Set.of(), Classification.NO_ESTIMATE, "enrichment failed: connection refused");
        assertThat(PolicyEngine.decide(p, op(), c).action()).isEqualTo(Action.DENY);
    }

    // F9: Glob quotes each UTF-16 char separately, splitting surrogate pairs: a literal glob with a non-BMP
    // character (a quoted identifier such as "\uD83D\uDD12log") never matches the very same name. ("?" is fine.)
    @Test
    void globWithSupplementaryCharacterMatchesItself() throws Exception {
        Policy p = policy("""
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: secret
                    match: { objects: ["public.\uD83D\uDD12log"] }
                    action: deny
                """);
        Classification c = of(st(Kind.READ, "SELECT", ObjectAccess.of("public.\uD83D\uDD12log", Access.READ)));
        assertThat(PolicyEngine.decide(p, op(), c).action()).isEqualTo(Action.DENY);
        assertThat(Glob.of("public.?log").matches("public.\uD83D\uDD12log")).isTrue();
    }
}
