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
}
