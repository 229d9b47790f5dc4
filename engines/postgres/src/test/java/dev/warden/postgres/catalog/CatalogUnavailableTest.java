package dev.warden.postgres.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.LiveShop;
import dev.warden.postgres.classify.PostgresClassifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The live catalog is unavailable and the classifier answers from the offline table of built-ins, which knows no
 * views, rules, row-level security policies, user functions, operators or casts, no foreign keys and no schemas.
 * Here the agent's own sessions hold every connection the upstream role may open, so the catalog cannot connect.
 * Each statement really runs user code, or reaches a table a deny rule protects, on the server (proved first);
 * while the catalog is unavailable, an allow rule for reads (or for writes of another table) must not let it through.
 */
class CatalogUnavailableTest {
    /** Never retries on its own during a test: it stays as the first attempt left it. */
    static final PostgresCatalog.Options STUCK = new PostgresCatalog.Options(Duration.ofHours(1), Duration.ofHours(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofHours(1));
    /** Notices a lost connection only when used; retries in the background 100 ms after a failure. */
    static final PostgresCatalog.Options SLOW = new PostgresCatalog.Options(Duration.ofHours(1), Duration.ofHours(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(100));
    static final ClassifyContext DEFAULTS = ClassifyContext.defaults();

    static LiveShop shop;
    static final List<Connection> agentSessions = new ArrayList<>();
    static PostgresCatalog down;
    static PostgresClassifier offline;
    static Policy policy;

    @BeforeAll
    static void start() throws Exception {
        shop = LiveShop.start("""
                CREATE TABLE public.audit (what text);
                CREATE SEQUENCE public.s;
                CREATE FUNCTION public.writer() RETURNS int LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''writer''); RETURN 1; END';
                -- Views over a built-in with a side effect and over a user function.
                CREATE VIEW public.v_seq AS SELECT nextval('public.s') AS n;
                CREATE VIEW public.v_fn AS SELECT public.writer() AS n;
                -- Attribute notation: t.evil is evil(t).
                CREATE TABLE public.t (id int, v text);
                INSERT INTO public.t VALUES (1, 'a');
                CREATE FUNCTION public.evil(public.t) RETURNS int LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''evil''); RETURN 1; END';
                CREATE FUNCTION public.evilrec(record) RETURNS int LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''evilrec''); RETURN 1; END';
                -- Row-level security whose policy calls a writer.
                CREATE FUNCTION public.pol(int) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''pol''); RETURN true; END';
                CREATE TABLE public.rls (id int);
                INSERT INTO public.rls VALUES (1);
                ALTER TABLE public.rls ENABLE ROW LEVEL SECURITY;
                ALTER TABLE public.rls FORCE ROW LEVEL SECURITY;
                CREATE POLICY p ON public.rls USING (public.pol(id));
                -- A user type with an operator of a built-in symbol and a cast.
                CREATE TYPE public.pair AS (a int, b int);
                CREATE FUNCTION public.pair_eq(public.pair, public.pair) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''pair_eq''); RETURN true; END';
                CREATE OPERATOR public.= (LEFTARG = public.pair, RIGHTARG = public.pair, FUNCTION = public.pair_eq);
                CREATE TABLE public.pt (id int, p public.pair);
                INSERT INTO public.pt VALUES (1, ROW(1, 2));
                CREATE FUNCTION public.to_pair(int) RETURNS public.pair LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''to_pair''); RETURN ROW($1, $1); END';
                CREATE CAST (int AS public.pair) WITH FUNCTION public.to_pair(int);
                -- Built-in names and symbols, overloaded for built-in argument types.
                CREATE FUNCTION public.length(int) RETURNS int LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''length''); RETURN $1; END';
                CREATE FUNCTION public.plus(int, bool) RETURNS int LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''plus''); RETURN $1; END';
                CREATE OPERATOR public.+ (LEFTARG = int, RIGHTARG = bool, FUNCTION = public.plus);
                -- A delete of orders cascades into the audit log.
                CREATE TABLE public.orders (id int PRIMARY KEY);
                CREATE TABLE public.audit_log (order_id int REFERENCES public.orders ON DELETE CASCADE);
                -- The upstream user's own schema comes first in "$user", public.
                CREATE SCHEMA app;
                CREATE TABLE app.notes (who text);
                INSERT INTO app.notes VALUES ('app');
                CREATE TABLE public.notes (who text);
                INSERT INTO public.notes VALUES ('public');
                """);
        policy = PolicyLoader.parse(Path.of("policy.yaml"), """
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: order-writes
                    match: { kind: [write], objects: [public.orders] }
                    action: allow
                  - name: audit-log
                    match: { kind: [write], objects: [public.audit_log] }
                    action: deny
                  - name: private-notes
                    match: { objects: [app.notes] }
                    action: deny
                """.getBytes(StandardCharsets.UTF_8));
        // The agent opens as many sessions as the upstream role may have: Warden's catalog connection (same role)
        // finds no slot left.
        shop.admin("ALTER ROLE app CONNECTION LIMIT 2");
        for (int i = 0; i < 2; i++) agentSessions.add(shop.appConnection());
        down = new PostgresCatalog(shop.config("shop", "app"), Map.of(), BuiltinCatalog.INSTANCE, STUCK);
        assertThat(down.refresh()).isFalse();
        assertThat(down.lastError()).contains("too many connections");
        offline = PostgresClassifier.create(down, null);
    }

    @AfterAll
    static void stop() throws Exception {
        for (Connection c : agentSessions) c.close();
        if (down != null) down.close();
        if (shop != null) shop.close();
    }

    // ---- reads that run user code -------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SELECT * FROM v_seq",                    // a view over nextval
            "TABLE v_seq",
            "SELECT * FROM v_fn",                     // a view over a volatile user function
            "SELECT t.evil FROM t",                   // attribute notation: evil(t)
            "SELECT (t).evil FROM t",
            "SELECT x.evilrec FROM t AS x",
            "SELECT * FROM rls",                      // a row-level security policy calls a writer
            "SELECT * FROM pt WHERE p = p",           // the user's = on pair
            "SELECT * FROM json_to_record('{\"p\": \"(1,2)\"}') AS x(p pair) WHERE x.p = x.p",
            "SELECT 1 + true",                        // the user's + (int, bool): a built-in symbol
            "SELECT length(42)",                      // the user's length(int): a built-in name
            "SELECT 1::pair",                         // a user cast
            "SELECT CAST(1 AS pair)"})
    void aReadThatRunsUserCodeIsNotAllowedWhileTheCatalogIsUnavailable(String sql) throws SQLException {
        long before = sideEffects();
        asApp(sql);
        assertThat(sideEffects()).as("PostgreSQL ran user code for %s", sql).isGreaterThan(before);
        Classification c = judge(sql, DEFAULTS);
        assertThat(c.kind()).as("%s: %s", sql, c.statements()).isNotEqualTo(Kind.READ);
        assertThat(decide(sql, c).action()).isNotEqualTo(Action.ALLOW);
        assertThat(String.join("; ", c.statements().getFirst().reasons())).contains("catalog is unavailable");
    }

    @Test
    void copyToOfATableWithAUserCodePolicy() throws Exception {
        long before = sideEffects();
        try (Connection c = shop.superuserConnection(); var st = c.createStatement()) {
            st.execute("SET ROLE app");
            var copy = new org.postgresql.copy.CopyManager(c.unwrap(org.postgresql.core.BaseConnection.class));
            copy.copyOut("COPY rls TO STDOUT", new java.io.StringWriter());
        }
        assertThat(sideEffects()).as("the policy function ran").isGreaterThan(before);
        Classification c = judge("COPY rls TO STDOUT", DEFAULTS);
        assertThat(c.kind()).isNotEqualTo(Kind.READ);
        assertThat(decide("COPY rls TO STDOUT", c).action()).isNotEqualTo(Action.ALLOW);
    }

    // ---- objects the offline table cannot name ------------------------------------------------------------------

    @Test
    void aDeleteThatCascadesIntoAProtectedTableIsNotAllowed() throws SQLException {
        try (Connection c = shop.superuserConnection(); var st = c.createStatement()) {
            st.execute("INSERT INTO public.orders VALUES (1); INSERT INTO public.audit_log VALUES (1)");
        }
        String sql = "DELETE FROM orders WHERE id = 1";
        asApp(sql);
        assertThat(count("SELECT count(*) FROM public.audit_log")).as("the cascade emptied the audit log").isZero();
        Classification c = judge(sql, DEFAULTS);
        Decision d = decide(sql, c);
        assertThat(d.action()).as("%s", c.statements()).isNotEqualTo(Action.ALLOW);
        assertThat(String.join("; ", d.reasons())).contains("catalog is unavailable");
        // What the classifier did see is kept, so deny rules on it still match.
        assertThat(c.statements().getFirst().objects())
                .contains(new ObjectAccess("public.orders", Access.WRITE, List.of()));
        Decision direct = decide("DELETE FROM public.audit_log", judge("DELETE FROM public.audit_log", DEFAULTS));
        assertThat(direct.action()).isEqualTo(Action.DENY);
        assertThat(direct.rule()).isEqualTo("audit-log");
    }

    @Test
    void anUnqualifiedNameIsNotGuessedIntoTheFirstSchemaItMightBeIn() throws SQLException {
        String sql = "SELECT who FROM notes";
        try (Connection c = shop.superuserConnection(); var st = c.createStatement()) {
            st.execute("SET ROLE app");
            try (ResultSet rs = st.executeQuery(sql)) {
                rs.next();
                assertThat(rs.getString(1)).as("\"$user\" is app: the server reads app.notes").isEqualTo("app");
            }
        }
        Classification c = judge(sql, DEFAULTS);
        assertThat(decide(sql, c).action()).as("%s", c.statements()).isNotEqualTo(Action.ALLOW);
    }

    // ---- what the offline table does know -----------------------------------------------------------------------

    @Test
    void whatDependsOnNoUserObjectIsStillLabelled() {
        assertKind("SELECT 1", DEFAULTS, Kind.READ);
        assertKind("SELECT pg_catalog.now(), 'pg_class'::regclass, '1 day'::interval, 1::bigint", DEFAULTS, Kind.READ);
        assertKind("SELECT * FROM pg_catalog.pg_class", DEFAULTS, Kind.READ);
        assertKind("SHOW search_path", DEFAULTS, Kind.READ);
        assertKind("SET statement_timeout = 0", DEFAULTS, Kind.SESSION);
        assertKind("BEGIN", DEFAULTS, Kind.TCL);
        // With nothing but pg_catalog on the path, no user function or operator can be reached unqualified.
        ClassifyContext catalogOnly = new ClassifyContext(List.of("pg_catalog"), Map.of());
        assertKind("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE 'pg%'", catalogOnly, Kind.READ);
        // The same with "$user", public on the path may reach a user's count or =, or the user's own pg_class.
        assertKind("SELECT count(*) FROM pg_catalog.pg_class WHERE relkind = 'r'", DEFAULTS, Kind.UNKNOWN);
        assertKind("SELECT 1 FROM pg_class", new ClassifyContext(List.of("$user", "pg_catalog"), Map.of()), Kind.UNKNOWN);
        assertKind("SELECT $1::text", DEFAULTS, Kind.UNKNOWN);
        assertKind("SELECT $1 = $2", catalogOnly, Kind.READ); // only pg_catalog's = can be reached
    }

    static void assertKind(String sql, ClassifyContext ctx, Kind kind) {
        Classification c = judge(sql, ctx);
        assertThat(c.kind()).as("%s: %s", sql, c.statements()).isEqualTo(kind);
    }

    // ---- the catalog comes and goes -----------------------------------------------------------------------------

    @Test
    void aCatalogLostToAnAgentHoldingTheLastSlotAndBackAgainIsFollowedByTheCache() throws Exception {
        separateDatabase("lc", 1);
        try (PostgresCatalog cat = new PostgresCatalog(shop.config("lc", "lc"), Map.of(), BuiltinCatalog.INSTANCE, SLOW)) {
            PostgresClassifier classifier = PostgresClassifier.create(cat, null);
            assertThat(cat.refresh()).isTrue();
            String plain = "SELECT id FROM t";
            assertThat(classifier.classify(plain, DEFAULTS).kind()).isEqualTo(Kind.READ);
            assertThat(classifier.classify("SELECT * FROM v", DEFAULTS).kind()).isEqualTo(Kind.UNKNOWN);

            // The catalog's session ends (a restart, an administrator, pg_terminate_backend) and the agent takes the
            // slot before the catalog can reconnect.
            // Waiting for the backend to be gone (up to 5 s): a slot it still held made the agent's connection fail
            // ("too many connections for role lc") when the machine was busy.
            shop.admin("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = 'warden-catalog'"
                    + " AND datname = 'lc'");
            try (Connection agent = shop.connect("lc", "lc")) {
                cat.invalidate(); // DDL passed through: the next question reads the catalog again, and cannot
                Classification lost = classifier.classify(plain, DEFAULTS);
                assertThat(cat.live()).isFalse();
                assertThat(cat.lastError()).contains("too many connections");
                assertThat(lost.kind()).as("the cached live classification is not reused").isEqualTo(Kind.UNKNOWN);
                assertThat(String.join("; ", lost.statements().getFirst().reasons())).contains("catalog is unavailable");
                assertThat(classifier.cached(plain, DEFAULTS)).contains(lost);
            }
            CatalogReconnectTest.await(cat::live);
            Classification back = classifier.classify(plain, DEFAULTS);
            assertThat(back.kind()).as("the offline classification is not reused").isEqualTo(Kind.READ);
            Classification view = classifier.classify("SELECT * FROM v", DEFAULTS);
            assertThat(view.kind()).isEqualTo(Kind.UNKNOWN);
            assertThat(String.join("; ", view.statements().getFirst().reasons())).doesNotContain("catalog is unavailable");
        }
    }

    @Test
    void aReloadThatFailsDoesNotKeepTheSnapshotItCouldNotRefresh() throws Exception {
        separateDatabase("rl", 5);
        try (PostgresCatalog cat = new PostgresCatalog(shop.config("rl", "rl"), Map.of(), BuiltinCatalog.INSTANCE, SLOW)) {
            PostgresClassifier classifier = PostgresClassifier.create(cat, null);
            assertThat(cat.refresh()).isTrue();
            String sql = "SELECT * FROM v2";
            try (Connection c = shop.connect("postgres", "rl"); var st = c.createStatement()) {
                // The agent creates a view over nextval (DDL passes through: the catalog is told), and the reload
                // that follows fails on a connection that stays up (here a privilege; a statement timeout or a
                // cancel do the same).
                st.execute("SET ROLE rl; CREATE VIEW public.v2 AS SELECT nextval('public.s') AS n; RESET ROLE");
                st.execute("REVOKE SELECT ON pg_catalog.pg_policy FROM PUBLIC");
                try {
                    cat.invalidate();
                    Classification c2 = classifier.classify(sql, DEFAULTS);
                    assertThat(cat.lastError()).contains("permission denied");
                    assertThat(c2.kind()).as("%s", c2.statements()).isNotEqualTo(Kind.READ);
                    assertThat(cat.live()).isFalse();
                } finally {
                    st.execute("GRANT SELECT ON pg_catalog.pg_policy TO PUBLIC");
                }
            }
            CatalogReconnectTest.await(cat::live);
            Classification live = classifier.classify(sql, DEFAULTS);
            assertThat(live.kind()).isEqualTo(Kind.UNKNOWN);
            assertThat(live.statements().getFirst().unproven()).contains("relation public.v2");
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    static Classification judge(String sql, ClassifyContext ctx) {
        Classification c = offline.classify(sql, ctx);
        return down.enrich(LiveShop.op(sql), c, ctx);
    }

    static Decision decide(String sql, Classification c) {
        return PolicyEngine.decide(policy, LiveShop.op(sql), c);
    }

    /** Runs the text as the upstream role (through a superuser's session: the role has no connection left). */
    static void asApp(String sql) throws SQLException {
        try (Connection c = shop.superuserConnection(); var st = c.createStatement()) {
            st.execute("SET ROLE app");
            st.execute(sql);
        }
    }

    /** Rows in the audit table plus how far the sequence moved: grows whenever user code or nextval ran. */
    static long sideEffects() throws SQLException {
        return count("SELECT (SELECT count(*) FROM public.audit) + last_value + is_called::int FROM public.s");
    }

    static long count(String sql) throws SQLException {
        try (Connection c = shop.superuserConnection(); var st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A role and a database of that name, with a plain table t and a view v over nextval. */
    static void separateDatabase(String name, int connectionLimit) throws SQLException {
        shop.admin("CREATE ROLE " + name + " LOGIN CONNECTION LIMIT " + connectionLimit);
        shop.admin("CREATE DATABASE " + name + " OWNER " + name);
        try (Connection c = shop.connect("postgres", name); var st = c.createStatement()) {
            st.execute("SET ROLE " + name + ";"
                    + " CREATE TABLE public.t (id int); CREATE SEQUENCE public.s;"
                    + " CREATE VIEW public.v AS SELECT nextval('public.s') AS n");
        }
    }

}
