package dev.warden.postgres.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.LiveShop;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine's classifier over the engine's live catalog, end to end against a real PostgreSQL: what the classifier
 * learns from the catalog (columns, functions, operators, names through the search path), what enrichment adds
 * (tags, row estimates), and how a policy decides on the result.
 */
class CatalogClassifierTest {
    static final Map<String, List<String>> TAGS = Map.of("pii", List.of("public.customers.email", "public.customers.ssn"));
    static final ClassifyContext DEFAULTS = ClassifyContext.defaults();

    static LiveShop shop;

    @BeforeAll
    static void start() throws Exception {
        shop = LiveShop.start("""
                CREATE TABLE public.customers (id int PRIMARY KEY, name text, email text, ssn text);
                INSERT INTO public.customers SELECT g, 'n' || g, g || '@example.com', 'ssn' || g FROM generate_series(1, 10000) g;
                ANALYZE public.customers;
                -- Two columns that always agree: the planner multiplies their conditions as if independent.
                CREATE TABLE public.pairs (a int, b int, c int, v varchar(20));
                INSERT INTO public.pairs SELECT g, g, g % 10, g::text FROM generate_series(1, 10000) g;
                CREATE INDEX ON public.pairs (a);
                ANALYZE public.pairs;
                CREATE TABLE public.few (a int);
                INSERT INTO public.few SELECT g FROM generate_series(1, 1000) g;
                ANALYZE public.few;
                CREATE TABLE public.counters (n int);
                INSERT INTO public.counters VALUES (0);
                CREATE TABLE public.audit (what text);
                CREATE FUNCTION public.bump() RETURNS int SECURITY DEFINER LANGUAGE sql
                    AS 'UPDATE public.counters SET n = n + 1 RETURNING n';
                CREATE FUNCTION public.double_it(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1 * 2';
                CREATE SCHEMA evil;
                CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES ($1); RETURN $1; END';
                CREATE FUNCTION evil.eq(int, int) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''op''); RETURN $1 = $2; END';
                CREATE OPERATOR public.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.eq);
                CREATE SCHEMA app;
                CREATE TABLE app.notes (body text, author text);
                CREATE SCHEMA hidden;
                CREATE TABLE hidden.notes (secret text);
                REVOKE ALL ON SCHEMA hidden FROM app;
                """);
        shop.openCatalog(TAGS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (shop != null) shop.close();
    }

    static Classification judge(String text, String... params) {
        return shop.judge(text, DEFAULTS, params);
    }

    static Classification judge(String text, ClassifyContext ctx, String... params) {
        return shop.judge(text, ctx, params);
    }

    static ObjectAccess object(Classification c, String name) {
        return c.statements().getFirst().objects().stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void starExpandsThroughTheLiveCatalogAndTagsFollow() {
        Classification c = judge("SELECT * FROM public.customers WHERE id <= 100");
        assertThat(c.kind()).isEqualTo(Kind.READ);
        assertThat(object(c, "public.customers").columns()).containsExactlyInAnyOrder("id", "name", "email", "ssn");
        assertThat(c.tags()).containsExactly("pii");
        assertThat(c.estimatedRows()).isBetween(50L, 200L);
        assertThat(c.enrichment()).isEqualTo("catalog");

        Classification names = judge("SELECT id, name FROM customers");
        assertThat(object(names, "public.customers").columns()).containsExactlyInAnyOrder("id", "name");
        assertThat(names.tags()).isEmpty();
        assertThat(names.estimatedRows()).isBetween(9000L, 11000L);
    }

    @Test
    void unqualifiedNamesReachTheUsersOwnSchemaFirst() {
        // "$user" is app: app.notes, not public.notes.
        Classification c = judge("SELECT * FROM notes");
        assertThat(object(c, "app.notes").columns()).containsExactly("body", "author");
    }

    /**
     * An object created with an unqualified name goes where PostgreSQL puts it: the first schema of the path that exists,
     * "$user" included (app), or the session's temporary schema when pg_temp is named first. It was named after the first
     * schema of the path other than "$user" (public.fresh_t), so a rule on app's objects never matched its creation.
     */
    @Test
    void anUnqualifiedCreationIsNamedAfterTheSchemaPostgresCreatesItIn() {
        assertThat(judge("CREATE TABLE fresh_t (id int)").statements().getFirst().objects())
                .extracting(ObjectAccess::name).containsExactly("app.fresh_t");
        assertThat(judge("CREATE VIEW fresh_v AS SELECT 1 AS one").statements().getFirst().objects())
                .extracting(ObjectAccess::name).contains("app.fresh_v");
        ClassifyContext tempFirst = new ClassifyContext(List.of("pg_temp", "$user", "public"), Map.of());
        assertThat(judge("CREATE TABLE fresh_t (id int)", tempFirst).statements().getFirst().objects())
                .extracting(ObjectAccess::name).containsExactly("pg_temp.fresh_t");
        ClassifyContext noSuchSchemaFirst = new ClassifyContext(List.of("nosuch", "public"), Map.of());
        assertThat(judge("CREATE TABLE fresh_t (id int)", noSuchSchemaFirst).statements().getFirst().objects())
                .extracting(ObjectAccess::name).containsExactly("public.fresh_t");
    }

    /**
     * PostgreSQL leaves a schema of the path the role may not use (no USAGE) out of its search: with hidden first, notes
     * is app.notes on the server. Warden resolved it as hidden.notes, so a writing view behind such a schema would have
     * been judged as the plain table the server never reads.
     */
    @Test
    void aSchemaTheUserMayNotUseIsLeftOutOfThePathAsPostgresDoes() throws Exception {
        List<String> path = List.of("hidden", "$user", "public");
        try (var c = shop.connect("app", "shop"); var st = c.createStatement()) {
            st.execute("SET search_path = hidden, \"$user\", public");
            try (var rs = st.executeQuery("SELECT count(*) FROM notes")) {
                assertThat(rs.next()).isTrue();  // the server reads app.notes: hidden.notes would be a permission error
            }
            try (var rs = st.executeQuery("SELECT nspname FROM pg_class k JOIN pg_namespace n ON n.oid = relnamespace"
                    + " WHERE k.oid = 'notes'::regclass")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("app");
            }
        }
        Classification c = judge("SELECT * FROM notes", new ClassifyContext(path, Map.of()));
        assertThat(c.statements().getFirst().objects()).extracting(ObjectAccess::name).containsExactly("app.notes");
        assertThat(judge("CREATE TABLE t2 (id int)", new ClassifyContext(path, Map.of())).statements().getFirst().objects())
                .extracting(ObjectAccess::name).containsExactly("app.t2");
    }

    @Test
    void builtInsAreReadsAndTheirVolatilityComesFromTheCatalog() {
        for (String sql : List.of("SELECT lower(name), now(), random() FROM public.customers WHERE id = 1",
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY id) FROM public.customers",
                "SELECT jsonb_build_object('a', id) FROM public.customers WHERE id = 1")) {
            Classification c = judge(sql);
            assertThat(c.kind()).as(sql + " " + c.statements().getFirst().reasons()).isEqualTo(Kind.READ);
            assertThat(c.estimatedRows()).as(sql + ": " + c.enrichment()).isNotNegative();
        }
        // setseed is volatile and changes session state: not a pure read.
        assertThat(judge("SELECT setseed(0.5)").kind()).isNotEqualTo(Kind.READ);
    }

    @Test
    void aUserFunctionShadowingABuiltInThroughTheSearchPathIsCaught() throws SQLException {
        String sql = "SELECT lower(name) FROM public.customers WHERE id = 1";
        assertThat(judge(sql).kind()).isEqualTo(Kind.READ);
        ClassifyContext shadowed = new ClassifyContext(List.of("evil", "pg_catalog", "public"), Map.of());
        Classification c = judge(sql, shadowed);
        assertThat(c.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(c.statements().getFirst().unproven()).contains("evil.lower");
        assertThat(String.join(" ", c.statements().getFirst().reasons())).contains("evil.lower");
        assertThat(c.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        assertThat(c.enrichment()).contains("no row estimate");
        assertThat(shop.value("SELECT count(*) FROM public.audit")).isEqualTo("0");
        // pg_catalog implicitly first: evil.lower(text) is hidden.
        assertThat(judge(sql, new ClassifyContext(List.of("evil", "public"), Map.of())).kind()).isEqualTo(Kind.READ);
    }

    @Test
    void aSecurityDefinerWriterCalledFromASelectIsNotARead() throws SQLException {
        Classification c = judge("SELECT bump()");
        assertThat(c.kind()).isNotEqualTo(Kind.READ).isEqualTo(Kind.UNKNOWN);
        assertThat(c.statements().getFirst().unproven()).containsExactly("public.bump");
        assertThat(c.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        // An immutable user function is still not PostgreSQL's own: unproven.
        assertThat(judge("SELECT double_it(id) FROM public.customers").kind()).isEqualTo(Kind.UNKNOWN);
        // A user operator calls user code too.
        assertThat(judge("SELECT id FROM public.customers WHERE id === 1").kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(shop.value("SELECT n FROM public.counters")).isEqualTo("0");
        assertThat(shop.value("SELECT count(*) FROM public.audit")).isEqualTo("0");
    }

    @Test
    void aFastPathCallIsJudgedByWhatItsOidResolvesTo() throws SQLException {
        int abs = Integer.parseInt(shop.value("SELECT 'pg_catalog.int4abs'::regproc::oid"));
        int bump = Integer.parseInt(shop.value("SELECT 'public.bump'::regproc::oid"));
        int unlink = Integer.parseInt(shop.value("SELECT 'pg_catalog.lo_unlink'::regproc::oid"));
        Classification read = dev.warden.postgres.wire.FastPathCall.classify(abs, shop.catalog());
        assertThat(read.kind()).isEqualTo(Kind.READ);
        assertThat(read.statements().getFirst().functions()).containsExactly("pg_catalog.int4abs");
        Classification writer = dev.warden.postgres.wire.FastPathCall.classify(bump, shop.catalog());
        assertThat(writer.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(writer.statements().getFirst().unproven()).containsExactly("public.bump");
        assertThat(dev.warden.postgres.wire.FastPathCall.classify(unlink, shop.catalog()).kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(dev.warden.postgres.wire.FastPathCall.classify(999_999, shop.catalog()).kind()).isEqualTo(Kind.UNKNOWN);
        // Without a live catalog nothing can be resolved: fail closed.
        assertThat(dev.warden.postgres.wire.FastPathCall.classify(abs, dev.warden.core.engine.Catalog.NONE).kind())
                .isEqualTo(Kind.UNKNOWN);
    }

    @Test
    void aViewThatCallsAWriterIsNotARead() throws SQLException {
        shop.app("CREATE VIEW public.bumping AS SELECT public.bump() AS n");
        shop.app("CREATE VIEW public.plain AS SELECT id, name FROM public.customers");
        shop.app("CREATE VIEW public.over_bumping AS SELECT n FROM public.bumping");
        shop.catalog().invalidate();
        shop.catalog().refresh();
        Classification c = judge("SELECT * FROM public.bumping");
        assertThat(c.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(String.join(" ", c.statements().getFirst().reasons())).contains("public.bumping runs user code");
        assertThat(judge("SELECT n FROM over_bumping").kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(judge("SELECT name FROM plain").kind()).isEqualTo(Kind.READ);
        assertThat(shop.value("SELECT n FROM public.counters")).isEqualTo("0");
    }

    @Test
    void writesGetRowEstimatesWithAndWithoutParameters() throws SQLException {
        Classification del = judge("DELETE FROM public.customers WHERE id <= 2000");
        assertThat(del.kind()).isEqualTo(Kind.WRITE);
        assertThat(del.estimatedRows()).isBetween(1500L, 2500L);
        assertThat(del.tags()).containsExactly("pii");
        Classification upd = judge("UPDATE public.customers SET name = $1 WHERE id > $2", "x", "9990");
        assertThat(upd.kind()).isEqualTo(Kind.WRITE);
        assertThat(upd.estimatedRows()).as(upd.enrichment()).isBetween(1L, 50L);
        assertThat(shop.value("SELECT count(*) FROM public.customers")).isEqualTo("10000");
        assertThat(shop.value("SELECT count(*) FROM public.customers WHERE name = 'x'")).isEqualTo("0");
        // SELECT INTO creates a table: no estimate, and no table either.
        Classification into = judge("SELECT * INTO public.copy FROM public.customers");
        assertThat(into.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        assertThat(into.enrichment()).contains("no row estimate");
        assertThat(shop.value("SELECT count(*) FROM pg_class WHERE relname = 'copy'")).isEqualTo("0");
    }

    @Test
    void aRowsOverRuleAsksForApprovalOfLargeWrites() throws Exception {
        Policy p = PolicyLoader.parse(Path.of("policy.yaml"), """
                rules:
                  - name: big-writes
                    match: { kind: [write], rows_over: 1000 }
                    action: approve
                  - name: writes
                    match: { kind: [write] }
                    action: allow
                  - name: pii-reads
                    match: { kind: [read], tags: [pii] }
                    action: deny
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                """.getBytes(StandardCharsets.UTF_8));
        assertThat(decide(p, "DELETE FROM public.customers WHERE id <= 10")).isEqualTo(Action.ALLOW);
        assertThat(decide(p, "DELETE FROM public.customers WHERE id <= 5000")).isEqualTo(Action.APPROVE);
        assertThat(decide(p, "DELETE FROM public.customers WHERE id <= $1", "10")).isEqualTo(Action.ALLOW);
        assertThat(decide(p, "DELETE FROM public.customers WHERE id <= $1", "9000")).isEqualTo(Action.APPROVE);
        // No estimate (a ';' in a literal): treated as over the limit.
        assertThat(decide(p, "UPDATE public.customers SET name = 'a;b' WHERE id = 1")).isEqualTo(Action.APPROVE);
        assertThat(decide(p, "SELECT id, name FROM public.customers")).isEqualTo(Action.ALLOW);
        assertThat(decide(p, "SELECT * FROM public.customers")).isEqualTo(Action.DENY);
    }

    /**
     * The planner gives a condition without statistics a fixed selectivity (0.5 % for an equality) and multiplies
     * those of several conditions: {@code DELETE FROM customers WHERE (id % 1) = 0 AND (id % 2) < 5} was estimated at
     * about 17 of 10,000 rows and allowed under a rows_over: 1000 rule, and it deletes them all; so did two conditions
     * on columns that always agree (a 10th of the rows estimated as a 100th). A write is now bounded by what column
     * statistics answer for one column at a time, or by every row of the relation it writes.
     */
    @Test
    void aBulkWriteWithConditionsThePlannerUnderestimatesPassedARowsOverRule() throws Exception {
        Policy p = PolicyLoader.parse(Path.of("policy.yaml"), """
                rules:
                  - name: big-writes
                    match: { kind: [write], rows_over: 500 }
                    action: approve
                  - name: writes
                    match: { kind: [write] }
                    action: allow
                """.getBytes(StandardCharsets.UTF_8));
        for (String bulk : List.of(
                "DELETE FROM public.customers WHERE (id % 1) = 0 AND (id % 2) < 5",
                "UPDATE public.customers SET name = 'x' WHERE (id % 1) = 0 AND (length(email) % 1) = 0",
                "DELETE FROM public.pairs WHERE a <= 1000 AND b <= 1000 AND c < 10",
                "DELETE FROM public.pairs WHERE a = ANY ('{1,2}') OR (b % 1) = 0",
                "DELETE FROM public.pairs WHERE a IN (SELECT b FROM public.pairs WHERE (b % 1) = 0 AND (c % 1) = 0)",
                "UPDATE public.pairs SET c = 0 FROM public.customers WHERE (customers.id % 1) = 0 AND (pairs.b % 1) = 0",
                "INSERT INTO public.pairs SELECT a, b, c FROM public.pairs WHERE (a % 1) = 0 AND (b % 1) = 0",
                // Cast to text, an integer is an expression without statistics (a third for a range: 333 of 1,000);
                // varchar is not (below).
                "DELETE FROM public.few WHERE a::text >= '0'")) {
            Classification c = judge(bulk);
            assertThat(decide(p, bulk)).as(bulk + " " + c.estimatedRows() + " " + c.enrichment()).isEqualTo(Action.APPROVE);
        }
        // What statistics answer still passes, with a filter the index does not serve among the conditions.
        for (String small : List.of(
                "UPDATE public.customers SET name = 'x' WHERE id = 5 AND name = 'n5'",
                "DELETE FROM public.customers WHERE id BETWEEN 10 AND 20 AND (id % 2) = 0",
                "DELETE FROM public.pairs WHERE a <= 100 AND b <= 5000",
                "DELETE FROM public.pairs WHERE a = ANY ('{1,2,3}') AND (b % 1) = 0",
                "UPDATE public.customers SET ssn = NULL WHERE email = '7@example.com' AND (id % 1) = 0",
                "INSERT INTO public.pairs VALUES (1, 2, 3), (4, 5, 6)",
                "DELETE FROM public.pairs WHERE v = '17' AND (a % 1) = 0",
                "INSERT INTO public.pairs SELECT a, b, c FROM public.pairs WHERE a < 50 AND (b % 1) = 0")) {
            Classification c = judge(small);
            assertThat(decide(p, small)).as(small + " " + c.estimatedRows() + " " + c.enrichment()).isEqualTo(Action.ALLOW);
        }
    }

    static Action decide(Policy p, String text, String... params) {
        return PolicyEngine.decide(p, LiveShop.op(text, params), judge(text, params)).action();
    }

    @Test
    void ddlThatPassesThroughReachesTheClassifiersCache() throws SQLException {
        PostgresCatalog live = shop.catalog();
        String sql = "SELECT * FROM public.fresh";
        Classification before = shop.classifier().classify(sql, DEFAULTS);
        assertThat(object(before, "public.fresh").columns()).containsExactly("*");
        shop.app("CREATE TABLE public.fresh (a int, b text)");
        live.invalidate();
        Classification after = shop.classifier().classify(sql, DEFAULTS);
        assertThat(object(after, "public.fresh").columns()).containsExactly("a", "b");
        shop.app("ALTER TABLE public.fresh ADD COLUMN c int");
        live.invalidate();
        assertThat(object(shop.classifier().classify(sql, DEFAULTS), "public.fresh").columns()).containsExactly("a", "b", "c");
        shop.app("DROP TABLE public.fresh");
        live.invalidate();
    }
}
