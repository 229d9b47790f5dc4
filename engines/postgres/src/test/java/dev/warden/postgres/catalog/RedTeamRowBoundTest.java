package dev.warden.postgres.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.LiveShop;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Red-team cases for the bound of a write ({@link RowBound}) under a {@code rows_over: 100} rule: each statement is
 * first run on the real server in a transaction that is rolled back, to prove how many rows it really changes, then
 * the policy must not allow it. The tables keep autovacuum off, so their statistics stay as the schema left them.
 */
class RedTeamRowBoundTest {
    static final String POLICY = """
            rules:
              - name: big-writes
                match: { kind: [write], rows_over: 100 }
                action: approve
              - name: writes
                match: { kind: [write] }
                action: allow
            """;

    static LiveShop shop;
    static Policy policy;

    @BeforeAll
    static void start() throws Exception {
        shop = LiveShop.start("""
                CREATE TABLE public.items (id int PRIMARY KEY, x int, status text) WITH (autovacuum_enabled = false);
                INSERT INTO public.items SELECT g, g % 10, 'open' FROM generate_series(1, 10000) g;
                -- A partial index whose predicate the planner has no statistics for.
                CREATE INDEX items_all ON public.items (id) WHERE (x % 1) = 0 AND (id % 1) = 0;
                ANALYZE public.items;
                CREATE TABLE public.sink (id int, x int) WITH (autovacuum_enabled = false);
                -- A column added after the last ANALYZE, and a table never analyzed: no statistics.
                ALTER TABLE public.items ADD COLUMN added int DEFAULT 1;
                CREATE TABLE public.fresh (id int PRIMARY KEY, x int) WITH (autovacuum_enabled = false);
                INSERT INTO public.fresh SELECT g, 1 FROM generate_series(1, 5000) g;
                CREATE TABLE public.few (id int PRIMARY KEY, x int) WITH (autovacuum_enabled = false);
                INSERT INTO public.few SELECT g, g FROM generate_series(1, 20) g;
                ANALYZE public.few;
                -- What a normal user writes a row or a few of at a time.
                CREATE TABLE public.lines (order_id int, line_no int, qty int, PRIMARY KEY (order_id, line_no))
                    WITH (autovacuum_enabled = false);
                INSERT INTO public.lines SELECT g / 10, g % 10, 1 FROM generate_series(0, 9999) g;
                CREATE TABLE public.codes (code varchar(20) PRIMARY KEY, label text) WITH (autovacuum_enabled = false);
                INSERT INTO public.codes SELECT 'c' || g, 'l' FROM generate_series(1, 10000) g;
                CREATE TABLE public.events (id bigint PRIMARY KEY, at timestamptz, what text) WITH (autovacuum_enabled = false);
                INSERT INTO public.events SELECT g, '2024-01-01'::timestamptz + g * interval '1 minute', 'e'
                    FROM generate_series(1, 10000) g;
                CREATE INDEX ON public.events (at);
                -- A composite key neither column of which is selective alone: 200 rows a value each.
                CREATE TABLE public.grid (a int, b int, v int, PRIMARY KEY (a, b)) WITH (autovacuum_enabled = false);
                INSERT INTO public.grid SELECT g % 200, g / 200, 0 FROM generate_series(0, 39999) g;
                ANALYZE public.grid;
                ANALYZE public.lines;
                ANALYZE public.codes;
                ANALYZE public.events;
                -- Rows inserted after the last ANALYZE: the statistics know only 'old'.
                CREATE TABLE public.grown (id int, status text) WITH (autovacuum_enabled = false);
                INSERT INTO public.grown SELECT g, 'old' FROM generate_series(1, 1000) g;
                ANALYZE public.grown;
                INSERT INTO public.grown SELECT g, 'new' FROM generate_series(1001, 5000) g;
                """);
        shop.openCatalog(java.util.Map.of());
        policy = PolicyLoader.parse(Path.of("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() throws Exception {
        if (shop != null) shop.close();
    }

    /** The rows the statement changes on the server, in a transaction rolled back afterwards. */
    static long changed(String sql) throws SQLException {
        try (Connection c = shop.appConnection(); var st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute(sql);
                return st.getLargeUpdateCount();
            } finally {
                c.rollback();
            }
        }
    }

    /** The safe expectation: a write of more rows than the rule's 100 is not simply allowed. */
    static void notAllowed(String sql) {
        Classification c = shop.judge(sql);
        Decision d = PolicyEngine.decide(policy, LiveShop.op(sql), c);
        assertThat(d.action()).as("%s%n was %s by rule %s; rows=%s (%s)", sql, d.action(), d.rule(), c.estimatedRows(),
                c.enrichment()).isNotEqualTo(Action.ALLOW);
    }

    /**
     * An index scan of a relation other than the one written leaves out of its conditions those the partial index's
     * predicate implies (the written relation keeps them, for rechecks): the plan of {@code INSERT … SELECT … WHERE
     * (x % 1) = 0 AND (id % 1) = 0} over an index with that predicate shows no condition at all, and its estimate, 1
     * row, the product of the two unknown selectivities, was taken as the bound of a write of 10,000 rows.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "INSERT INTO sink SELECT id, x FROM items WHERE (x % 1) = 0 AND (id % 1) = 0",
            "INSERT INTO sink SELECT id, x FROM items WHERE (x % 1) = 0 AND (id % 1) = 0 AND id > 0"})
    void anInsertFromAPartialIndexScanWasBoundedByConditionsThePlanDoesNotShow(String sql) throws SQLException {
        assertThat(changed(sql)).isEqualTo(10_000);
        notAllowed(sql);
    }

    /**
     * A condition on a column without statistics is estimated by a fixed selectivity (0.5 % for an equality), not by
     * statistics: {@code DELETE FROM items WHERE added = 1}, a column added after the last ANALYZE (adding it changes
     * no row, so autovacuum does not analyze it again), was bounded at 50 of 10,000 rows and deletes them all; so
     * were writes of a table never analyzed.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "DELETE FROM items WHERE added = 1|10000",
            "UPDATE items SET x = 0 WHERE added = ANY ('{1,2}') AND (x % 1) = 0|10000",
            "DELETE FROM fresh WHERE x = 1|5000",
            "UPDATE fresh SET x = 2 WHERE x = 1 AND id = ANY ('{1,2,3}') OR x = 1|5000"})
    void aConditionOnAColumnWithoutStatisticsBoundedAWrite(String both) throws SQLException {
        String sql = both.substring(0, both.indexOf('|'));
        assertThat(changed(sql)).isEqualTo(Long.parseLong(both.substring(both.indexOf('|') + 1)));
        notAllowed(sql);
    }

    /**
     * OPEN, not fixed: statistics describe the rows at the last ANALYZE, and rows inserted or updated since may all
     * meet a condition they estimate near zero: {@code DELETE FROM grown WHERE status = 'new'} is bounded at 1 row
     * and deletes 4,000 (a value absent from the statistics, or a range past their histogram, such as the newest
     * timestamps of a large table, which autovacuum analyzes again only after 10 % of it changed). Adding the rows
     * changed since (pg_stat n_mod_since_analyze, or the table's growth over reltuples) would close it at the cost of
     * holding every write but a unique-key equality on a busy table; a decision for the policy's owner.
     */
    @org.junit.jupiter.api.Disabled("open: rows changed since the last ANALYZE are not in the bound")
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"DELETE FROM grown WHERE status = 'new'", "DELETE FROM grown WHERE id > 1000"})
    void aConditionOnStaleStatisticsBoundsAWriteOfRowsInsertedSince(String sql) throws SQLException {
        assertThat(changed(sql)).isEqualTo(4000);
        notAllowed(sql);
    }

    /** A write in a WITH of the table the statement writes: its rows are not in the plan's count. Held. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "WITH i AS (INSERT INTO few SELECT g, g FROM generate_series(100, 20000) g) DELETE FROM few WHERE id = 200",
            "WITH i AS (INSERT INTO few SELECT g, g FROM generate_series(100, 20000) g RETURNING id) UPDATE few SET x = 0 WHERE id = 1"})
    void aWriteInAWithOfTheTableWrittenIsHeld(String sql) throws SQLException {
        assertThat(shop.rowsAddedBy(sql, "SELECT count(*) FROM public.few")).isEqualTo(19_901);
        notAllowed(sql);
    }

    /** False holds: a few rows by their key, or a short range of an indexed timestamp, stay allowed. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "UPDATE items SET x = 0 WHERE id = 5",
            "UPDATE items SET x = 0 WHERE id IN (1, 2, 3)",
            "DELETE FROM items WHERE id = 5 AND added = 1",
            "UPDATE fresh SET x = 2 WHERE id = 5",
            "DELETE FROM fresh WHERE id = ANY ('{1,2,3}') AND x = 1",
            "UPDATE lines SET qty = 2 WHERE order_id = 7 AND line_no = 3",
            "DELETE FROM lines WHERE order_id = 7",
            "UPDATE codes SET label = 'x' WHERE code = 'c42'",
            "DELETE FROM codes WHERE code IN ('c1', 'c2')",
            "DELETE FROM events WHERE at < '2024-01-01 01:00'",
            "DELETE FROM events WHERE at >= '2024-01-03' AND at < '2024-01-03 01:00' AND what = 'e'",
            "INSERT INTO sink VALUES (1, 1), (2, 2)",
            "INSERT INTO sink SELECT id, x FROM items WHERE id <= 10"})
    void aSmallWriteByKeyOrRangeStaysAllowed(String sql) throws SQLException {
        assertThat(changed(sql)).isLessThanOrEqualTo(100);
        Classification c = shop.judge(sql);
        assertThat(PolicyEngine.decide(policy, LiveShop.op(sql), c).action()).as("%s rows=%s", sql, c.estimatedRows())
                .isEqualTo(Action.ALLOW);
    }

    /**
     * An equality on every column of a composite unique key holds one row, but the bound took the smallest of the
     * columns' own estimates, 200 rows each here: a write of one row by its primary key was held on a table where
     * neither column is selective alone. An equality on part of the key is still bounded by that column.
     */
    @org.junit.jupiter.api.Test
    void aWriteByEveryColumnOfACompositeKeyWasBoundedByOneColumnAlone() throws SQLException {
        String sql = "UPDATE grid SET v = 1 WHERE a = 7 AND b = 3";
        assertThat(changed(sql)).isEqualTo(1);
        Classification c = shop.judge(sql);
        assertThat(PolicyEngine.decide(policy, LiveShop.op(sql), c).action()).as("%s rows=%s (%s)", sql, c.estimatedRows(),
                c.enrichment()).isEqualTo(Action.ALLOW);
        assertThat(c.enrichment()).contains("rows: one row: an equality on every column of the unique key");
        String part = "UPDATE grid SET v = 1 WHERE a = 7 AND (b % 1) = 0";
        assertThat(changed(part)).isEqualTo(200);
        notAllowed(part);
        assertThat(shop.judge(part).enrichment()).contains("rows: the conditions on grid.a alone");
    }
}
