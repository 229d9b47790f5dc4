package dev.warden.postgres.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Access;
import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.catalog.SchemaInfo.FunctionInfo;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The live catalog against a real PostgreSQL: names, columns, functions, tags, row estimates, invalidation. */
class PostgresCatalogTest {
    static final PostgresCatalog.Options SLOW = new PostgresCatalog.Options(Duration.ofHours(1), Duration.ofHours(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(200));
    static final Map<String, List<String>> TAGS = Map.of(
            "pii", List.of("public.customers.email", "public.customers.ssn"),
            "secret", List.of("*.password"));

    static EmbeddedPostgres pg;
    static PostgresCatalog catalog;

    @BeforeAll
    static void start() throws Exception {
        pg = EmbeddedPostgres.builder().start();
        admin("postgres", "CREATE ROLE app LOGIN");
        admin("postgres", "CREATE DATABASE shop OWNER app");
        app("""
                CREATE TABLE public.customers (id int PRIMARY KEY, name text, email text, ssn text);
                INSERT INTO public.customers SELECT g, 'n' || g, g || '@example.com', 'ssn' || g FROM generate_series(1, 10000) g;
                ANALYZE public.customers;
                CREATE TABLE public.accounts (id int, password text);
                CREATE TABLE public.counters (n int);
                INSERT INTO public.counters VALUES (0);
                CREATE TABLE public.audit (what text);
                -- A writer behind a function: SECURITY DEFINER, called from a SELECT.
                CREATE FUNCTION public.bump() RETURNS int SECURITY DEFINER LANGUAGE sql
                    AS 'UPDATE public.counters SET n = n + 1 RETURNING n';
                -- Masked by pg_catalog.lower(text), which the search path puts first.
                CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql VOLATILE AS 'SELECT $1';
                CREATE SCHEMA evil;
                CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES ($1); RETURN $1; END';
                CREATE VIEW public.shouting AS SELECT evil.lower(name) AS name FROM public.customers;
                CREATE VIEW public.plain AS SELECT pg_catalog.upper(name) AS name FROM public.customers;
                CREATE VIEW public.over_shouting AS SELECT * FROM public.shouting;
                CREATE FUNCTION evil.eq(int, int) RETURNS bool LANGUAGE plpgsql VOLATILE
                    AS 'BEGIN INSERT INTO public.audit VALUES (''op''); RETURN $1 = $2; END';
                CREATE OPERATOR public.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.eq);
                CREATE VIEW public.op_view AS SELECT id FROM public.customers WHERE id === 1;
                CREATE FUNCTION evil.stamp() RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''x''::text';
                CREATE TABLE public.stamped (id int, s text DEFAULT evil.stamp());
                -- The user's own schema comes first through "$user".
                CREATE SCHEMA app;
                CREATE TABLE app.customers (x int);
                """);
        catalog = new PostgresCatalog(config("shop"), TAGS, BuiltinCatalog.INSTANCE, SLOW);
        assertThat(catalog.refresh()).as(catalog.lastError()).isTrue();
    }

    @AfterAll
    static void stop() throws Exception {
        if (catalog != null) catalog.close();
        if (pg != null) pg.close();
    }

    static DatabaseConfig config(String database) {
        return new DatabaseConfig("shop", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("localhost", pg.getPort(), database, "app", new Secret("")), Duration.ofSeconds(30));
    }

    static Connection connect(String database, String user) throws SQLException {
        return pg.getDatabase(user, database).getConnection();
    }

    static void admin(String database, String sql) throws SQLException {
        try (Connection c = connect(database, "postgres"); var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static void app(String sql) throws SQLException {
        try (Connection c = connect("shop", "app"); var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    static String one(String sql) throws SQLException {
        try (Connection c = connect("shop", "app"); var st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static final List<String> DEFAULT = ClassifyContext.DEFAULT_SEARCH_PATH;

    // ----- names and columns -----

    @Test
    void starExpandsToTheColumnsInOrder() {
        assertThat(catalog.columns("public.customers")).contains(List.of("id", "name", "email", "ssn"));
        assertThat(catalog.columns("public.shouting")).contains(List.of("name"));
        assertThat(catalog.columns("public.nosuch")).isEmpty();
        assertThat(catalog.live()).isTrue();
    }

    /**
     * information_schema's views call its own SQL helpers (_pg_truetypid, _pg_char_max_length…), which initdb made
     * outside pg_catalog: they counted as user code, so an agent's look at information_schema.columns was unknown.
     */
    @Test
    void informationSchemaViewsRunOnlyPostgresOwnCode() {
        assertThat(catalog.readRunsUserCode("information_schema.columns")).isFalse();
        assertThat(catalog.readRunsUserCode("information_schema.tables")).isFalse();
        dev.warden.core.Classification c = new dev.warden.postgres.PostgresEngine().classifier(catalog).classify(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'customers'",
                dev.warden.core.engine.ClassifyContext.defaults());
        assertThat(c.kind()).as("%s", c.statements()).isEqualTo(dev.warden.core.Kind.READ);
        // A user's view still counts.
        assertThat(catalog.readRunsUserCode("public.shouting")).isTrue();
    }

    /** A reload that finds the same catalog keeps the generation: caches built on it stay. */
    @Test
    void aReloadOfTheSameCatalogKeepsTheGeneration() {
        catalog.invalidate();
        assertThat(catalog.refresh()).as(catalog.lastError()).isTrue();
        long before = catalog.generation();
        catalog.invalidate();
        assertThat(catalog.refresh()).isTrue();
        assertThat(catalog.generation()).isEqualTo(before);
    }

    @Test
    void unqualifiedNamesResolveThroughTheSearchPath() {
        // "$user" is the upstream user, whose schema holds its own customers table.
        assertThat(catalog.relation(DEFAULT, null, "customers")).contains("app.customers");
        assertThat(catalog.relation(List.of("public"), null, "customers")).contains("public.customers");
        assertThat(catalog.relation(List.of("nosuch", "public"), null, "customers")).contains("public.customers");
        assertThat(catalog.relation(DEFAULT, "public", "customers")).contains("public.customers");
        assertThat(catalog.relation(DEFAULT, null, "accounts")).contains("public.accounts");
        // pg_catalog comes first even when the path does not name it.
        assertThat(catalog.relation(List.of("public"), null, "pg_class")).contains("pg_catalog.pg_class");
        assertThat(catalog.relation(DEFAULT, null, "nosuch")).isEmpty();
        assertThat(catalog.relation(List.of(), null, "customers")).isEmpty();
    }

    @Test
    void theDefaultSearchPathIncludesRoleSettings() throws SQLException {
        assertThat(catalog.defaultSearchPath()).contains(List.of("$user", "public"));
        admin("postgres", "ALTER ROLE app IN DATABASE shop SET search_path = evil, public");
        try (PostgresCatalog other = new PostgresCatalog(config("shop"), Map.of(), BuiltinCatalog.INSTANCE, SLOW)) {
            assertThat(other.defaultSearchPath()).contains(List.of("evil", "public"));
            // Warden's own queries are unaffected: pg_catalog first, whatever the role says.
            assertThat(other.columns("public.customers")).contains(List.of("id", "name", "email", "ssn"));
        } finally {
            admin("postgres", "ALTER ROLE app IN DATABASE shop RESET search_path");
        }
    }

    @Test
    void searchPathSettingsParseAsPostgresFoldsThem() {
        assertThat(SearchPath.parse("\"$user\", public")).containsExactly("$user", "public");
        assertThat(SearchPath.parse("  Evil ,\"Mixed\"\"Q\",pg_catalog")).containsExactly("evil", "Mixed\"Q", "pg_catalog");
        assertThat(SearchPath.parse("")).isEmpty();
        assertThat(SearchPath.render(List.of("$user", "a\"b"))).isEqualTo("\"$user\", \"a\"\"b\"");
        // SET search_path = '' stores "" (checked on PostgreSQL 15: accepted, and current_schemas is just pg_catalog).
        assertThat(SearchPath.parse("\"\"")).containsExactly("");
        for (String bad : List.of("a,", ",a", "\"unterminated", "a b")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> SearchPath.parse(bad))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    // ----- functions -----

    @Test
    void volatilityOfBuiltInsComesFromTheCatalog() {
        FunctionInfo now = only(catalog.functions(DEFAULT, null, "now", 0));
        assertThat(now).isEqualTo(new FunctionInfo("pg_catalog", "now", 's', false, "internal", true));
        FunctionInfo random = only(catalog.functions(DEFAULT, null, "random", 0));
        assertThat(random.volatility()).isEqualTo('v');
        assertThat(random.builtIn()).isTrue();
        assertThat(catalog.functions(DEFAULT, null, "upper", 1)).allSatisfy(f -> {
            assertThat(f.builtIn()).isTrue();
            assertThat(f.volatility()).isEqualTo('i');
        });
        // Aggregates are functions too.
        assertThat(catalog.functions(DEFAULT, null, "percentile_cont", 1)).isNotEmpty().allMatch(FunctionInfo::builtIn);
        // Arity matters: no lower() takes three arguments; a default or VARIADIC widens it.
        assertThat(catalog.functions(DEFAULT, null, "lower", 3)).isEmpty();
        assertThat(catalog.functions(DEFAULT, null, "concat", 7)).isNotEmpty();
        assertThat(catalog.functions(DEFAULT, null, "no_such_function", 0)).isEmpty();
    }

    @Test
    void extensionFunctionsInPgCatalogAreNotBuiltIns() {
        // plpgsql is created by initdb with a low OID in pg_catalog, but an extension owns it.
        FunctionInfo handler = only(catalog.functions(DEFAULT, "pg_catalog", "plpgsql_call_handler", 0));
        assertThat(handler.builtIn()).isFalse();
    }

    @Test
    void aUserFunctionShadowsABuiltInThroughTheSearchPath() {
        // Default path: pg_catalog.lower(text) hides public.lower(text), which has the same argument types.
        assertThat(catalog.functions(DEFAULT, null, "lower", 1)).allMatch(FunctionInfo::builtIn)
                .extracting(FunctionInfo::schema).containsOnly("pg_catalog");
        // Implicit pg_catalog first: evil.lower(text) is hidden too.
        assertThat(catalog.functions(List.of("evil"), null, "lower", 1)).allMatch(FunctionInfo::builtIn);
        // A path that names pg_catalog after evil lets evil.lower(text) win.
        List<FunctionInfo> shadowed = catalog.functions(List.of("evil", "pg_catalog"), null, "lower", 1);
        assertThat(shadowed.getFirst()).isEqualTo(new FunctionInfo("evil", "lower", 'v', false, "plpgsql", false));
        // pg_catalog.lower(text) is hidden by evil.lower(text); the range overloads remain candidates.
        assertThat(shadowed.subList(1, shadowed.size())).isNotEmpty().allMatch(f -> f.schema().equals("pg_catalog"));
        // Qualified calls go to that schema only.
        assertThat(catalog.functions(DEFAULT, "public", "lower", 1))
                .containsExactly(new FunctionInfo("public", "lower", 'v', false, "sql", false));
    }

    @Test
    void operatorsAreProvenPureOnlyWhenPostgresOrAnExtensionMadeThem() {
        CatalogSnapshot snap = catalog.snapshot().orElseThrow();
        assertThat(snap.operatorCandidates(DEFAULT, null, "=")).hasSizeGreaterThan(50).allMatch(CatalogSnapshot.Operator::provenPure);
        assertThat(snap.operatorCandidates(DEFAULT, null, "===")).singleElement()
                .satisfies(o -> assertThat(o.provenPure()).isFalse());
        assertThat(snap.operatorCandidates(DEFAULT, "pg_catalog", "===")).isEmpty();
        assertThat(snap.operatorCandidates(List.of("evil"), null, "===")).isEmpty();
        assertThat(catalog.builtInOperator(DEFAULT, null, "=")).isTrue();
        assertThat(catalog.builtInOperator(DEFAULT, null, "===")).isFalse();
        assertThat(catalog.builtInOperator(List.of("evil"), null, "===")).isFalse(); // no such operator there
        assertThat(catalog.builtInOperator(DEFAULT, "pg_catalog", "+")).isTrue();
    }

    @Test
    void aSecurityDefinerWriterIsNotProvenPure() {
        FunctionInfo bump = only(catalog.functions(DEFAULT, null, "bump", 0));
        assertThat(bump).isEqualTo(new FunctionInfo("public", "bump", 'v', true, "sql", false));
    }

    // ----- tags -----

    @Test
    void tagsApplyToTheColumnsAStatementTouches() {
        assertThat(enrich("SELECT id, name FROM customers", read("public.customers", "id", "name")).tags()).isEmpty();
        assertThat(enrich("SELECT email FROM customers", read("public.customers", "email")).tags()).containsExactly("pii");
        assertThat(enrich("SELECT * FROM customers", read("public.customers", "*")).tags()).containsExactly("pii");
        // No columns listed (a DELETE removes whole rows): every column counts.
        Classification del = enrich("DELETE FROM customers WHERE id = 1",
                stmt(Kind.WRITE, "DELETE FROM customers WHERE id = 1", "DELETE", new ObjectAccess("public.customers", Access.WRITE, List.of())));
        assertThat(del.tags()).containsExactly("pii");
        Classification two = enrich("SELECT a.password, c.name FROM accounts a, customers c",
                stmt(Kind.READ, "", "SELECT", new ObjectAccess("public.accounts", Access.READ, List.of("password")),
                        new ObjectAccess("public.customers", Access.READ, List.of("name"))));
        assertThat(two.tags()).containsExactly("secret");
        // A relation the catalog does not know cannot be tagged, and the enrichment says so.
        Classification unknown = enrich("SELECT * FROM nosuch", read("public.nosuch", "*"));
        assertThat(unknown.enrichment()).contains("columns not known for tags: public.nosuch");
    }

    // ----- row estimates -----

    @Test
    void selectDeleteAndUpdateGetThePlannersEstimate() throws SQLException {
        Classification sel = enrich("SELECT * FROM public.customers WHERE id <= 100", read("public.customers", "*"));
        assertThat(sel.estimatedRows()).isBetween(50L, 200L);
        assertThat(sel.enrichment()).isEqualTo("catalog");
        Classification all = enrich("SELECT * FROM public.customers;  ", read("public.customers", "*"));
        assertThat(all.estimatedRows()).isBetween(9000L, 11000L);

        String delete = "DELETE FROM public.customers WHERE id <= 5000";
        Classification del = enrich(delete, write("DELETE", delete, "public.customers"));
        assertThat(del.estimatedRows()).isBetween(4000L, 6000L);
        String update = "UPDATE public.customers SET name = 'gone' WHERE id > 9000";
        Classification upd = enrich(update, write("UPDATE", update, "public.customers"));
        assertThat(upd.estimatedRows()).isBetween(500L, 1500L);
        // Planned, never run.
        assertThat(one("SELECT count(*) FROM public.customers")).isEqualTo("10000");
        assertThat(one("SELECT count(*) FROM public.customers WHERE name = 'gone'")).isEqualTo("0");
    }

    @Test
    void estimatesUseTheBoundParameters() throws SQLException {
        String delete = "DELETE FROM public.customers WHERE id <= $1";
        Classification c = write("DELETE", delete, "public.customers");
        assertThat(catalog.enrich(op(delete, "250"), c, ClassifyContext.defaults()).estimatedRows()).isBetween(150L, 400L);
        assertThat(catalog.enrich(op(delete, "8000"), c, ClassifyContext.defaults()).estimatedRows()).isBetween(7000L, 9000L);
        String select = "SELECT * FROM public.customers WHERE name = $1 OR email = $2";
        assertThat(catalog.enrich(op(select, "n1", "it's@example.com"), read("public.customers", "*"), ClassifyContext.defaults())
                .estimatedRows()).isBetween(1L, 10L);
        // NULL parameters are NULL.
        assertThat(catalog.enrich(op(select, null, null), read("public.customers", "*"), ClassifyContext.defaults())
                .estimatedRows()).isBetween(0L, 2L);
        // The prepared statement is gone afterwards, so the next one can use the name again.
        assertThat(catalog.enrich(op(delete, "10"), c, ClassifyContext.defaults()).estimatedRows()).isBetween(1L, 50L);
        // Parameters the text uses but the operation does not bind: no estimate.
        Classification none = enrich(delete, c);
        assertThat(none.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        assertThat(none.enrichment()).contains("no row estimate");
        assertThat(one("SELECT count(*) FROM public.customers")).isEqualTo("10000");
    }

    @Test
    void parameterValuesCannotEscapeTheirLiteral() throws SQLException {
        for (String v : List.of("it's", "a\\'b", "x\\", "'); DELETE FROM public.customers; --", "\u00e9\ud83d\ude00;$$", "")) {
            assertThat(one("SELECT " + RowEstimate.literal(v))).isEqualTo(v);
        }
        String select = "SELECT * FROM public.customers WHERE name = $1 AND email <> $2";
        Classification c = catalog.enrich(op(select, "x\\", "'), (SELECT public.bump()) --"), read("public.customers", "*"),
                ClassifyContext.defaults());
        assertThat(c.estimatedRows()).as(c.enrichment()).isBetween(0L, 5L);
        assertThat(one("SELECT n FROM public.counters")).isEqualTo("0");
        assertThat(one("SELECT count(*) FROM public.customers")).isEqualTo("10000");
    }

    @Test
    void estimatesResolveNamesThroughTheSessionsSearchPath() {
        // app.customers (through "$user") is empty; public.customers holds 10,000 rows.
        Classification c = read("public.customers", "*");
        long viaPublic = catalog.enrich(op("SELECT * FROM customers"), c, new ClassifyContext(List.of("public"), Map.of())).estimatedRows();
        assertThat(viaPublic).isBetween(9000L, 11000L);
        long viaUser = catalog.enrich(op("SELECT * FROM customers WHERE x = 1"), read("app.customers", "x"), ClassifyContext.defaults()).estimatedRows();
        assertThat(viaUser).isBetween(0L, 100L);
    }

    @Test
    void noEstimateUnlessEveryFunctionIsProvenPure() throws SQLException {
        String text = "SELECT bump() FROM public.customers";
        Statement s = new Statement(Kind.UNKNOWN, text, "SELECT", List.of(ObjectAccess.of("public.customers", Access.READ)),
                List.of("public.bump"), Set.of(), List.of("public.bump is not proven pure"), List.of("public.bump"), Kind.READ);
        Classification c = catalog.enrich(op(text), Classification.of(List.of(s)), ClassifyContext.defaults());
        assertThat(c.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        assertThat(c.enrichment()).contains("no row estimate").contains("unknown");
        // Even with a kind of read, an unproven function blocks the estimate.
        Statement s2 = new Statement(Kind.READ, text, "SELECT", List.of(ObjectAccess.of("public.customers", Access.READ)),
                List.of("public.bump"), Set.of(), List.of(), List.of("public.bump"), Kind.READ);
        Classification c2 = catalog.enrich(op(text), Classification.of(List.of(s2)), ClassifyContext.defaults());
        assertThat(c2.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        assertThat(c2.enrichment()).contains("not proven pure: public.bump");
        assertThat(one("SELECT n FROM public.counters")).isEqualTo("0");
    }

    @Test
    void noEstimateForViewsThatExpandIntoUserCode() throws SQLException {
        for (String view : List.of("public.shouting", "public.over_shouting", "public.op_view")) {
            Classification c = enrich("SELECT * FROM " + view, read(view, "*"));
            assertThat(c.estimatedRows()).as(view).isEqualTo(Classification.NO_ESTIMATE);
            assertThat(c.enrichment()).contains(view + " expands into user code");
        }
        assertThat(one("SELECT count(*) FROM public.audit")).isEqualTo("0");
        // A default that calls user code blocks estimates of writes, not of reads.
        String upd = "UPDATE public.stamped SET s = DEFAULT";
        Classification w = enrich(upd, write("UPDATE", upd, "public.stamped"));
        assertThat(w.enrichment()).contains("writing public.stamped runs user code");
        assertThat(enrich("SELECT * FROM public.stamped", read("public.stamped", "*")).estimatedRows()).isNotNegative();
        // A view over built-ins only is estimated.
        assertThat(enrich("SELECT * FROM public.plain", read("public.plain", "*")).estimatedRows()).isBetween(9000L, 11000L);
    }

    @Test
    void noEstimateForSeveralStatementsOrOtherKinds() {
        String two = "SELECT 1 FROM public.customers; DELETE FROM public.customers";
        Classification multi = Classification.of(List.of(
                new Statement(Kind.READ, "SELECT 1 FROM public.customers", "SELECT", List.of(), List.of(), Set.of(), List.of()),
                new Statement(Kind.WRITE, "DELETE FROM public.customers", "DELETE", List.of(), List.of(), Set.of(), List.of())));
        assertThat(catalog.enrich(op(two), multi, ClassifyContext.defaults()).enrichment()).contains("holds 2 statements");
        // A ';' inside the statement (here in a literal) is refused rather than trusted to the driver's lexer.
        String semi = "SELECT * FROM public.customers WHERE name = 'a;b'";
        Classification c = enrich(semi, read("public.customers", "*"));
        assertThat(c.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        assertThat(c.enrichment()).contains("';'");
        Classification ddl = enrich("DROP TABLE public.audit", stmt(Kind.DDL, "DROP TABLE public.audit", "DROP TABLE",
                ObjectAccess.of("public.audit", Access.DDL)));
        assertThat(ddl.enrichment()).contains("no row estimate: the statement is ddl");
    }

    @Test
    void aStatementTheServerRejectsHasNoEstimate() {
        Classification c = enrich("SELECT nosuch FROM public.customers", read("public.customers", "nosuch"));
        assertThat(c.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
        assertThat(c.enrichment()).contains("no row estimate").contains("nosuch");
        // The connection is still usable afterwards.
        assertThat(enrich("SELECT * FROM public.customers", read("public.customers", "*")).estimatedRows()).isPositive();
    }

    // ----- invalidation -----

    @Test
    void invalidateAfterDdlReadsTheCatalogAgainAndBumpsTheGeneration() throws SQLException {
        AtomicInteger told = new AtomicInteger();
        catalog.onChange(told::incrementAndGet);
        long before = catalog.generation();
        app("CREATE TABLE public.fresh (a int, b text)");
        assertThat(catalog.columns("public.fresh")).as("cached until told").isEmpty();
        assertThat(catalog.generation()).isEqualTo(before);
        catalog.invalidate();
        assertThat(catalog.columns("public.fresh")).contains(List.of("a", "b"));
        long after = catalog.generation();
        assertThat(after).isGreaterThan(before);
        assertThat(told.get()).isEqualTo(1);
        // Reading again without a change keeps the generation.
        catalog.invalidate();
        assertThat(catalog.generation()).isEqualTo(after);
        app("ALTER TABLE public.fresh ADD COLUMN c int; CREATE FUNCTION public.fresh_fn() RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 1'");
        catalog.invalidate();
        assertThat(catalog.columns("public.fresh")).contains(List.of("a", "b", "c"));
        assertThat(only(catalog.functions(DEFAULT, null, "fresh_fn", 0)).volatility()).isEqualTo('i');
        assertThat(catalog.generation()).isGreaterThan(after);
        app("DROP TABLE public.fresh; DROP FUNCTION public.fresh_fn()");
        catalog.invalidate();
        assertThat(catalog.columns("public.fresh")).isEmpty();
    }

    @Test
    void theTimerReadsTheCatalogAgain() throws Exception {
        var fast = new PostgresCatalog.Options(Duration.ofMillis(200), Duration.ofMillis(100), Duration.ofSeconds(2),
                Duration.ofSeconds(5), Duration.ofMillis(200));
        try (PostgresCatalog timed = new PostgresCatalog(config("shop"), Map.of(), BuiltinCatalog.INSTANCE, fast)) {
            assertThat(timed.refresh()).isTrue();
            app("CREATE TABLE public.timed (t int)");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (timed.snapshot().flatMap(s -> s.relation("public.timed")).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(timed.snapshot().orElseThrow().relation("public.timed")).isPresent();
        } finally {
            app("DROP TABLE public.timed");
        }
    }

    @Test
    void anUnreachableDatabaseLeavesTheClassificationUnchangedWithANote() {
        var cfg = new DatabaseConfig("gone", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("localhost", pg.getPort(), "no_such_database", "app", new Secret("")), Duration.ofSeconds(30));
        try (PostgresCatalog gone = new PostgresCatalog(cfg, TAGS, BuiltinCatalog.INSTANCE, SLOW)) {
            assertThat(gone.refresh()).isFalse();
            assertThat(gone.live()).isFalse();
            Classification c = read("public.customers", "*");
            Classification e = gone.enrich(op("SELECT * FROM public.customers"), c, ClassifyContext.defaults());
            assertThat(e.statements()).isEqualTo(c.statements());
            assertThat(e.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
            assertThat(e.enrichment()).startsWith("catalog unavailable").contains("no_such_database");
            // Names fall back to the offline table of built-ins.
            assertThat(gone.relation(List.of("public"), null, "t")).contains("public.t");
            assertThat(gone.functions(DEFAULT, null, "now", 0)).extracting(FunctionInfo::qualifiedName).containsExactly("pg_catalog.now");
            assertThat(gone.functions(DEFAULT, null, "bump", 0)).isEmpty();
            assertThat(gone.builtInOperator(DEFAULT, null, "=")).isTrue();
        }
    }

    // ----- helpers -----

    static FunctionInfo only(List<FunctionInfo> fs) {
        assertThat(fs).hasSize(1);
        return fs.getFirst();
    }

    static Operation op(String text, String... params) {
        List<String> p = params == null ? new ArrayList<>(Arrays.asList((String) null)) : Arrays.asList(params);
        return new Operation("agent", "shop", "postgres", text, p, "", "s1", "127.0.0.1", null);
    }

    static Classification enrich(String text, Classification c) {
        return catalog.enrich(op(text), c, ClassifyContext.defaults());
    }

    static Classification read(String relation, String... columns) {
        return stmt(Kind.READ, "", "SELECT", new ObjectAccess(relation, Access.READ, List.of(columns)));
    }

    static Classification write(String command, String text, String relation) {
        return stmt(Kind.WRITE, text, command, new ObjectAccess(relation, Access.WRITE, List.of()));
    }

    static Classification stmt(Kind kind, String text, String command, ObjectAccess... objects) {
        return Classification.of(List.of(new Statement(kind, text, command, List.of(objects), List.of(), Set.of(), List.of())));
    }
}
