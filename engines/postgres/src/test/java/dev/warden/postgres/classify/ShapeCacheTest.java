package dev.warden.postgres.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.catalog.BuiltinCatalog;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The classification cache keyed by the text's shape ({@link ShapeKey}): texts that differ only in constants share an
 * entry only when the tree proves the constants cannot matter; every result equals the uncached classification.
 */
class ShapeCacheTest {
    private static final PostgresClassifier UNCACHED = new PostgresClassifier(NativePgQuery.require(), BuiltinCatalog.INSTANCE, 0);

    private static PostgresClassifier cached() {
        return new PostgresClassifier(NativePgQuery.require(), BuiltinCatalog.INSTANCE, 100);
    }

    /** Classifies {@code first} then {@code second} with one cache; the second must equal its uncached result. */
    private static long pair(String first, String second) {
        PostgresClassifier c = cached();
        assertEquals(UNCACHED.classify(first, ClassifyContext.defaults()), c.classify(first, ClassifyContext.defaults()));
        long before = c.shapeHits();
        Classification got = c.classify(second, ClassifyContext.defaults());
        assertEquals(UNCACHED.classify(second, ClassifyContext.defaults()), got, second);
        return c.shapeHits() - before;
    }

    @Test
    void constantsInPlainReadsAndWritesShareAnEntry() {
        assertEquals(1, pair("SELECT abalance FROM pgbench_accounts WHERE aid = 1",
                "SELECT abalance FROM pgbench_accounts WHERE aid = 99"));
        assertEquals(1, pair("SELECT abalance FROM pgbench_accounts WHERE aid = 1;",
                "SELECT abalance FROM pgbench_accounts WHERE aid = 7;"));
        assertEquals(1, pair("  SELECT abalance FROM pgbench_accounts WHERE aid = 1 ;  ",
                "  SELECT abalance FROM pgbench_accounts WHERE aid = 70 ;  "));
        assertEquals(1, pair("UPDATE pgbench_accounts SET abalance = abalance + 5 WHERE aid = 3",
                "UPDATE pgbench_accounts SET abalance = abalance + 12 WHERE aid = 88"));
        assertEquals(1, pair("INSERT INTO pgbench_history (tid, bid, aid, delta) VALUES (1, 2, 3, 4)",
                "INSERT INTO pgbench_history (tid, bid, aid, delta) VALUES (5, 6, 7, 8)"));
        assertEquals(1, pair("SELECT a FROM t WHERE b = 'x' AND c IS NOT NULL", "SELECT a FROM t WHERE b = 'ü''q' AND c IS NOT NULL"));
        assertEquals(1, pair("DELETE FROM t WHERE id = 1", "DELETE FROM t WHERE id = 2"));
        // pgbench's simple-protocol insert
        assertEquals(1, pair("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 2, 3, -4, CURRENT_TIMESTAMP);",
                "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (9, 8, 7, -6, CURRENT_TIMESTAMP);"));
        assertEquals(1, pair("SELECT CURRENT_TIME(3), a FROM t WHERE b = 1", "SELECT CURRENT_TIME(6), a FROM t WHERE b = 2"));
        // The value function is a keyword, kept in the shape: another one is another entry.
        assertEquals(0, pair("SELECT CURRENT_TIMESTAMP, a FROM t WHERE b = 1", "SELECT CURRENT_USER, a FROM t WHERE b = 1"));
    }

    @Test
    void aLiteralThatChangesTheClassificationNeverHitsACachedEntry() {
        String[][] pairs = {
                {"SELECT nextval('a_seq')", "SELECT nextval('b_seq')"},
                {"SELECT set_config('application_name', 'x', false)", "SELECT set_config('role', 'x', false)"},
                {"SELECT set_config('role', 'x', false)", "SELECT set_config('application_name', 'x', false)"},
                {"SELECT dblink_exec('conn', 'SELECT 1')", "SELECT dblink_exec('conn', 'DROP TABLE t')"},
                {"SELECT 'pg_class'::regclass", "SELECT 'public.secrets'::regclass"},
                {"SELECT * FROM t WHERE id = 'a'::regclass::oid", "SELECT * FROM t WHERE id = 'b'::regclass::oid"},
                {"SET search_path = 'a'", "SET search_path = 'b'"},
                {"SET role = 'nobody'", "SET role = 'admin'"},
                {"SET standard_conforming_strings = 'on'", "SET standard_conforming_strings = 'off'"},
                {"EXPLAIN (ANALYZE false) DELETE FROM t", "EXPLAIN (ANALYZE true) DELETE FROM t"},
                {"SELECT lo_import('/etc/passwd')", "SELECT lo_import('/tmp/x')"},
                {"SELECT pg_read_file('a')", "SELECT pg_read_file('/etc/shadow')"},
                {"SELECT a FROM t WHERE b = 5", "SELECT a FROM t WHERE b = $1"},
                {"SELECT 1 -- x", "SELECT 2 -- y"},
                {"SELECT a FROM t WHERE b = 1; SELECT 2", "SELECT a FROM t WHERE b = 3; SELECT 4"},
        };
        for (String[] p : pairs) assertEquals(0, pair(p[0], p[1]), p[1]);
    }

    @Test
    void theGuardedCasesDoClassifyDifferently() {
        // The pairs above matter: their constants change the answer.
        assertNotEquals(UNCACHED.classify("SELECT set_config('application_name', 'x', false)", null).kind(),
                UNCACHED.classify("SELECT set_config('role', 'x', false)", null).kind());
    }

    @Test
    void onlyLiteralFreeTreesQualify() {
        assertTrue(PostgresClassifier.literalFree(tree("SELECT a FROM t WHERE b = 1 ORDER BY a")));
        for (String s : List.of("SELECT nextval('s')", "SELECT 'x'::regclass", "SET role = 'x'", "SELECT a FROM t WHERE b = $1",
                "SELECT count(*) FROM t", "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "COPY t TO '/tmp/x'")) {
            assertTrue(!PostgresClassifier.literalFree(tree(s)), s);
        }
    }

    @Test
    void theShapeBlanksConstantsOnly() {
        assertEquals(ShapeKey.of("SELECT a FROM t WHERE b = 1 AND c = 'x'"), ShapeKey.of("SELECT a FROM t WHERE b = 22.5e3 AND c = 'y''y'"));
        assertEquals(ShapeKey.of("SELECT a FROM t WHERE c = 'ü'"), ShapeKey.of("SELECT a FROM t WHERE c = 'x'"));
        assertNotEquals(ShapeKey.of("SELECT a FROM t WHERE b = 1"), ShapeKey.of("SELECT a FROM u WHERE b = 1"));
        assertNotEquals(ShapeKey.of("SELECT a FROM t WHERE b = 1"), ShapeKey.of("SELECT a FROM t  WHERE b = 1"));
        assertEquals(Kind.READ, cached().classify("SELECT a FROM t WHERE b = 1", null).kind());
    }

    @Test
    void digitsInsideNamesAreNotConstants() {
        assertNotEquals(ShapeKey.of("SELECT c1 FROM t1"), ShapeKey.of("SELECT c2 FROM t1"));
        assertNotEquals(ShapeKey.of("SELECT a FROM \"t1\""), ShapeKey.of("SELECT a FROM \"t2\""));
        assertNotEquals(ShapeKey.of("SELECT a FROM \"it's\" WHERE b = 'x'"), ShapeKey.of("SELECT a FROM \"it''s\" WHERE b = 'x'"));
        assertEquals(0, pair("SELECT abalance FROM pgbench_accounts WHERE aid = 1", "SELECT abalance FROM pgbench_accounts2 WHERE aid = 1"));
    }

    @Test
    void textsWhoseTokensAreUncertainHaveNoShape() {
        for (String s : List.of("SELECT a FROM t WHERE b = E'x\\' OR 1=1", "SELECT a FROM t WHERE b = $1", "SELECT 1 -- x",
                "SELECT /* x */ 1", "SELECT é1 FROM t", "SELECT a FROM t WHERE b = 'open", "SELECT $$x$$",
                "SELECT a FROM t WHERE b = 'a$1'", "SELECT \"unterminated FROM t")) {
            assertNull(ShapeKey.of(s), s);
        }
        assertNotNull(ShapeKey.of("SELECT 1"));
    }

    private static Node tree(String sql) {
        return Node.parse(((SqlParser.Tree) NativePgQuery.require().parse(sql)).json()).get("stmts");
    }
}
