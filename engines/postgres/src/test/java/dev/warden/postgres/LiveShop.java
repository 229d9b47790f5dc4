package dev.warden.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Operation;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Classifier;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.catalog.PostgresCatalog;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A real (embedded) PostgreSQL for tests that prove on the server what Warden concludes: a login role {@code app}
 * that owns a database {@code shop} holding the test's own schema, and, once {@link #openCatalog opened}, Warden's
 * live catalog of shop (connected as app, as Warden would be) with the engine's classifier over it. A test class
 * starts one in its {@code @BeforeAll} and closes it in its {@code @AfterAll}.
 */
public final class LiveShop implements AutoCloseable {
    private final EmbeddedPostgres pg;
    private PostgresCatalog catalog;
    private Classifier classifier;

    private LiveShop(EmbeddedPostgres pg) {
        this.pg = pg;
    }

    /** Starts PostgreSQL, creates the role app and its database shop, and runs the schema there as app. */
    public static LiveShop start(String schemaSql) throws Exception {
        LiveShop shop = new LiveShop(EmbeddedPostgres.builder().start());
        try {
            shop.admin("CREATE ROLE app LOGIN");
            shop.admin("CREATE DATABASE shop OWNER app");
            shop.app(schemaSql);
            return shop;
        } catch (Exception | Error e) {
            shop.close();
            throw e;
        }
    }

    /** Opens the engine's live catalog of shop as app, with these tags, and its classifier; asserts that it loaded. */
    public LiveShop openCatalog(Map<String, List<String>> tags) {
        PostgresEngine engine = new PostgresEngine();
        Catalog opened = engine.catalog(config("shop", "app"), tags);
        assertThat(opened).isInstanceOf(PostgresCatalog.class);
        catalog = (PostgresCatalog) opened;
        classifier = engine.classifier(catalog);
        assertThat(catalog.refresh()).isTrue();
        return this;
    }

    /** What Warden is configured with to reach this database as this user (no password: the server trusts local). */
    public DatabaseConfig config(String database, String user) {
        return new DatabaseConfig(database, "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("localhost", pg.getPort(), database, user, new Secret("")), Duration.ofSeconds(30));
    }

    public PostgresCatalog catalog() {
        return catalog;
    }

    public Classifier classifier() {
        return classifier;
    }

    /** The live classification of a text with the default context (search path "$user", public). */
    public Classification classify(String sql) {
        return classifier.classify(sql, ClassifyContext.defaults());
    }

    /** As the gate judges a text: the live classification, enriched by the catalog (tags, row estimates). */
    public Classification judge(String text, ClassifyContext ctx, String... params) {
        return catalog.enrich(op(text, params), classifier.classify(text, ctx), ctx);
    }

    public Classification judge(String text, String... params) {
        return judge(text, ClassifyContext.defaults(), params);
    }

    /** The operation an agent sends to shop. */
    public static Operation op(String text, String... params) {
        return new Operation("agent", "shop", "postgres", text, List.of(params), "", "s1", "127.0.0.1", null);
    }

    /** A new session as this user on this database. */
    public Connection connect(String user, String database) throws SQLException {
        return pg.getDatabase(user, database).getConnection();
    }

    /** A new session of shop as app. */
    public Connection appConnection() throws SQLException {
        return connect("app", "shop");
    }

    /** A new session of shop as the superuser postgres. */
    public Connection superuserConnection() throws SQLException {
        return connect("postgres", "shop");
    }

    /** Runs the text in shop as app. */
    public void app(String sql) throws SQLException {
        try (Connection c = appConnection(); var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Runs the text in shop as the superuser: what app may not create (operator classes, base types, extensions). */
    public void superuser(String sql) throws SQLException {
        try (Connection c = superuserConnection(); var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Runs the text as the superuser in the postgres database: roles and databases. */
    public void admin(String sql) throws SQLException {
        try (Connection c = connect("postgres", "postgres"); var st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The first value of a query run in shop as app. */
    public String value(String query) throws SQLException {
        try (Connection c = appConnection(); var st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** The first value of a query run in shop as app, as a number (a count). */
    public long longValue(String query) throws SQLException {
        try (Connection c = appConnection(); var st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * How many rows {@code count} (a {@code SELECT count(*)}) grew by while the text ran in shop as app, in one
     * transaction rolled back afterwards: what user code the server ran wrote, and nothing of it stays.
     */
    public long rowsAddedBy(String sql, String count) throws SQLException {
        try (Connection c = appConnection(); var st = c.createStatement()) {
            c.setAutoCommit(false);
            try {
                long before = count(st, count);
                st.execute(sql);
                return count(st, count) - before;
            } finally {
                c.rollback();
            }
        }
    }

    private static long count(java.sql.Statement st, String count) throws SQLException {
        try (ResultSet rs = st.executeQuery(count)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (catalog != null) catalog.close();
        } finally {
            pg.close();
        }
    }
}
