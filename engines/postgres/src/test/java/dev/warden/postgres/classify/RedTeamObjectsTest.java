package dev.warden.postgres.classify;

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
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Red-team cases: statements whose classification names fewer objects, columns or tags than PostgreSQL really reads
 * or writes, so that an object-, tag- or rows_over-based rule is bypassed. Each case first proves the access on a
 * real (embedded) PostgreSQL inside a transaction that is rolled back, then asserts the SAFE expectation: the policy
 * below does not allow the statement. Each fails while the gap is there.
 */
class RedTeamObjectsTest {
    static final Map<String, List<String>> TAGS = Map.of("pii", List.of("public.users.email", "public.customers.email"));

    /** A deny-list policy: reads and writes allowed, except pii reads and writes of the audit log and payments. */
    static final String POLICY = """
            rules:
              - name: protect-audit-log
                match: { objects: ["public.audit_log*"], kind: [write, ddl] }
                action: deny
              - name: protect-payments
                match: { objects: ["public.payments"], kind: [write, ddl] }
                action: deny
              - name: pii-reads
                match: { kind: [read], tags: [pii] }
                action: deny
              - name: big-writes
                match: { kind: [write], rows_over: 100 }
                action: approve
              - name: writes
                match: { kind: [write] }
                action: allow
              - name: reads
                match: { kind: [read] }
                action: allow
            """;

    static LiveShop shop;
    static Policy policy;

    @BeforeAll
    static void start() throws Exception {
        shop = LiveShop.start("""
                CREATE TABLE public.users (id int PRIMARY KEY, name text, email text);
                INSERT INTO public.users VALUES (1, 'ann', 'ann@secret.example'), (2, 'bob', 'bob@secret.example');
                CREATE TABLE public.audit_log (id serial PRIMARY KEY, what text);
                INSERT INTO public.audit_log (what) VALUES ('genesis');
                CREATE TABLE public.orders (id int PRIMARY KEY, user_id int, total int);
                INSERT INTO public.orders SELECT g, 1, g FROM generate_series(1, 1000) g;
                CREATE TABLE public.payments (id int, order_id int REFERENCES public.orders (id)
                    ON DELETE CASCADE ON UPDATE CASCADE, amount int);
                INSERT INTO public.payments SELECT g, 1, g FROM generate_series(1, 500) g;
                ANALYZE public.orders;
                ANALYZE public.payments;
                -- a plain view over a pii column, and a materialized one
                CREATE VIEW public.v_users AS SELECT id, email FROM public.users;
                -- an auto-updatable view over the audit log
                CREATE VIEW public.v_audit AS SELECT id, what FROM public.audit_log;
                -- a table whose INSERT is rewritten into an insert into the audit log
                CREATE TABLE public.inbox (what text);
                CREATE RULE inbox_to_audit AS ON INSERT TO public.inbox
                    DO INSTEAD INSERT INTO public.audit_log (what) VALUES (NEW.what);
                -- a parent whose inheritance child is protected
                CREATE TABLE public.events (id int, what text);
                CREATE TABLE public.audit_log_old () INHERITS (public.events);
                INSERT INTO public.audit_log_old VALUES (1, 'old audit');
                -- a partitioned table whose partition is protected
                CREATE TABLE public.logs (id int, source text) PARTITION BY LIST (source);
                CREATE TABLE public.audit_log_part PARTITION OF public.logs FOR VALUES IN ('audit');
                CREATE TABLE public.logs_other PARTITION OF public.logs DEFAULT;
                INSERT INTO public.logs VALUES (1, 'audit'), (2, 'web');
                -- a partitioned table whose parent column is tagged pii
                CREATE TABLE public.customers (id int, region text, email text) PARTITION BY LIST (region);
                CREATE TABLE public.customers_eu PARTITION OF public.customers FOR VALUES IN ('eu');
                INSERT INTO public.customers VALUES (1, 'eu', 'eve@secret.example');
                """);
        shop.openCatalog(TAGS);
        policy = PolicyLoader.parse(Path.of("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() throws Exception {
        if (shop != null) shop.close();
    }

    /** Runs sql in a transaction, then the check query; returns the check's first value; rolls back. */
    static String runThenCheck(String sql, String check) throws SQLException {
        try (Connection c = shop.appConnection(); var st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                st.execute(sql);
                try (ResultSet rs = st.executeQuery(check)) {
                    rs.next();
                    return rs.getString(1);
                }
            } finally {
                c.rollback();
            }
        }
    }

    /** All values of all rows of a read, joined, for proving that a secret came back. */
    static String readAll(String sql) throws SQLException {
        StringBuilder b = new StringBuilder();
        try (Connection c = shop.appConnection(); var st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) for (int i = 1; i <= n; i++) b.append(rs.getString(i)).append('|');
        }
        return b.toString();
    }

    static Classification judge(String sql) {
        return shop.judge(sql);
    }

    /** The safe expectation: the policy does not simply allow it. */
    static void notAllowed(String sql) {
        Classification c = judge(sql);
        Decision d = PolicyEngine.decide(policy, LiveShop.op(sql), c);
        assertThat(d.action()).as("%s%n was %s by rule %s; classification: kind=%s objects=%s tags=%s rows=%s",
                sql, d.action(), d.rule(), c.kind(), c.statements().getFirst().objects(), c.tags(), c.estimatedRows())
                .isNotEqualTo(Action.ALLOW);
    }

    // ---- 1. writes that reach the protected audit log through a view or a rule ----------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "INSERT INTO v_audit (what) VALUES ('forged')",
            "UPDATE v_audit SET what = 'forged' WHERE id = 1",
            "DELETE FROM v_audit WHERE id = 1",
            "INSERT INTO inbox VALUES ('forged')"})
    void writeThroughViewOrRuleReachesTheAuditLog(String sql) throws SQLException {
        String check = "SELECT count(*) FILTER (WHERE what = 'forged') || '/' || count(*) FROM public.audit_log";
        assertThat(runThenCheck(sql, check)).as("the audit log really changed").isNotEqualTo(runThenCheck("SELECT 1", check));
        notAllowed(sql);
    }

    // ---- 2. writes of a parent that reach a protected inheritance child or partition -----------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "DELETE FROM events WHERE id = 1",
            "UPDATE events SET what = 'forged' WHERE id = 1",
            "DELETE FROM logs WHERE id = 1",
            "UPDATE logs SET id = 9 WHERE id = 1"})
    void writeOfAParentReachesAProtectedChild(String sql) throws SQLException {
        String check = "SELECT (SELECT string_agg(id || what, ',') FROM public.audit_log_old) || '/'"
                + " || coalesce((SELECT string_agg(id::text, ',') FROM public.audit_log_part), '')";
        assertThat(runThenCheck(sql, check)).as("a protected child really changed").isNotEqualTo(runThenCheck("SELECT 1", check));
        notAllowed(sql);
    }

    // ---- 3. foreign-key cascades into the protected payments ----------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "DELETE FROM orders WHERE id = 1",
            "UPDATE orders SET id = 5000 WHERE id = 1",
            "INSERT INTO orders VALUES (1, 1, 1) ON CONFLICT (id) DO UPDATE SET id = 5000"})
    void foreignKeyCascadeWritesPayments(String sql) throws SQLException {
        String check = "SELECT count(*) FILTER (WHERE order_id = 1) FROM public.payments";
        assertThat(runThenCheck(sql, check)).as("payments really changed").isEqualTo("0");
        assertThat(runThenCheck("SELECT 1", check)).isEqualTo("500");
        notAllowed(sql);
    }

    // ---- 4. reads of a pii column that carry no pii tag ---------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            // through a view (the tag is on the base table's column)
            "SELECT email FROM v_users",
            "SELECT * FROM v_users",
            "TABLE v_users",
            "COPY (SELECT email FROM v_users) TO STDOUT",
            // a partition read directly (the tag is on the partitioned parent's column)
            "SELECT email FROM customers_eu",
            // a whole-row reference next to a named column
            "SELECT u.id, u FROM users u",
            "SELECT u.id, row_to_json(u) FROM users u",
            "SELECT id FROM users u WHERE u::text LIKE '%ann@secret%'",
            "SELECT u.id, u.row_to_json FROM users u",
            "SELECT u.id, to_jsonb(u) FROM users u",
            // a schema-qualified column of an unqualified FROM item
            "SELECT id, public.users.email FROM users",
            "SELECT users.id, shop.public.users.email FROM public.users",
            // a column of an aliased join
            "SELECT j.email FROM (users u JOIN orders o ON o.user_id = u.id) AS j",
            // column aliases name columns by position: name here is the e-mail
            "SELECT name FROM users AS u(id, email, name)",
            "SELECT u.name FROM users AS u(id, email, name)",
            "SELECT x FROM users AS u(a, b, x)",
            "SELECT j.x FROM (users u JOIN orders o ON o.user_id = u.id) AS j(a, b, x)",
            // an outer column referenced from a subquery whose FROM has a derived table
            "SELECT id, (SELECT email FROM (SELECT 1) d) FROM users",
            "SELECT id, (SELECT email FROM generate_series(1, 1) g) FROM users"})
    void piiReadWithoutThePiiTag(String sql) throws SQLException {
        String copyFree = sql.startsWith("COPY (") ? sql.substring(6, sql.lastIndexOf(')')) : sql;
        String rows = readAll(copyFree);
        if (copyFree.contains("LIKE")) {
            // A boolean oracle: the row comes back only when the e-mail matches.
            assertThat(rows).as("the e-mail decided the result").isEqualTo("1|");
            assertThat(readAll("SELECT id FROM users u WHERE u::text LIKE '%nobody@%'")).isEmpty();
        } else {
            assertThat(rows).as("PostgreSQL returned the e-mail").contains("@secret.example");
        }
        notAllowed(sql);
    }

    // ---- 5. rows_over: an estimate far below the rows the statement touches -------------------------------------

    @Test
    void dataModifyingCteUnderAnAggregateIsEstimatedAsOneRow() throws SQLException {
        String sql = "WITH d AS (DELETE FROM orders WHERE id > 500 RETURNING id) SELECT count(*) FROM d";
        assertThat(runThenCheck(sql, "SELECT count(*) FROM public.orders")).as("500 rows were deleted").isEqualTo("500");
        notAllowed(sql);
    }

    @Test
    void cascadeIsNotInTheEstimate() throws SQLException {
        // 1 order row estimated, 500 payments rows deleted with it (and payments is protected: see 3).
        String sql = "DELETE FROM orders WHERE id = 1";
        Classification c = judge(sql);
        assertThat(runThenCheck(sql, "SELECT count(*) FROM public.payments")).isEqualTo("0");
        assertThat(c.estimatedRows() < 0 || c.estimatedRows() > 100).as("estimate %s for %s", c.estimatedRows(), sql).isTrue();
    }

    @Test
    void correlatedWhereIsEstimatedFarBelowTheRowsItTouches() throws SQLException {
        // Every row has total = id; the planner's default selectivity for a column = column comparison is 0.5 %.
        String sql = "UPDATE orders SET user_id = 2 WHERE total = id";
        assertThat(runThenCheck(sql, "SELECT count(*) FROM public.orders WHERE user_id = 2")).isEqualTo("1000");
        notAllowed(sql);
    }

    // ---- 6. TRUNCATE names only the listed table (held by the policy only because TRUNCATE has no estimate) -------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TRUNCATE events|public.audit_log_old", "TRUNCATE logs|public.audit_log_part",
            "TRUNCATE orders CASCADE|public.payments"})
    void truncateNamesTheTablesItEmpties(String both) throws SQLException {
        String sql = both.substring(0, both.indexOf('|'));
        String protectedTable = both.substring(both.indexOf('|') + 1);
        assertThat(runThenCheck(sql, "SELECT count(*) FROM " + protectedTable)).as("%s emptied %s", sql, protectedTable).isEqualTo("0");
        Classification c = judge(sql);
        assertThat(c.statements().getFirst().objects()).extracting(o -> o.name() + ":" + o.access())
                .as("%s", sql).contains(protectedTable + ":WRITE");
    }

    // ---- 7. MERGE into an auto-updatable view (PostgreSQL 16+) ------------------------------------------------

    @Test
    void mergeIntoAViewWritesTheAuditLog() throws SQLException {
        String sql = "MERGE INTO v_audit a USING (SELECT 1 AS id) s ON a.id = s.id WHEN MATCHED THEN UPDATE SET what = 'forged'";
        org.junit.jupiter.api.Assumptions.assumeTrue(Integer.parseInt(readAll("SHOW server_version_num").replace("|", "")) >= 160000);
        assertThat(runThenCheck(sql, "SELECT what FROM public.audit_log WHERE id = 1")).isEqualTo("forged");
        notAllowed(sql);
    }

    // ---- temporary views: searched before every schema, unseen by the catalog ---------------------------------

    /**
     * A temporary view is searched before every schema for the rest of its session, and Warden's catalog does not see
     * it: after {@code CREATE TEMP VIEW users AS SELECT nextval(…) …}, {@code SELECT * FROM users} was judged a plain
     * read of public.users while it ran nextval. A view over a temporary table becomes temporary whatever its text
     * says. Creating such a view is now unknown (a schema change an approver could not be expected to see through).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "CREATE TEMP VIEW users AS SELECT 1 AS id",
            "CREATE OR REPLACE TEMPORARY VIEW users AS SELECT 1 AS id",
            "CREATE VIEW pg_temp.users AS SELECT 1 AS id",
            "CREATE VIEW users_copy AS SELECT * FROM scratch"})
    void aViewThatMayBeTemporaryIsUnknown(String sql) throws SQLException {
        try (Connection c = shop.appConnection(); var st = c.createStatement()) {
            st.execute("CREATE TEMP TABLE scratch (id int)");
            st.execute(sql);
            try (ResultSet rs = st.executeQuery("SELECT relpersistence FROM pg_class WHERE oid = 'users"
                    + (sql.contains("users_copy") ? "_copy" : "") + "'::regclass")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).as("the server made the view temporary").isEqualTo("t");
            }
        }
        assertThat(judge(sql).kind()).isEqualTo(dev.warden.core.Kind.UNKNOWN);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "CREATE VIEW v_orders AS SELECT id, total FROM orders",
            "CREATE OR REPLACE VIEW public.v_users AS SELECT id, email FROM users",
            "CREATE VIEW v_series AS SELECT g FROM generate_series(1, 3) g"})
    void aPermanentViewOverKnownRelationsIsASchemaChange(String sql) {
        assertThat(judge(sql).kind()).isEqualTo(dev.warden.core.Kind.DDL);
    }

    // ---- what held: these are denied (pii named, or protected object named) -----------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT u FROM users u",
            "SELECT row_to_json(u) FROM users u",
            "SELECT u.* FROM users u",
            "SELECT (u).email, u.id FROM users u",
            "SELECT x.email FROM users AS x",
            "WITH c AS (SELECT * FROM users) SELECT id FROM c",
            "SELECT s.e FROM (SELECT email AS e FROM users) s",
            "SELECT email FROM users JOIN orders ON orders.user_id = users.id",
            "SELECT email FROM users NATURAL JOIN (SELECT 1 AS id) d",
            "SELECT email FROM users JOIN (SELECT 1 AS id) d USING (id)",
            "SELECT id FROM users WHERE email LIKE 'a%'",
            "SELECT (SELECT email FROM orders o WHERE o.user_id = users.id LIMIT 1) FROM users",
            "TABLE users",
            "COPY (SELECT * FROM users) TO STDOUT",
            "COPY users TO STDOUT",
            "SELECT email FROM customers",
            "UPDATE orders SET total = 1 FROM users u WHERE u.id = orders.user_id RETURNING u.email",
            "DELETE FROM audit_log WHERE id = 1",
            "INSERT INTO audit_log (what) VALUES ('x') ON CONFLICT (id) DO UPDATE SET what = 'y'",
            "MERGE INTO orders o USING users u ON o.id = u.id WHEN MATCHED THEN UPDATE SET total = length(u.email)",
            "WITH d AS (DELETE FROM orders WHERE id > 500 RETURNING id) SELECT id FROM d",
            "DELETE FROM orders WHERE id > 500"})
    void held(String sql) {
        notAllowed(sql);
    }
}
