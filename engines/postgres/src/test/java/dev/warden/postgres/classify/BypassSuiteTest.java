package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import dev.warden.core.engine.ClassifyContext;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Known public bypasses of SQL "read-only" guards, and our own adversarial variants. Each case asserts the exact
 * kind of the whole text and the exact union of the statements' flags (offline: no live catalog).
 */
class BypassSuiteTest {
    static final PostgresClassifier CLASSIFIER = new PostgresClassifier(NativePgQuery.require(),
            dev.warden.postgres.catalog.BuiltinCatalog.INSTANCE, 0);

    static Arguments c(String sql, Kind kind, String... flags) {
        return Arguments.of(sql, kind, Set.of(flags));
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // Stacked COMMIT escaping a BEGIN READ ONLY wrapper: Datadog Security Labs on Anthropic's reference
                // @modelcontextprotocol/server-postgres (SQL injection through v0.6.2, 2025).
                c("COMMIT; DROP SCHEMA public CASCADE;", Kind.DDL, "destructive"),
                c("COMMIT; DELETE FROM orders", Kind.WRITE, "destructive"),
                c("SELECT 1; DROP TABLE users; --", Kind.DDL, "destructive"),
                // Data-modifying CTEs behind a WITH prefix: perrypixel/Easy-Postgres-MCP#3, laravel/boost#588,
                // bytebase/dbhub#292, cubrid-lab/cubrid-mcp-server#40, crewAIInc/crewAI#5311 review.
                c("WITH d AS (DELETE FROM users RETURNING *) SELECT * FROM d", Kind.WRITE, "destructive"),
                c("WITH x AS (SELECT 1) UPDATE t SET a = 1", Kind.WRITE, "destructive"),
                c("WITH x AS (SELECT 1) DELETE FROM users WHERE id = 1", Kind.WRITE),
                c("WITH m AS (SELECT 1) DELETE FROM company", Kind.WRITE, "destructive"),
                // MERGE inside a CTE-less statement, missed by deny-lists of DML node types: bytebase/bytebase#20645.
                c("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", Kind.WRITE),
                // SELECT … INTO creates a table: bytebase/bytebase#20645.
                c("SELECT a INTO t2 FROM t", Kind.DDL),
                // FOR UPDATE takes row locks: cubrid-lab/cubrid-mcp-server#40.
                c("SELECT * FROM t FOR UPDATE", Kind.WRITE, "locks"),
                c("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", Kind.WRITE, "locks"),
                c("SELECT * FROM t FOR KEY SHARE OF t", Kind.WRITE, "locks"),
                // EXPLAIN ANALYZE executes: bytebase/dbhub#292 (and PostgreSQL's documentation of EXPLAIN).
                c("EXPLAIN ANALYZE DELETE FROM t", Kind.WRITE, "destructive"),
                c("EXPLAIN ANALYZE VERBOSE UPDATE t SET a = 1 WHERE id = 2", Kind.WRITE),
                c("EXPLAIN (ANALYZE) DELETE FROM t WHERE id = 1", Kind.WRITE),
                c("EXPLAIN (ANALYZE true) DELETE FROM t WHERE id = 1", Kind.WRITE),
                c("EXPLAIN (ANALYZE 'on') DELETE FROM t WHERE id = 1", Kind.WRITE),
                c("EXPLAIN (ANALYZE 1) DELETE FROM t WHERE id = 1", Kind.WRITE),
                c("EXPLAIN (ANALYZE \"on\") DELETE FROM t WHERE id = 1", Kind.WRITE),
                c("EXPLAIN (analyze yes) DELETE FROM t WHERE id = 1", Kind.WRITE),
                c("EXPLAIN (FORMAT JSON, ANALYZE, BUFFERS) INSERT INTO t VALUES (1)", Kind.WRITE),
                c("EXPLAIN (ANALYZE false, ANALYZE true) DELETE FROM t WHERE id = 1", Kind.WRITE),
                c("EXPLAIN ANALYZE WITH x AS (UPDATE t SET a = 1 WHERE id = 1 RETURNING *) SELECT * FROM x", Kind.WRITE),
                c("EXPLAIN (ANALYZE false) DELETE FROM t", Kind.READ),
                c("EXPLAIN (ANALYZE off) DELETE FROM t", Kind.READ),
                c("EXPLAIN (ANALYZE 0) DELETE FROM t", Kind.READ),
                c("EXPLAIN DELETE FROM t", Kind.READ),
                c("EXPLAIN (FORMAT JSON) SELECT * FROM t", Kind.READ),
                // Server files and programs called from a SELECT or FROM (classic PostgreSQL post-exploitation;
                // the pg_read_file-from-FROM case is named in issue 4).
                c("SELECT * FROM pg_read_file('/etc/passwd')", Kind.ADMIN, "file_access"),
                c("SELECT pg_ls_dir('.')", Kind.ADMIN, "file_access"),
                c("SELECT lo_import('/etc/passwd')", Kind.ADMIN, "file_access"),
                c("SELECT lo_export(16400, '/tmp/x')", Kind.ADMIN, "file_access"),
                c("COPY (SELECT 1) TO PROGRAM 'curl http://x'", Kind.UNKNOWN, "file_access", "server_side_code"),
                c("COPY t FROM PROGRAM 'id'", Kind.UNKNOWN, "file_access", "server_side_code"),
                c("COPY t TO '/tmp/t.csv'", Kind.ADMIN, "file_access"),
                c("COPY t FROM '/tmp/t.csv'", Kind.ADMIN, "file_access"),
                c("COPY t FROM STDIN", Kind.WRITE),
                c("COPY (WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d) TO STDOUT", Kind.WRITE, "destructive"),
                c("COPY (DELETE FROM t WHERE id = 1 RETURNING *) TO STDOUT", Kind.WRITE),
                // A volatile or user function called from a SELECT (theorydelta "MCP database servers' read-only
                // mode is a string check", 2026: load_extension in SQLite; the PostgreSQL equivalents below).
                c("SELECT my_writer()", Kind.UNKNOWN),
                c("SELECT nextval('orders_id_seq')", Kind.WRITE),
                c("SELECT setval('s', 1)", Kind.WRITE),
                c("SELECT txid_current()", Kind.WRITE),
                c("SELECT pg_advisory_lock(42)", Kind.WRITE, "locks"),
                c("SELECT pg_terminate_backend(123)", Kind.ADMIN),
                c("SELECT pg_reload_conf()", Kind.ADMIN),
                c("SELECT set_config('role', 'admin', false)", Kind.DCL, "privilege"),
                c("SELECT set_config(lower('ROLE'), 'admin', false)", Kind.UNKNOWN, "privilege"),
                c("SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')", Kind.UNKNOWN, "server_side_code"),
                c("SELECT * FROM dblink('dbname=x', 'DELETE FROM t') AS r(a int)", Kind.UNKNOWN, "server_side_code"),
                c("SELECT dblink_exec('dbname=x', 'DROP TABLE t')", Kind.UNKNOWN, "server_side_code"),
                c("SELECT dblink_some_future_function('x')", Kind.UNKNOWN, "server_side_code"),
                c("SELECT table_to_xml('secrets', true, true, '')", Kind.UNKNOWN, "server_side_code"),
                c("DO $$ BEGIN DELETE FROM t; END $$", Kind.UNKNOWN, "server_side_code"),
                c("CALL cleanup()", Kind.UNKNOWN, "server_side_code"),
                c("LOAD 'evil.so'", Kind.UNKNOWN, "file_access", "server_side_code"),
                // PREPARE/EXECUTE hiding the statement behind a name.
                c("PREPARE p AS DELETE FROM t; EXECUTE p", Kind.WRITE, "destructive"),
                c("EXECUTE never_prepared", Kind.UNKNOWN),
                c("PREPARE p AS SELECT 1; EXPLAIN ANALYZE EXECUTE p", Kind.SESSION),
                // Privilege and session changes.
                c("SET ROLE admin", Kind.DCL, "privilege"),
                c("SET SESSION AUTHORIZATION postgres", Kind.DCL, "privilege"),
                c("RESET ROLE", Kind.DCL, "privilege"),
                c("SET \"role\" = 'admin'", Kind.DCL, "privilege"),
                c("SET session_replication_role = replica", Kind.DCL, "privilege"),
                c("GRANT ALL ON t TO agent", Kind.DCL, "privilege"),
                c("ALTER ROLE agent SUPERUSER", Kind.DCL, "privilege"),
                c("SET statement_timeout = 1000", Kind.SESSION),
                c("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", Kind.SESSION),
                c("LISTEN ch", Kind.SESSION),
                c("NOTIFY ch, 'x'", Kind.SESSION),
                c("DISCARD ALL", Kind.SESSION),
                c("CREATE TEMP TABLE scratch (a int)", Kind.SESSION),
                c("PREPARE TRANSACTION 'x'", Kind.ADMIN),
                c("COMMIT PREPARED 'x'", Kind.ADMIN),
                c("ROLLBACK PREPARED 'x'", Kind.ADMIN),
                c("CHECKPOINT", Kind.ADMIN),
                c("VACUUM FULL t", Kind.ADMIN),
                c("ANALYZE t", Kind.ADMIN),
                c("CLUSTER t USING t_pkey", Kind.ADMIN),
                c("REINDEX TABLE t", Kind.ADMIN),
                c("ALTER SYSTEM SET work_mem = '1GB'", Kind.ADMIN),
                c("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", Kind.WRITE, "locks"),
                c("TRUNCATE t", Kind.WRITE, "destructive"),
                c("DELETE FROM t WHERE 1 = 1", Kind.WRITE, "destructive"),
                c("UPDATE t SET a = 1 WHERE true", Kind.WRITE, "destructive"),
                c("DELETE FROM t WHERE id = 1", Kind.WRITE),
                c("CREATE TABLE copy AS SELECT * FROM t", Kind.DDL),
                c("REFRESH MATERIALIZED VIEW mv", Kind.WRITE),
                // The search path changed in the same text: later names resolve elsewhere.
                c("SET search_path = evil; DROP TABLE audit_log", Kind.DDL, "destructive"),
                c("SELECT set_config('search_path', current_setting('x'), false); SELECT 1", Kind.UNKNOWN),
                // Our own: settings that change how the server lexes the next text (parser and server would disagree).
                c("SET standard_conforming_strings = off", Kind.UNKNOWN),
                c("SET standard_conforming_strings = on", Kind.SESSION),
                c("SELECT set_config('standard_conforming_strings', 'off', false)", Kind.UNKNOWN),
                c("SET client_encoding = 'SJIS'", Kind.UNKNOWN),
                c("SET client_encoding = 'UTF8'", Kind.SESSION),
                // Warden reads the wire as UTF-8: a non-ASCII name in LATIN1 would read as U+FFFD (found by review).
                c("SET client_encoding = 'LATIN1'", Kind.UNKNOWN),
                // Our own: comments and odd whitespace between keywords, case, quoting.
                c("sElEcT/**/1;/* x */dElEtE/**/fRoM\"t\"", Kind.WRITE, "destructive"),
                c("SELECT 1;\n\t--comment ; still comment\n\fDELETE\rFROM\tt", Kind.WRITE, "destructive"),
                // A vertical tab is not whitespace to the PostgreSQL 15 scanner: not positively labelled.
                c("SELECT 1;\u000bDELETE FROM t", Kind.UNKNOWN),
                c("/* nested /* comment */ ; */ DELETE FROM t", Kind.WRITE, "destructive"),
                c("SELECT 1 -- ; DELETE FROM t", Kind.READ),
                c("SELECT '; DELETE FROM t; '", Kind.READ),
                c("SELECT E'\\''; DELETE FROM t; SELECT ''", Kind.WRITE, "destructive"),
                c("SELECT 'x\\'; DELETE FROM t; --'", Kind.WRITE, "destructive"),
                c("SELECT $q$ ; DELETE FROM t; $q$", Kind.READ),
                c("SELECT $$;$$; DELETE FROM t", Kind.WRITE, "destructive"),
                c("SELECT $a$ $b$ ; $b$ $a$; DROP TABLE t", Kind.DDL, "destructive"),
                c("SELECT U&\"\\0070g_read_file\"('/etc/passwd')", Kind.ADMIN, "file_access"),
                c("SELECT \"PG_READ_FILE\"('/etc/passwd')", Kind.UNKNOWN),
                c("SELECT PG_READ_FILE('/etc/passwd')", Kind.ADMIN, "file_access"),
                c("SELECT pg_catalog.pg_read_file('/etc/passwd')", Kind.ADMIN, "file_access"),
                c("SELECT * FROM (((SELECT * FROM (WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d) x))) y", Kind.WRITE, "destructive"),
                c("WITH a AS (WITH b AS (INSERT INTO x VALUES (1) RETURNING 1) SELECT * FROM b) SELECT * FROM a", Kind.WRITE),
                c("SELECT (SELECT nextval('s'))", Kind.WRITE),
                c("SELECT * FROM t WHERE id IN (SELECT pg_advisory_lock(1))", Kind.WRITE, "locks"),
                c("SELECT 1 OPERATOR(public.===) 2", Kind.UNKNOWN),
                c("SELECT 1 ### 2", Kind.UNKNOWN),
                c("DECLARE c CURSOR FOR WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", Kind.WRITE, "destructive"),
                c("SELECT 1\u0000; DELETE FROM t", Kind.UNKNOWN),
                c("SELECT 1 FROM", Kind.UNKNOWN),
                c("SELECT * FROM t WHERE a = ?", Kind.UNKNOWN),
                // Ordinary reads that must stay reads.
                c("BEGIN READ ONLY", Kind.TCL),
                c("START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY", Kind.TCL),
                c("COMMIT", Kind.TCL),
                c("END", Kind.TCL),
                c("ROLLBACK", Kind.TCL),
                c("SAVEPOINT s1", Kind.TCL),
                c("RELEASE SAVEPOINT s1", Kind.TCL),
                c("ROLLBACK TO SAVEPOINT s1", Kind.TCL),
                c("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", Kind.TCL),
                c("SHOW search_path", Kind.READ),
                c("TABLE t", Kind.READ),
                c("VALUES (1, 'a'), (2, 'b')", Kind.READ),
                c("DECLARE c CURSOR FOR SELECT * FROM t", Kind.READ),
                c("FETCH 10 FROM c", Kind.READ),
                c("MOVE NEXT IN c", Kind.READ),
                c("CLOSE c", Kind.READ),
                c("COPY (SELECT * FROM t) TO STDOUT WITH (FORMAT csv)", Kind.READ),
                c("COPY t TO STDOUT", Kind.READ),
                c("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t", Kind.READ),
                c("SELECT lower(name), now(), jsonb_build_object('a', 1) FROM users", Kind.READ),
                c("SELECT * FROM generate_series(1, 10) g(i)", Kind.READ),
                c("SELECT random(), clock_timestamp(), gen_random_uuid(), timeofday()", Kind.READ),
                c("SELECT pg_size_pretty(pg_total_relation_size('t'))", Kind.READ),
                c("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r", Kind.READ),
                c("WITH a AS (WITH b AS (SELECT 1 AS x) SELECT * FROM b) SELECT * FROM a", Kind.READ),
                c("SELECT count(*) FILTER (WHERE a > 1), rank() OVER (PARTITION BY b ORDER BY c) FROM t GROUP BY b, c", Kind.READ),
                c("SELECT x::regclass, '{1,2}'::int[], now() AT TIME ZONE 'UTC', extract(year FROM now()) FROM t", Kind.READ),
                c("SELECT * FROM pg_stat_activity", Kind.READ),
                c("SELECT currval('s')", Kind.READ),
                c("", Kind.TCL),
                c("-- only a comment", Kind.TCL));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void classifiesExactly(String sql, Kind kind, Set<String> flags) {
        Classification c = CLASSIFIER.classify(sql, ClassifyContext.defaults());
        Set<String> actual = new TreeSet<>();
        for (Statement s : c.statements()) actual.addAll(s.flags());
        assertThat(c.kind()).as("kind of %s: %s", sql, c.statements()).isEqualTo(kind);
        assertThat(actual).as("flags of %s: %s", sql, c.statements()).isEqualTo(new TreeSet<>(flags));
        if (kind == Kind.UNKNOWN) {
            assertThat(c.statements()).anySatisfy(s -> assertThat(s.reasons()).isNotEmpty());
        }
    }
}
