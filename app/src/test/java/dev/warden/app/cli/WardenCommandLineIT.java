package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line as outside tooling calls it: a real process, its exit status, stdout and stderr. */
class WardenCommandLineIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String POLICY = """
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

    @TempDir
    Path dir;

    Path policy() throws Exception {
        return Files.writeString(dir.resolve("policy.yaml"), POLICY);
    }

    @Test
    void lintOfAMisspelledKeyNamesFileLineAndKeyAndExits2() throws Exception {
        Path p = Files.writeString(dir.resolve("bad.yaml"), POLICY.replace("match: { kind: [ddl] }", "mach: { kind: [ddl] }"));
        WardenProcess.Result r = WardenProcess.run(null, "policy", "lint", p.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.stdout()).isEmpty();
        assertThat(r.stderr().strip()).isEqualTo("warden: " + p + ":6: rules[1].mach: unknown key (expected one of: name, match, action, reason, approval)");
    }

    @Test
    void lintOfAValidPolicyExits0() throws Exception {
        WardenProcess.Result r = WardenProcess.run(null, "policy", "lint", policy().toString());
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("ok:").contains("3 rules");
    }

    @Test
    void checkJsonPrintsExactlyOneDocumentWithTheContractFields() throws Exception {
        WardenProcess.Result r = WardenProcess.run(null, "check", "--policy", policy().toString(), "--engine", "postgres",
                "--json", "DROP TABLE audit_log");
        assertThat(r.exit()).as(r.stderr()).isZero();
        JsonNode doc = JSON.readTree(r.stdout());
        assertThat(doc.get("decision").asText()).isEqualTo("deny");
        assertThat(doc.has("kind")).isTrue();
        assertThat(doc.has("rule")).isTrue();
        assertThat(doc.get("reasons").isArray()).isTrue();
        assertThat(doc.get("statements").isArray()).isTrue();
    }

    @Test
    void checkAllowsAReadInATransactionAndDeniesAWriteStackedBehindCommit() throws Exception {
        WardenProcess.Result read = WardenProcess.run(null, "check", "--policy", policy().toString(), "--engine", "postgres",
                "--json", "BEGIN; SELECT lower('X'), now() FROM orders; COMMIT");
        JsonNode r = JSON.readTree(read.stdout());
        assertThat(r.get("decision").asText()).isEqualTo("allow");
        assertThat(r.get("rule").asText()).isEqualTo("reads");
        WardenProcess.Result write = WardenProcess.run(null, "check", "--policy", policy().toString(), "--engine", "postgres",
                "--json", "COMMIT; DELETE FROM orders");
        JsonNode w = JSON.readTree(write.stdout());
        assertThat(w.get("decision").asText()).isEqualTo("deny");
        assertThat(w.get("kind").asText()).isEqualTo("write");
        assertThat(w.get("statements").get(1).get("flags").toString()).contains("destructive");
    }

    @Test
    void checkApprovesDdlAndNamesTheRule() throws Exception {
        WardenProcess.Result r = WardenProcess.run(null, "check", "--policy", policy().toString(), "--engine", "postgres",
                "CREATE INDEX CONCURRENTLY orders_total ON orders (total)");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("decision: approve").contains("rule: schema-changes");
    }

    @Test
    void classifyJsonShowsAHiddenWrite() throws Exception {
        WardenProcess.Result r = WardenProcess.run(null, "classify", "--engine", "postgres", "--json",
                "WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone");
        JsonNode c = JSON.readTree(r.stdout());
        assertThat(c.get("kind").asText()).isEqualTo("write");
        assertThat(c.get("statements").get(0).get("objects").toString()).contains("public.orders").contains("\"write\"");
    }

    @Test
    void checkReadsTheStatementFromStandardInput() throws Exception {
        WardenProcess.Result r = WardenProcess.run("DROP TABLE audit_log", "check", "--policy", policy().toString(),
                "--engine", "postgres", "--json", "-");
        assertThat(r.exit()).isZero();
        assertThat(JSON.readTree(r.stdout()).get("decision").asText()).isEqualTo("deny");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mysql", "mongodb"})
    void anEngineWithoutAClassifierIsDeniedNotAnError(String engine) throws Exception {
        String stmt = engine.equals("mongodb") ? "{\"find\": \"users\", \"$db\": \"app\"}" : "SELECT 1";
        WardenProcess.Result r = WardenProcess.run(null, "check", "--policy", policy().toString(), "--engine", engine, "--json", stmt);
        assertThat(r.exit()).isZero();
        JsonNode doc = JSON.readTree(r.stdout());
        assertThat(doc.get("decision").asText()).isEqualTo("deny");
        assertThat(doc.get("kind").asText()).isEqualTo("unknown");
        assertThat(doc.get("reasons").toString()).contains("no classifier for the " + engine + " engine");
    }

    @Test
    void usageAndConfigurationErrorsExit2WithOneLine() throws Exception {
        WardenProcess.Result missing = WardenProcess.run(null, "check", "--policy", dir.resolve("nope.yaml").toString(),
                "--engine", "postgres", "--json", "SELECT 1");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.stdout()).isEmpty();
        assertThat(missing.stderr().strip().lines()).hasSize(1);
        WardenProcess.Result badEngine = WardenProcess.run(null, "check", "--policy", policy().toString(), "--engine", "oracle", "SELECT 1");
        assertThat(badEngine.exit()).isEqualTo(2);
        assertThat(badEngine.stderr()).contains("unknown engine 'oracle'");
        WardenProcess.Result noSource = WardenProcess.run(null, "check", "--engine", "postgres", "SELECT 1");
        assertThat(noSource.exit()).isEqualTo(2);
    }

    @Test
    void policyTestReportsFailuresAndExits1() throws Exception {
        policy();
        Path cases = Files.writeString(dir.resolve("cases.yaml"), """
                policy: policy.yaml
                cases:
                  - name: dropping the audit log is denied
                    statement: DROP TABLE audit_log
                    engine: postgres
                    expect: deny
                  - name: a wrong expectation
                    statement: DROP TABLE audit_log
                    engine: postgres
                    expect: allow
                """);
        WardenProcess.Result r = WardenProcess.run(null, "policy", "test", cases.toString());
        assertThat(r.exit()).as(r.stderr()).isEqualTo(1);
        assertThat(r.stdout()).contains("PASS").contains("FAIL").contains("expected allow, got deny").contains("1 passed, 1 failed");
        Path passing = Files.writeString(dir.resolve("passing.yaml"), """
                - statement: DROP TABLE audit_log
                  engine: postgres
                  expect: deny
                """);
        WardenProcess.Result ok = WardenProcess.run(null, "policy", "test", passing.toString(), "--policy", dir.resolve("policy.yaml").toString());
        assertThat(ok.exit()).as(ok.stdout() + ok.stderr()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"classify", "check", "policy lint", "policy test"})
    void everyCommandHasHelpWithExamples(String command) {
        String[] args = (command + " --help").split(" ");
        WardenProcess.Result r = WardenProcess.run(null, args);
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).contains("Usage: warden " + command).containsIgnoringCase("example");
    }
}
