package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.LiveShop;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Red-team cases: user code that PostgreSQL runs although the statement never names it — a domain's CHECK, a type's
 * support functions, the operator class that sorts a type, an implicit cast, triggers, column defaults, generated
 * columns, CHECK constraints, index expressions, row-level security WITH CHECK. Each case first proves on a real
 * (embedded) PostgreSQL that the code ran (a row lands in public.audit), then asserts the safe expectation: a read
 * is not proven a read, and a write names the function it runs among its unproven functions.
 */
class RedTeamUserCodeTest {
    static LiveShop shop;

    @BeforeAll
    static void start() throws Exception {
        shop = LiveShop.start("""
                CREATE TABLE public.audit (what text);
                -- A domain whose CHECK calls a writer, used as a column, inside a composite, and as an array.
                CREATE FUNCTION public.chk(text) RETURNS bool LANGUAGE plpgsql
                    AS 'BEGIN INSERT INTO public.audit VALUES (''chk''); RETURN true; END';
                CREATE DOMAIN public.d AS text CHECK (public.chk(VALUE));
                CREATE TABLE public.td (id int, dv public.d);
                INSERT INTO public.td VALUES (1, 'a');
                CREATE TYPE public.comp AS (a int, b public.d);
                CREATE VIEW public.vd AS SELECT 'v'::public.d AS x;
                -- Domains and composites with nothing but PostgreSQL's own code.
                CREATE DOMAIN public.posint AS int CHECK (VALUE > 0);
                CREATE TYPE public.plain AS (a int, b text);
                CREATE TABLE public.tp (id public.posint, p public.plain);
                INSERT INTO public.tp VALUES (1, ROW(1, 'x'));
                -- An implicit cast: any use of a pair2 where text is wanted runs it.
                CREATE TYPE public.pair2 AS (a int, b int);
                CREATE TABLE public.pt2 (p public.pair2);
                INSERT INTO public.pt2 VALUES (ROW(1, 2));
                CREATE FUNCTION public.pair2_text(public.pair2) RETURNS text LANGUAGE plpgsql
                    AS 'BEGIN INSERT INTO public.audit VALUES (''implicit''); RETURN ''x''; END';
                CREATE CAST (public.pair2 AS text) WITH FUNCTION public.pair2_text(public.pair2) AS IMPLICIT;
                -- Writes: defaults, generated columns, CHECK constraints, index expressions, a domain default. An
                -- IMMUTABLE function may still call a volatile one that writes.
                CREATE FUNCTION public.bump() RETURNS int LANGUAGE plpgsql
                    AS 'BEGIN INSERT INTO public.audit VALUES (''bump''); RETURN 1; END';
                CREATE FUNCTION public.imm(int) RETURNS int LANGUAGE plpgsql IMMUTABLE
                    AS 'BEGIN PERFORM public.bump(); RETURN $1; END';
                CREATE TABLE public.tdef (id int, x int DEFAULT public.bump());
                CREATE TABLE public.tgen (x int, y int GENERATED ALWAYS AS (public.imm(x)) STORED);
                CREATE TABLE public.tck (x int CHECK (public.imm(x) > 0));
                CREATE TABLE public.tidx (x int);
                CREATE INDEX ON public.tidx (public.imm(x));
                CREATE DOMAIN public.dd AS int DEFAULT public.bump();
                CREATE TABLE public.tdd (id int, v public.dd);
                -- Row-level security: only the INSERT policy's WITH CHECK calls user code.
                CREATE FUNCTION public.pol(int) RETURNS bool LANGUAGE plpgsql
                    AS 'BEGIN INSERT INTO public.audit VALUES (''pol''); RETURN true; END';
                CREATE TABLE public.trls (id int);
                ALTER TABLE public.trls ENABLE ROW LEVEL SECURITY;
                ALTER TABLE public.trls FORCE ROW LEVEL SECURITY;
                CREATE POLICY ins ON public.trls FOR INSERT WITH CHECK (public.pol(id));
                CREATE POLICY sel ON public.trls FOR SELECT USING (true);
                -- Triggers: row and statement level, TRUNCATE, INSTEAD OF on a view, on a partition.
                CREATE FUNCTION public.trig() RETURNS trigger LANGUAGE plpgsql
                    AS 'BEGIN INSERT INTO public.audit VALUES (''trig:'' || TG_OP); RETURN NULL; END';
                CREATE TABLE public.tt (id int);
                INSERT INTO public.tt VALUES (1);
                CREATE TRIGGER ti AFTER INSERT ON public.tt FOR EACH ROW EXECUTE FUNCTION public.trig();
                CREATE TRIGGER tu AFTER UPDATE ON public.tt FOR EACH STATEMENT EXECUTE FUNCTION public.trig();
                CREATE TRIGGER td AFTER DELETE ON public.tt FOR EACH STATEMENT EXECUTE FUNCTION public.trig();
                CREATE TRIGGER tr BEFORE TRUNCATE ON public.tt FOR EACH STATEMENT EXECUTE FUNCTION public.trig();
                CREATE TABLE public.tonly (id int);
                CREATE TABLE public.tt_plain (id int, n serial, at timestamptz DEFAULT now());
                CREATE TABLE public.pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
                CREATE TABLE public.pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
                INSERT INTO public.pgbench_accounts VALUES (1, 1, 0, '');
                CREATE TRIGGER u AFTER UPDATE ON public.tonly FOR EACH STATEMENT EXECUTE FUNCTION public.trig();
                CREATE VIEW public.vt AS SELECT 1 AS id;
                CREATE TRIGGER io INSTEAD OF INSERT ON public.vt FOR EACH ROW EXECUTE FUNCTION public.trig();
                CREATE TABLE public.parted (id int) PARTITION BY RANGE (id);
                CREATE TABLE public.parted_1 PARTITION OF public.parted FOR VALUES FROM (0) TO (100);
                CREATE TRIGGER pi AFTER INSERT ON public.parted_1 FOR EACH ROW EXECUTE FUNCTION public.trig();
                CREATE TYPE public.pair AS (a int, b int);
                CREATE TABLE public.pt (p public.pair);
                INSERT INTO public.pt VALUES (ROW(2, 1)), (ROW(1, 2));
                CREATE TABLE public.tix (id int);
                INSERT INTO public.tix SELECT g FROM generate_series(1, 1000) g;
                CREATE TABLE public.tpair (id int, p public.pair);
                INSERT INTO public.tpair VALUES (1, ROW(2, 1)), (2, ROW(1, 2));
                CREATE TABLE public.tdefimm (id int, x int DEFAULT public.imm(7));
                CREATE DOMAIN public.dd2 AS public.d;
                CREATE DOMAIN public.regrole AS text CHECK (public.chk(VALUE));
                CREATE TABLE public.tsec (id int, secret text);
                INSERT INTO public.tsec VALUES (1, 's3cr3t');
                """);
        // What only a superuser may create: operator classes and base types (a database may hold them all the same).
        shop.superuser("""
                CREATE FUNCTION public.pair_cmp(public.pair, public.pair) RETURNS int LANGUAGE plpgsql
                    AS 'BEGIN INSERT INTO public.audit VALUES (''cmp''); RETURN 0; END';
                CREATE FUNCTION public.pair_lt(public.pair, public.pair) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT false';
                CREATE FUNCTION public.pair_eq(public.pair, public.pair) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT true';
                CREATE OPERATOR public.<<< (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_lt);
                CREATE OPERATOR public.=== (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_eq);
                CREATE OPERATOR CLASS public.pair_ops DEFAULT FOR TYPE public.pair USING btree AS
                    OPERATOR 1 public.<<<, OPERATOR 3 public.===, FUNCTION 1 public.pair_cmp(public.pair, public.pair);
                -- A second operator class for int, with PostgreSQL's own operators but a user comparison function.
                CREATE FUNCTION public.int_cmp(int, int) RETURNS int LANGUAGE plpgsql
                    AS 'BEGIN INSERT INTO public.audit VALUES (''intcmp''); RETURN btint4cmp($1, $2); END';
                CREATE OPERATOR CLASS public.int_evil_ops FOR TYPE int USING btree AS
                    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >, FUNCTION 1 public.int_cmp(int, int);
                CREATE INDEX tix_id ON public.tix (id public.int_evil_ops);
                ANALYZE public.tix;
                -- A base type whose type-modifier input function is PL/pgSQL.
                CREATE TYPE public.mt;
                CREATE FUNCTION public.mt_in(cstring) RETURNS public.mt LANGUAGE internal IMMUTABLE STRICT AS 'textin';
                CREATE FUNCTION public.mt_out(public.mt) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'textout';
                CREATE FUNCTION public.mt_typmod(cstring[]) RETURNS int LANGUAGE plpgsql
                    AS 'BEGIN INSERT INTO public.audit VALUES (''typmod''); RETURN 5; END';
                CREATE TYPE public.mt (INPUT = public.mt_in, OUTPUT = public.mt_out, TYPMOD_IN = public.mt_typmod, LIKE = text);
                -- Extensions' types, operator classes and casts are an administrator's code, as their operators are.
                CREATE EXTENSION citext;
                CREATE EXTENSION hstore;
                CREATE TABLE public.tx (c public.citext, h public.hstore);
                INSERT INTO public.tx VALUES ('A', 'a=>1'), ('b', 'b=>2');
                GRANT ALL ON public.tx TO app;
                """);
        shop.openCatalog(Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (shop != null) shop.close();
    }

    static long audit() throws SQLException {
        return shop.longValue("SELECT count(*) FROM public.audit");
    }

    /** Runs the text in a transaction that is rolled back, and asserts that it wrote to public.audit meanwhile. */
    static void provesUserCodeRuns(String sql) throws SQLException {
        assertThat(auditRowsOf(sql)).as("PostgreSQL really ran user code for: %s", sql).isPositive();
    }

    static void provesNoUserCodeRuns(String sql) throws SQLException {
        assertThat(auditRowsOf(sql)).as("PostgreSQL ran no user code for: %s", sql).isZero();
    }

    private static long auditRowsOf(String sql) throws SQLException {
        return shop.rowsAddedBy(sql, "SELECT count(*) FROM public.audit");
    }

    static Classification classify(String sql) {
        return shop.classify(sql);
    }

    static void notRead(String sql, String function) {
        Classification c = classify(sql);
        Statement s = c.statements().getLast();
        assertThat(c.kind()).as("%s was classified %s: %s", sql, c.kind(), s).isNotEqualTo(Kind.READ);
        assertThat(s.functions()).as("the functions of %s", sql).contains(function);
        assertThat(s.unproven()).as("the unproven functions of %s", sql).contains(function);
    }

    /** A write that runs the database's own code: still a write, the code named among its functions and reasons. */
    static void recordedWrite(String sql, String function) {
        Statement s = classify(sql).statements().getFirst();
        assertThat(s.kind()).as("%s: %s", sql, s).isEqualTo(Kind.WRITE);
        assertThat(s.functions()).as("the functions of %s", sql).contains(function);
        assertThat(s.unproven()).as("the unproven functions of %s", sql).doesNotContain(function);
        assertThat(String.join("\n", s.reasons())).as("%s", sql).contains(function);
    }

    // ---- 1. a domain's CHECK runs wherever a value becomes that domain ---------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT 'x'::d",
            "SELECT CAST('y' AS public.d)",
            "SELECT d 'z'",
            "SELECT NULL::d",
            "SELECT '{a,b}'::d[]",
            "SELECT '(1,q)'::comp",
            "SELECT ROW(1, 'r')::comp",
            "SELECT * FROM json_populate_record(NULL::td, '{\"id\": 1, \"dv\": \"jp\"}')",
            "SELECT * FROM json_to_record('{\"a\": \"jr\"}') AS x(a d)",
            "SELECT * FROM xmltable('/r' PASSING '<r><a>x</a></r>' COLUMNS a d PATH 'a')",
            "SELECT json_populate_record(td, '{\"dv\": \"w\"}') FROM td",
            "SELECT jsonb_populate_recordset(NULL::comp, '[{\"b\": \"w\"}]')",
            "SELECT domain_in('din', 'd'::regtype, -1) IS NULL",
            "SELECT * FROM vd",
            "EXPLAIN ANALYZE SELECT 'x'::d"})
    void aDomainCheckRunsInARead(String sql) throws SQLException {
        provesUserCodeRuns(sql);
        notRead(sql, "public.chk");
    }

    @Test
    void aPreparedStatementWithADomainParameterRunsTheCheckOnExecute() throws SQLException {
        String sql = "PREPARE q(d) AS SELECT 1; EXECUTE q('pp')";
        provesUserCodeRuns(sql);
        notRead(sql, "public.chk");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "INSERT INTO td VALUES (2, 'ins')",
            "INSERT INTO td (id) VALUES (2)", // the NULL the column gets is checked too
            "UPDATE td SET dv = 'u' WHERE id = 1",
            "INSERT INTO td SELECT 3, 'sel'"})
    void aDomainCheckRunsInAWrite(String sql) throws SQLException {
        provesUserCodeRuns(sql);
        recordedWrite(sql, "public.chk");
    }

    // ---- 2. no false alarms: reading a domain column, PostgreSQL's own checks, writes that run nothing -----------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT dv FROM td",
            "SELECT * FROM td WHERE dv = 'a'",
            "SELECT 1::posint",
            "SELECT '(1,x)'::plain",
            "SELECT * FROM tp ORDER BY p",
            "SELECT 1::information_schema.cardinal_number",
            "SELECT * FROM tt",
            "SELECT abalance FROM pgbench_accounts WHERE aid = 1",
            "SELECT * FROM tdef",
            "SELECT * FROM tx ORDER BY c",
            "SELECT DISTINCT h FROM tx",
            "SELECT h -> 'a', h['b'] FROM tx WHERE c = 'a'",
            "SELECT 'x'::citext, 'a=>1'::hstore",
            "SELECT '{}'::json, h::json FROM tx",
            // a driver's metadata query: PostgreSQL's catalogs, its own types
            "SELECT c.relname, a.attname, t.typname, pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_class c"
                    + " JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid JOIN pg_catalog.pg_type t ON t.oid = a.atttypid"
                    + " LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum"
                    + " WHERE c.relname = 'td' ORDER BY c.relname, a.attnum"})
    void plainReadsStayReads(String sql) throws SQLException {
        provesNoUserCodeRuns(sql);
        Classification c = classify(sql);
        assertThat(c.kind()).as("%s: %s", sql, c.statements()).isEqualTo(Kind.READ);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "UPDATE td SET id = 5 WHERE id = 1", // dv keeps its value: nothing is checked
            "INSERT INTO tonly VALUES (1)", // its only trigger is for UPDATE
            "DELETE FROM tdef WHERE id = 1",
            "INSERT INTO tp VALUES (2, ROW(2, 'y'))", // PostgreSQL's own checks and types
            "INSERT INTO tx VALUES ('C', 'c=>3')",
            "INSERT INTO tt_plain VALUES (1)", // a serial column's nextval adds nothing to a write
            "UPDATE pgbench_accounts SET abalance = abalance + 5 WHERE aid = 1",
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 5, CURRENT_TIMESTAMP)"})
    void plainWritesStayWrites(String sql) throws SQLException {
        provesNoUserCodeRuns(sql);
        Classification c = classify(sql);
        assertThat(c.kind()).as("%s: %s", sql, c.statements()).isEqualTo(Kind.WRITE);
    }

    // ---- 3. type support functions and operator classes ----------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT * FROM pt ORDER BY p",
            "SELECT DISTINCT p FROM pt",
            "SELECT p FROM pt GROUP BY p",
            "SELECT p FROM pt UNION SELECT p FROM pt",
            "SELECT array_agg(p ORDER BY p) FROM pt"})
    void aUserOperatorClassSortsAUserType(String sql) throws SQLException {
        provesUserCodeRuns(sql);
        notRead(sql, "public.pair_cmp");
    }

    @Test
    void anIndexScanThroughAUserOperatorClass() throws SQLException {
        provesUserCodeRuns("SET LOCAL enable_seqscan = off; SELECT * FROM tix WHERE id = 5");
        String sql = "SELECT * FROM tix WHERE id = 5";
        Classification c = classify(sql);
        assertThat(c.kind()).as("%s: %s", sql, c.statements()).isNotEqualTo(Kind.READ);
        assertThat(String.join("\n", c.statements().getFirst().reasons())).contains("public.tix");
    }

    @Test
    void aWriteThroughAUserOperatorClassIndex() throws SQLException {
        provesUserCodeRuns("INSERT INTO tix VALUES (5000)");
        recordedWrite("INSERT INTO tix VALUES (5000)", "public.int_cmp");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SELECT 'x'::mt(3)", "SELECT CAST('x' AS public.mt(3))"})
    void aTypeModifierFunctionRunsOnACast(String sql) throws SQLException {
        provesUserCodeRuns(sql);
        notRead(sql, "public.mt_typmod");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SELECT length(p) FROM pt2", "SELECT upper(p) FROM pt2"})
    void anImplicitUserCastRunsWithoutACastInTheText(String sql) throws SQLException {
        provesUserCodeRuns(sql);
        notRead(sql, "public.pair2_text");
    }

    @Test
    void orderByUsingAUserOperator() {
        // The operator named after USING is an operator of the statement like any other.
        String sql = "SELECT * FROM tp ORDER BY id USING OPERATOR(public.<<<)";
        Statement s = classify(sql).statements().getFirst();
        assertThat(s.unproven()).as("%s", s).contains("operator public.<<<");
    }

    // ---- 4. writes that run triggers, defaults, generated columns, checks, index expressions, policies ------------

    @ParameterizedTest(name = "{0} runs {1}")
    @CsvSource(delimiter = '|', value = {
            "INSERT INTO tt VALUES (2)|public.trig",
            "UPDATE tt SET id = 3 WHERE false|public.trig", // a statement trigger fires for no rows too
            "DELETE FROM tt WHERE id = 1|public.trig",
            "TRUNCATE tt|public.trig",
            "INSERT INTO vt VALUES (5)|public.trig",
            "INSERT INTO parted VALUES (5)|public.trig",
            "INSERT INTO tdef (id) VALUES (1)|public.bump",
            "INSERT INTO tgen (x) VALUES (1)|public.imm",
            "INSERT INTO tck VALUES (1)|public.imm",
            "UPDATE tck SET x = 2 WHERE x = 1|public.imm",
            "INSERT INTO tidx VALUES (1)|public.imm",
            "INSERT INTO tdd (id) VALUES (1)|public.bump",
            "INSERT INTO trls VALUES (1)|public.pol",
            "WITH w AS (INSERT INTO tt VALUES (9) RETURNING id) SELECT * FROM w|public.trig",
            "EXPLAIN ANALYZE INSERT INTO tt VALUES (9)|public.trig"})
    void aWriteRunsUserCode(String sql, String function) throws SQLException {
        if (!sql.startsWith("UPDATE tck")) provesUserCodeRuns(sql);
        recordedWrite(sql, function);
    }

    @Test
    void copyFromFiresTheInsertTrigger() throws Exception {
        long before = audit();
        try (Connection c = shop.appConnection()) {
            var copy = new org.postgresql.copy.CopyManager(c.unwrap(org.postgresql.core.BaseConnection.class));
            copy.copyIn("COPY tt FROM STDIN", new StringReader("7\n"));
        }
        assertThat(audit()).as("the trigger ran").isGreaterThan(before);
        recordedWrite("COPY tt FROM STDIN", "public.trig");
    }

    @Test
    void selectForUpdateFiresNoTrigger() throws SQLException {
        provesNoUserCodeRuns("SELECT * FROM tt FOR UPDATE");
        assertThat(classify("SELECT * FROM tt FOR UPDATE").kind()).isEqualTo(Kind.WRITE);
    }

    @Test
    void explainWithoutAnalyzeRunsNoTrigger() throws SQLException {
        provesNoUserCodeRuns("EXPLAIN INSERT INTO tt VALUES (9)");
        assertThat(classify("EXPLAIN INSERT INTO tt VALUES (9)").kind()).isEqualTo(Kind.READ);
    }

    // ---- 5. what a policy concludes ------------------------------------------------------------------------------

    static final String POLICY = """
            rules:
              - name: no-audit-trigger
                match: { functions: ["public.trig"] }
                action: approve
              - name: writes
                match: { kind: [write] }
                action: allow
            """;

    /**
     * The database's own code on a write is the owner's, part of what writing that table means: the write stays a
     * write (no false denial of every table with an updated_at trigger), and a rule that names the code matches it.
     */
    @Test
    void aWriteThatFiresATriggerIsAWriteAndARuleOnTheTriggerFunctionMatchesIt() throws Exception {
        Policy policy = PolicyLoader.parse(Path.of("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8));
        assertThat(decide(policy, "INSERT INTO tt VALUES (2)").action()).isEqualTo(Action.APPROVE);
        assertThat(decide(policy, "INSERT INTO tonly VALUES (2)").action()).isEqualTo(Action.ALLOW);
        assertThat(decide(policy, "INSERT INTO td VALUES (2, 'x')").action()).isEqualTo(Action.ALLOW);
    }

    static Decision decide(Policy p, String sql) {
        return PolicyEngine.decide(p, LiveShop.op(sql), classify(sql));
    }

    // ---- 6. a column alias (FROM t AS x(a, b)) names a column by position, not by its catalog name ---------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT DISTINCT z FROM pt AS x(z)",
            "SELECT z FROM pt x(z) ORDER BY z",
            "SELECT z FROM pt AS x(z) GROUP BY z",
            "SELECT row_number() OVER (PARTITION BY z) FROM pt x(z)",
            "SELECT DISTINCT id FROM tpair AS x(p, id)", // id is p here: the pairs are sorted
            "SELECT DISTINCT x.id FROM tpair AS x(p, id)",
            "SELECT DISTINCT (x).id FROM tpair AS x(p, id)",
            "SELECT DISTINCT z FROM (pt CROSS JOIN tt) AS j(z, i)"})
    void aColumnAliasHidesTheUserTypeSorted(String sql) throws SQLException {
        provesUserCodeRuns(sql);
        notRead(sql, "public.pair_cmp");
    }

    @ParameterizedTest(name = "{0} reads {1}")
    @CsvSource(delimiter = '|', value = {
            "SELECT id FROM tsec AS s(secret, id)|secret",
            "SELECT s.id FROM tsec AS s(secret, id)|secret",
            "SELECT x.a2 FROM pgbench_accounts AS x(a2, b2)|aid",
            "SELECT b2 FROM pgbench_accounts AS x(a2, b2) ORDER BY a2|bid"})
    void aColumnAliasRecordsTheColumnItReads(String sql, String column) {
        Classification c = classify(sql);
        assertThat(c.kind()).as("%s: %s", sql, c.statements()).isEqualTo(Kind.READ);
        assertThat(c.statements().getFirst().objects().getFirst().columns()).as("%s", sql).contains(column);
    }

    // ---- 7. hstore's record #= hstore is populate_record: the record's domain CHECKs run ---------------------------

    @Test
    void hstorePopulatesARecordThroughAnOperator() throws SQLException {
        String sql = "SELECT td #= 'dv=>bad'::hstore FROM td";
        provesUserCodeRuns(sql);
        notRead(sql, "public.chk");
    }

    // ---- 8. EXPLAIN of a write: the planner folds an immutable default on constants --------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"EXPLAIN INSERT INTO tdefimm (id) VALUES (1)", "EXPLAIN UPDATE tdefimm SET x = DEFAULT"})
    void explainOfAWritePlansItsDefaults(String sql) throws SQLException {
        provesUserCodeRuns(sql);
        notRead(sql, "public.imm");
    }

    @Test
    void explainOfAWriteWithATriggerStaysARead() throws SQLException {
        provesNoUserCodeRuns("EXPLAIN INSERT INTO tt VALUES (9)");
        assertThat(classify("EXPLAIN INSERT INTO tt VALUES (9)").kind()).isEqualTo(Kind.READ);
    }

    // ---- 9. typename('…') is a cast to whichever type of that name the search path finds --------------------------

    @Test
    void aFunctionStyleCastToAUserTypeNamedLikeABuiltIn() throws SQLException {
        String sql = "SET search_path = public, pg_catalog; SELECT regrole('x')";
        provesUserCodeRuns(sql);
        notRead(sql, "public.chk");
    }
}
