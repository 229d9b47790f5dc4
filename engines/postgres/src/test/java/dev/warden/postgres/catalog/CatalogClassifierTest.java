package dev.warden.postgres.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Classifier;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.PostgresEngine;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
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

    static EmbeddedPostgres pg;
    static Catalog catalog;
    static Classifier classifier;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); var st = c.createStatement()) {
            st.execute("CREATE ROLE app LOGIN");
            st.execute("CREATE DATABASE shop OWNER app");
        }
        app("""
                CREATE TABLE public.customers (id int PRIMARY KEY, name text, email text, ssn text);
                INSERT INTO public.customers SELECT g, 'n' || g, g || '@example.com', 'ssn' || g FROM generate_series(1, 10000) g;
                ANALYZE public.customers;
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
                """);
        PostgresEngine engine = new PostgresEngine();
        catalog = engine.catalog(new DatabaseConfig("shop", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("localhost", pg.getPort(), "shop", "app", new Secret("")), Duration.ofSeconds(30)), TAGS);
        classifier = engine.classifier(catalog);
        assertThat(catalog).isInstanceOf(PostgresCatalog.class);
        assertThat(((PostgresCatalog) catalog).refresh()).isTrue();
    }

    @AfterAll
    static void stop() throws Exception {
        if (catalog != null) catalog.close();
        if (pg != null) pg.close();
    }

    static void app(String sql) throws SQLException {
        try (Connection c = pg.getDatabase("app", "shop").getConnection(); var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static String one(String sql) throws SQLException {
        try (Connection c = pg.getDatabase("app", "shop").getConnection(); var st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static Operation op(String text, String... params) {
        return new Operation("agent", "shop", "postgres", text, List.of(params), "", "s1", "127.0.0.1", null);
    }

    static Classification judge(String text, ClassifyContext ctx, String... params) {
        Classification c = classifier.classify(text, ctx);
        return catalog.enrich(op(text, params), c, ctx);
    }

    static Classification judge(String text, String... params) {
        return judge(text, DEFAULTS, params);
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
        assertThat(one("SELECT count(*) FROM public.audit")).isEqualTo("0");
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
        assertThat(one("SELECT n FROM public.counters")).isEqualTo("0");
        assertThat(one("SELECT count(*) FROM public.audit")).isEqualTo("0");
    }

    @Test
    void aFastPathCallIsJudgedByWhatItsOidResolvesTo() throws SQLException {
        int abs = Integer.parseInt(one("SELECT 'pg_catalog.int4abs'::regproc::oid"));
        int bump = Integer.parseInt(one("SELECT 'public.bump'::regproc::oid"));
        int unlink = Integer.parseInt(one("SELECT 'pg_catalog.lo_unlink'::regproc::oid"));
        Classification read = dev.warden.postgres.wire.FastPathCall.classify(abs, catalog);
        assertThat(read.kind()).isEqualTo(Kind.READ);
        assertThat(read.statements().getFirst().functions()).containsExactly("pg_catalog.int4abs");
        Classification writer = dev.warden.postgres.wire.FastPathCall.classify(bump, catalog);
        assertThat(writer.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(writer.statements().getFirst().unproven()).containsExactly("public.bump");
        assertThat(dev.warden.postgres.wire.FastPathCall.classify(unlink, catalog).kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(dev.warden.postgres.wire.FastPathCall.classify(999_999, catalog).kind()).isEqualTo(Kind.UNKNOWN);
        // Without a live catalog nothing can be resolved: fail closed.
        assertThat(dev.warden.postgres.wire.FastPathCall.classify(abs, dev.warden.core.engine.Catalog.NONE).kind())
                .isEqualTo(Kind.UNKNOWN);
    }

    @Test
    void aViewThatCallsAWriterIsNotARead() throws SQLException {
        app("CREATE VIEW public.bumping AS SELECT public.bump() AS n");
        app("CREATE VIEW public.plain AS SELECT id, name FROM public.customers");
        app("CREATE VIEW public.over_bumping AS SELECT n FROM public.bumping");
        catalog.invalidate();
        ((PostgresCatalog) catalog).refresh();
        Classification c = judge("SELECT * FROM public.bumping");
        assertThat(c.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(String.join(" ", c.statements().getFirst().reasons())).contains("public.bumping runs user code");
        assertThat(judge("SELECT n FROM over_bumping").kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(judge("SELECT name FROM plain").kind()).isEqualTo(Kind.READ);
        assertThat(one("SELECT n FROM public.counters")).isEqualTo("0");
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
        assertThat(one("SELECT count(*) FROM public.customers")).isEqualTo("10000");
        assertThat(one("SELECT count(*) FROM public.customers WHERE name = 'x'")).isEqualTo("0");
        // SELECT INTO creates a table: no estimate, and no table either.
        Classification into = judge("SELECT * INTO public.copy FROM public.customers");
        assertThat(into.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        assertThat(into.enrichment()).contains("no row estimate");
        assertThat(one("SELECT count(*) FROM pg_class WHERE relname = 'copy'")).isEqualTo("0");
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

    static Action decide(Policy p, String text, String... params) {
        return PolicyEngine.decide(p, op(text, params), judge(text, params)).action();
    }

    @Test
    void ddlThatPassesThroughReachesTheClassifiersCache() throws SQLException {
        PostgresCatalog live = (PostgresCatalog) catalog;
        String sql = "SELECT * FROM public.fresh";
        Classification before = classifier.classify(sql, DEFAULTS);
        assertThat(object(before, "public.fresh").columns()).containsExactly("*");
        app("CREATE TABLE public.fresh (a int, b text)");
        live.invalidate();
        Classification after = classifier.classify(sql, DEFAULTS);
        assertThat(object(after, "public.fresh").columns()).containsExactly("a", "b");
        app("ALTER TABLE public.fresh ADD COLUMN c int");
        live.invalidate();
        assertThat(object(classifier.classify(sql, DEFAULTS), "public.fresh").columns()).containsExactly("a", "b", "c");
        app("DROP TABLE public.fresh");
        live.invalidate();
    }
}
