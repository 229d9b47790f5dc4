package dev.warden.core.policy;

import static dev.warden.core.policy.PolicyEngineTest.of;
import static dev.warden.core.policy.PolicyEngineTest.op;
import static dev.warden.core.policy.PolicyEngineTest.policy;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Access;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The one rule both front ends follow for when the catalog is read again (and a wire session's transaction judged
 * without it): what may have run DDL, or code not proven to be read-only; a function an allow rule declares a reader
 * is proven by that rule.
 */
class MayChangeSchemaTest {
    static final String POLICY = """
            rules:
              - name: reads
                match: {kind: [read]}
                action: allow
              - name: declared-readers
                match: {functions: ["app.get_user"]}
                action: allow
              - name: others-need-a-person
                match: {functions: ["app.remake"]}
                action: approve
            """;

    static Statement call(String function, Kind ifProven) {
        return new Statement(Kind.UNKNOWN, "", "SELECT", List.of(ObjectAccess.of("public.users", Access.READ)),
                List.of(function), Set.of(), List.of(function + " is not proven"), List.of(function), ifProven);
    }

    @Test
    void ddlDclAdminAndUnknownMayChangeTheSchema() throws Exception {
        Policy p = policy(POLICY);
        for (Kind k : List.of(Kind.DDL, Kind.DCL, Kind.ADMIN, Kind.UNKNOWN)) {
            assertThat(PolicyEngine.mayChangeSchema(p, op(), of(PolicyEngineTest.stmt(k)))).as(k.label()).isTrue();
        }
        for (Kind k : List.of(Kind.TCL, Kind.READ, Kind.SESSION, Kind.WRITE)) {
            assertThat(PolicyEngine.mayChangeSchema(p, op(), of(PolicyEngineTest.stmt(k)))).as(k.label()).isFalse();
        }
    }

    @Test
    void aRoleChangeIsNotASchemaChange() throws Exception {
        Statement setRole = new Statement(Kind.DCL, "SET ROLE app", "SET ROLE", List.of(), List.of(), Set.of("privilege"), List.of());
        Statement grant = new Statement(Kind.DCL, "GRANT …", "GRANT", List.of(), List.of(), Set.of("privilege"), List.of());
        assertThat(PolicyEngine.mayChangeSchema(policy(POLICY), op(), of(setRole))).isFalse();
        assertThat(PolicyEngine.mayChangeSchema(policy(POLICY), op(), of(grant))).isTrue();
    }

    @Test
    void aFunctionAnAllowRuleDeclaresAReaderRunsNoDdl() throws Exception {
        assertThat(PolicyEngine.mayChangeSchema(policy(POLICY), op(), of(call("app.get_user", Kind.READ)))).isFalse();
    }

    @Test
    void aFunctionOnlyAnApproveRuleNamesMayRunDdl() throws Exception {
        assertThat(PolicyEngine.mayChangeSchema(policy(POLICY), op(), of(call("app.remake", Kind.READ)))).isTrue();
    }

    @Test
    void aDeclaredReaderInAStatementThatIsUnknownAnywayMayRunDdl() throws Exception {
        // Opaque besides the function (a DO block, an unknown command): the rule declares the function, not the rest.
        assertThat(PolicyEngine.mayChangeSchema(policy(POLICY), op(), of(call("app.get_user", Kind.UNKNOWN)))).isTrue();
        // And one of several statements that may change it is enough.
        assertThat(PolicyEngine.mayChangeSchema(policy(POLICY), op(),
                of(call("app.get_user", Kind.READ), PolicyEngineTest.stmt(Kind.DDL)))).isTrue();
    }
}
