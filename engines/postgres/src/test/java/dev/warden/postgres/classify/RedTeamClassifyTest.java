package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import dev.warden.postgres.LiveShop;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Red-team cases: statements that a real PostgreSQL runs with a side effect (proved first, against an embedded
 * server: a row lands in public.audit, or a sequence advances) but that Warden classifies as a plain read. Each test
 * asserts the SAFE expectation, so it fails while the bug is there. Live catalog unless the name says offline.
 */
class RedTeamClassifyTest {
    static LiveShop shop;
    static final PostgresClassifier OFFLINE = PostgresClassifier.offline();

    @BeforeAll
    static void start() throws Exception {
        shop = LiveShop.start("""
                CREATE TABLE public.audit (what text);
                CREATE SEQUENCE public.s;
                CREATE TABLE public.t (id int, v text);
                INSERT INTO public.t VALUES (1, 'a');
                -- An ordinary application function with a side effect, taking the row type of t.
                CREATE FUNCTION public.evil(public.t) RETURNS int LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''evil''); RETURN 1; END';
                CREATE FUNCTION public.evilrec(record) RETURNS int LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''evilrec''); RETURN 1; END';
                -- Views that call built-ins with side effects.
                CREATE VIEW public.v_seq AS SELECT nextval('public.s') AS n;
                CREATE VIEW public.v_lock AS SELECT pg_try_advisory_lock(42) AS l, pg_notify('ch', 'x')::text AS n;
                -- A user type with user operators and casts.
                CREATE TYPE public.pair AS (a int, b int);
                CREATE FUNCTION public.pair_cmp(public.pair, public.pair) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''op''); RETURN true; END';
                CREATE FUNCTION public.pair_like(public.pair, text) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''like''); RETURN true; END';
                CREATE OPERATOR public.>= (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_cmp);
                CREATE OPERATOR public.<= (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_cmp);
                CREATE OPERATOR public.< (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_cmp);
                CREATE OPERATOR public.= (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_cmp);
                CREATE OPERATOR public.~~ (LEFTARG = public.pair, RIGHTARG = text, FUNCTION = public.pair_like);
                CREATE OPERATOR public.~~* (LEFTARG = public.pair, RIGHTARG = text, FUNCTION = public.pair_like);
                CREATE OPERATOR public.~ (LEFTARG = public.pair, RIGHTARG = text, FUNCTION = public.pair_like);
                CREATE TABLE public.pt (id int, p public.pair);
                INSERT INTO public.pt VALUES (1, ROW(1, 2));
                CREATE TABLE public.pt2 (p public.pair, z int);
                INSERT INTO public.pt2 VALUES (ROW(1, 2), 5);
                CREATE FUNCTION public.to_pair(int) RETURNS public.pair LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''cast''); RETURN ROW($1, $1); END';
                CREATE CAST (int AS public.pair) WITH FUNCTION public.to_pair(int);
                CREATE FUNCTION public.pair_text(public.pair) RETURNS text LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''casttext''); RETURN ''x''; END';
                CREATE CAST (public.pair AS text) WITH FUNCTION public.pair_text(public.pair);
                -- Row-level security whose policy calls a writer.
                CREATE FUNCTION public.pol(int) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''pol''); RETURN true; END';
                CREATE TABLE public.rls (id int);
                INSERT INTO public.rls VALUES (1);
                ALTER TABLE public.rls ENABLE ROW LEVEL SECURITY;
                ALTER TABLE public.rls FORCE ROW LEVEL SECURITY;
                CREATE POLICY p ON public.rls USING (public.pol(id));
                CREATE SCHEMA other;
                CREATE TABLE other.t (id int);
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

    /** Runs the text on the real server and asserts that it wrote to public.audit (the side effect is real). */
    static void provesSideEffect(String sql) throws SQLException {
        long before = audit();
        shop.app(sql);
        assertThat(audit()).as("PostgreSQL really ran user code for: %s", sql).isGreaterThan(before);
    }

    static Classification classify(String sql) {
        return shop.classify(sql);
    }

    static void notRead(Classification c, String sql) {
        assertThat(c.kind()).as("%s was classified %s: %s", sql, c.kind(), c.statements()).isNotEqualTo(Kind.READ);
    }

    // ---- 1. attribute notation: t.f is f(t) when t has no column f ------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT t.evil FROM t",
            "SELECT (t).evil FROM t",
            "SELECT (t.*).evil FROM t",
            "SELECT x.evil FROM t AS x",
            "SELECT t.evilrec FROM t",
            // on a subquery or VALUES alias (lead from the offline review: the walker stopped at derived tables)
            "SELECT x.evilrec FROM (SELECT 1 AS a) x",
            "SELECT v.evilrec FROM (VALUES (1)) v(a)"})
    void attributeNotationCallsAUserFunction(String sql) throws SQLException {
        provesSideEffect(sql);
        notRead(classify(sql), sql);
    }

    /** A derived table's own columns, and built-in names of them, stay plain reads. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT x.a FROM (SELECT 1 AS a) x",
            "SELECT s.count, s.length FROM (SELECT count(*) AS count, 1 AS length FROM t) s",
            "SELECT v.name FROM (VALUES ('n')) v(name)"})
    void aDerivedTablesColumnsAreRead(String sql) {
        assertThat(classify(sql).kind()).as("%s", sql).isEqualTo(dev.warden.core.Kind.READ);
    }

    // Offline (no live catalog) the columns of a table are not known, so t.evil cannot be told from a column: a known
    // limit of the offline table, like views and row-level security policies (README, "What Warden does not do").

    // ---- 2. views that call built-ins with side effects ---------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SELECT * FROM v_seq", "TABLE v_seq"})
    void readingAViewThatCallsNextvalAdvancesTheSequence(String sql) throws SQLException {
        String before = seq();
        shop.app(sql);
        assertThat(seq()).as("the sequence moved").isNotEqualTo(before);
        notRead(classify(sql), sql);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SELECT * FROM v_lock"})
    void readingAViewThatTakesAnAdvisoryLockAndNotifies(String sql) throws SQLException {
        try (Connection c = shop.appConnection(); var st = c.createStatement()) {
            st.execute(sql);
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")) {
                rs.next();
                assertThat(rs.getLong(1)).as("a session advisory lock is held after the read").isEqualTo(1);
            }
        }
        notRead(classify(sql), sql);
    }

    static String seq() throws SQLException {
        return shop.value("SELECT last_value || '/' || is_called FROM public.s");
    }

    // ---- 3. operators reached without an A_Expr the classifier checks ---------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT * FROM pt WHERE p BETWEEN p AND p",
            "SELECT * FROM pt WHERE p NOT BETWEEN p AND p",
            "SELECT * FROM pt WHERE p BETWEEN SYMMETRIC p AND p",
            "SELECT * FROM pt WHERE p LIKE 'x'",
            "SELECT * FROM pt WHERE p ILIKE 'x'",
            "SELECT * FROM pt WHERE p SIMILAR TO 'x'",
            "SELECT CASE p WHEN p THEN 1 END FROM pt",
            "SELECT * FROM pt JOIN pt2 USING (p)",
            "SELECT * FROM pt NATURAL JOIN pt2",
            "SELECT * FROM pt WHERE p IN (SELECT p FROM pt2)",
            "SELECT * FROM pt WHERE p NOT IN (SELECT p FROM pt2)"})
    void implicitUseOfAUserOperator(String sql) throws SQLException {
        provesSideEffect(sql);
        // The same operator written out (p = p, p = ANY (SELECT …)) is already UNKNOWN with the live catalog.
        notRead(classify(sql), sql);
    }

    // ---- 4. user-defined casts ----------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SELECT 1::pair", "SELECT CAST(1 AS pair)", "SELECT p::text FROM pt", "SELECT CAST(p AS text) FROM pt"})
    void userCastFunction(String sql) throws SQLException {
        provesSideEffect(sql);
        notRead(classify(sql), sql);
    }

    // ---- 5. COPY of a table whose row-level security policy calls user code ----------------------------------------

    @org.junit.jupiter.api.Test
    void copyToOfATableWithAUserCodePolicy() throws Exception {
        long before = audit();
        try (Connection c = shop.appConnection()) {
            var copy = new org.postgresql.copy.CopyManager(c.unwrap(org.postgresql.core.BaseConnection.class));
            copy.copyOut("COPY rls TO STDOUT", new java.io.StringWriter());
        }
        assertThat(audit()).as("the policy function ran").isGreaterThan(before);
        assertThat(classify("SELECT * FROM rls").kind()).isEqualTo(Kind.UNKNOWN); // consistent baseline
        notRead(classify("COPY rls TO STDOUT"), "COPY rls TO STDOUT");
    }

    // ---- 6. RESET ALL in the same text resets search_path, the classifier keeps the old one -------------------------

    @org.junit.jupiter.api.Test
    void resetAllResetsTheSearchPathInTheSameText() throws SQLException {
        String sql = "SET search_path = other; RESET ALL; SELECT * FROM t";
        try (Connection c = shop.appConnection(); var st = c.createStatement()) {
            st.execute("SET search_path = other; RESET ALL");
            try (ResultSet rs = st.executeQuery("SELECT v FROM t")) { // only public.t has column v
                assertThat(rs.next()).isTrue();
            }
        }
        Statement select = classify(sql).statements().getLast();
        assertThat(select.objects()).extracting(ObjectAccess::name).as("%s", select).containsExactly("public.t");
    }
}
