package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
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
 * A user's own operator under a common symbol ({@code =} on a composite type of the user's). Operators are judged by
 * symbol, since the classifier does not type operands; such an operator must not make every {@code =} on PostgreSQL's
 * own types unproven, yet wherever a value of its type is used the operator may run and must count.
 */
class RedTeamUserOperatorTest {
    static LiveShop shop;

    @BeforeAll
    static void start() throws Exception {
        shop = LiveShop.start("""
                CREATE TABLE public.audit (what text);
                CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, total int);
                INSERT INTO public.orders VALUES (1, 1, 10), (2, 2, 20);
                CREATE TYPE public.pair AS (a int, b int);
                CREATE FUNCTION public.pair_eq(public.pair, public.pair) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''pair_eq''); RETURN $1.a = $2.a; END';
                CREATE OPERATOR public.= (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_eq);
                CREATE TABLE public.tp (id int, p public.pair, q public.pair);
                INSERT INTO public.tp VALUES (1, ROW(1, 2), ROW(1, 3)), (2, ROW(2, 2), ROW(3, 3));
                CREATE DOMAIN public.pd AS public.pair;
                CREATE TABLE public.tpd (id int, v public.pd);
                INSERT INTO public.tpd VALUES (1, ROW(1, 2));
                -- A symbol without text or record operators: a record converts to pair without naming it.
                CREATE OPERATOR public.@@@ (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_eq);
                -- An enum's own < (PostgreSQL has anyenum < anyenum, text < text and record < record too).
                CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
                CREATE FUNCTION public.mood_lt(public.mood, public.mood) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''mood_lt''); RETURN $1::text < $2::text; END';
                CREATE OPERATOR public.< (LEFTARG = public.mood, RIGHTARG = public.mood, FUNCTION = public.mood_lt);
                CREATE TABLE public.tm (id int, m public.mood);
                INSERT INTO public.tm VALUES (1, 'ok'), (2, 'sad');
                -- A composite type another type converts to implicitly: its operator stays a candidate of the symbol.
                CREATE TYPE public.wrap AS (v int);
                CREATE FUNCTION public.int_wrap(int) RETURNS public.wrap LANGUAGE sql IMMUTABLE AS 'SELECT ROW($1)::public.wrap';
                CREATE CAST (int AS public.wrap) WITH FUNCTION public.int_wrap(int) AS IMPLICIT;
                CREATE FUNCTION public.wrap_ne(public.wrap, public.wrap) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''wrap_ne''); RETURN $1.v <> $2.v; END';
                CREATE OPERATOR public.<> (LEFTARG = public.wrap, RIGHTARG = public.wrap, FUNCTION = public.wrap_ne);
                """);
        shop.openCatalog(Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (shop != null) shop.close();
    }

    private static long auditRowsOf(String sql) throws SQLException {
        return shop.rowsAddedBy(sql, "SELECT count(*) FROM public.audit");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT * FROM orders WHERE id = 1",
            "SELECT total FROM orders WHERE customer_id = 2 AND total = 20",
            "SELECT * FROM orders WHERE id IN (1, 2)",
            "SELECT * FROM orders o JOIN orders p ON o.customer_id = p.id WHERE o.total >= 10",
            "SELECT 'a' = 'b'",
            "SELECT '(1,2)' = '(1,2)'", // two untyped literals: text = text, not pair = pair
            "SELECT ROW(1, 2) = ROW(1, 2)", // a row comparison: int = int column by column
            "SELECT r = r FROM (SELECT ROW(1, 2) AS r) s", // record = record, an exact match
            "SELECT r < r FROM (SELECT ROW(1, 2) AS r) s", // record < record, not the enum's <
            "SELECT 'ok' < 'sad'",
            "SELECT id FROM tp WHERE id = 1",
            "SELECT id FROM tm WHERE id < 2"})
    void plainComparisonsStayReads(String sql) throws SQLException {
        assertThat(auditRowsOf(sql)).as("PostgreSQL ran no user code for: %s", sql).isZero();
        Classification c = shop.classify(sql);
        assertThat(c.kind()).as("%s: %s", sql, c.statements()).isEqualTo(Kind.READ);
    }

    /** A value of pair (or of a domain over it) is compared: PostgreSQL runs public.pair_eq, which writes. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT * FROM tp WHERE p = ROW(1,2)::public.pair",
            "SELECT * FROM tp WHERE p = '(1,2)'",
            "SELECT id FROM tp WHERE p = q",
            "SELECT a.id FROM tp a JOIN tp b ON a.p = b.q",
            "SELECT count(*) FROM tp WHERE p = q",
            "SELECT id FROM tp WHERE p IN (SELECT q FROM tp)",
            "SELECT NULLIF(p, q) FROM tp",
            "SELECT CASE p WHEN q THEN 1 END FROM tp",
            "SELECT p IS DISTINCT FROM q FROM tp",
            "SELECT '(1,2)'::pair = '(1,2)'",
            "SELECT CAST('(1,2)' AS public.pair) = '(1,2)'",
            "SELECT id FROM tpd WHERE v = '(1,2)'",
            "SELECT 1 FROM tp t WHERE (t).p = (t).q",
            "SELECT 1 FROM tp t WHERE (t.*).p = (t.*).q",
            "SELECT 1 FROM (SELECT t FROM tp t) s WHERE (s.t).p = (s.t).q",
            "WITH c AS (SELECT p FROM tp) SELECT 1 FROM c a, c b WHERE a.p = b.p",
            "SELECT x.p = x.p FROM jsonb_to_record('{\"p\": {\"a\": 1, \"b\": 2}}') AS x(p public.pair)",
            "SELECT (jsonb_populate_record(NULL::tp, '{\"p\": {\"a\": 1}}')).p = '(1,)'",
            "PREPARE q(public.pair) AS SELECT $1 = $1; EXECUTE q('(1,2)')",
            "SELECT * FROM tm WHERE m < 'happy'",
            "SELECT 'ok'::mood < 'sad'",
            "SELECT ROW(1, 2) @@@ '(1,2)'"}) // no record @@@ record: the row and the literal become pairs
    void comparingAValueOfTheTypeRunsTheOperator(String sql) throws SQLException {
        assertThat(auditRowsOf(sql)).as("PostgreSQL really ran the operator's function for: %s", sql).isPositive();
        Classification c = shop.classify(sql);
        Statement s = c.statements().getLast();
        assertThat(c.kind()).as("%s: %s", sql, s).isNotEqualTo(Kind.READ);
        assertThat(s.unproven()).as("%s: %s", sql, s).isNotEmpty();
        assertThat(String.join(" ", s.unproven())).as("%s: %s", sql, s).contains("operator");
    }

    /** Reading a column of the type is enough to bring its operator, compared or not: conservative, never a bypass. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SELECT * FROM tp WHERE id = 1", "SELECT p FROM tp"})
    void readingAColumnOfTheTypeBringsItsOperator(String sql) {
        Statement s = shop.classify(sql).statements().getLast();
        assertThat(s.kind()).as("%s: %s", sql, s).isNotEqualTo(Kind.READ);
        assertThat(s.unproven()).as("%s: %s", sql, s).contains("operator public.=");
    }

    /**
     * An implicit cast into wrap: any int may become a wrap where a wrap is wanted, so public.<> stays a candidate of
     * the symbol and {@code <>} on plain columns is not proven (a deliberate false denial, the safe side).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"SELECT * FROM orders WHERE id <> 1", "SELECT 1 <> 2"})
    void anImplicitCastKeepsTheOperatorACandidateOfTheSymbol(String sql) {
        Statement s = shop.classify(sql).statements().getLast();
        assertThat(s.kind()).as("%s: %s", sql, s).isNotEqualTo(Kind.READ);
        assertThat(s.unproven()).as("%s: %s", sql, s).contains("operator <>");
    }
}
