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
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The catalog connection drops: the server restarts, or the database is dropped and re-created under Warden. */
class CatalogReconnectTest {
    static final PostgresCatalog.Options SLOW = new PostgresCatalog.Options(Duration.ofHours(1), Duration.ofHours(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(100));
    static final PostgresCatalog.Options WATCHFUL = new PostgresCatalog.Options(Duration.ofHours(1), Duration.ofMillis(100),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMillis(100));

    @TempDir
    Path tmp;

    @Test
    void aDatabaseDroppedAndRecreatedIsReadAfresh() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            recreate(pg, "CREATE TABLE old_t (a int)");
            DatabaseConfig cfg = config(pg.getPort());
            try (PostgresCatalog watchful = new PostgresCatalog(cfg, Map.of(), BuiltinCatalog.INSTANCE, WATCHFUL);
                 PostgresCatalog slow = new PostgresCatalog(cfg, Map.of(), BuiltinCatalog.INSTANCE, SLOW)) {
                assertThat(watchful.refresh()).isTrue();
                assertThat(slow.refresh()).isTrue();
                AtomicInteger told = new AtomicInteger();
                watchful.onChange(told::incrementAndGet);
                long oid = watchful.snapshot().orElseThrow().databaseOid();
                long gen = watchful.generation();
                long slowGen = slow.generation();
                assertThat(watchful.columns("public.old_t")).contains(List.of("a"));

                recreate(pg, "CREATE TABLE new_t (b int); INSERT INTO new_t SELECT generate_series(1, 1000); ANALYZE new_t");

                // The timer notices the lost connection, forgets everything and reads the new database.
                await(() -> watchful.snapshot().map(s -> s.relation("public.new_t").isPresent()).orElse(false));
                assertThat(watchful.columns("public.old_t")).isEmpty();
                assertThat(watchful.snapshot().orElseThrow().databaseOid()).isNotEqualTo(oid);
                assertThat(watchful.generation()).isGreaterThan(gen);
                assertThat(told.get()).isPositive();

                // Without a timer, the next use notices: an estimate on the dead connection reconnects and retries.
                Classification c = Classification.of(List.of(new Statement(Kind.READ, "", "SELECT",
                        List.of(new ObjectAccess("public.new_t", Access.READ, List.of("b"))), List.of(), Set.of(), List.of())));
                Classification e = slow.enrich(op("SELECT b FROM public.new_t"), c, ClassifyContext.defaults());
                assertThat(e.estimatedRows()).as(e.enrichment()).isBetween(900L, 1100L);
                assertThat(slow.columns("public.new_t")).contains(List.of("b"));
                assertThat(slow.columns("public.old_t")).isEmpty();
                assertThat(slow.generation()).isGreaterThan(slowGen);
            }
        }
    }

    @Test
    void aRestartedServerIsReconnectedAndForgotten() throws Exception {
        Path data = Files.createDirectories(tmp.resolve("data"));
        EmbeddedPostgres pg = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).start();
        int port = pg.getPort();
        PostgresCatalog catalog = null;
        try {
            recreate(pg, "CREATE TABLE before_t (a int)");
            catalog = new PostgresCatalog(config(port), Map.of(), BuiltinCatalog.INSTANCE, SLOW);
            assertThat(catalog.refresh()).isTrue();
            long gen = catalog.generation();
            AtomicInteger told = new AtomicInteger();
            catalog.onChange(told::incrementAndGet);

            pg.close();
            // While the server is down: no live catalog, the classification passes unchanged with a note.
            catalog.invalidate();
            assertThat(catalog.live()).isFalse();
            Classification c = Classification.of(List.of(new Statement(Kind.READ, "", "SELECT",
                    List.of(new ObjectAccess("public.before_t", Access.READ, List.of("a"))), List.of(), Set.of(), List.of())));
            Classification down = catalog.enrich(op("SELECT a FROM public.before_t"), c, ClassifyContext.defaults());
            assertThat(down.statements()).isEqualTo(c.statements());
            assertThat(down.estimatedRows()).isEqualTo(Classification.NO_ESTIMATE);
            assertThat(down.enrichment()).startsWith("catalog unavailable");
            assertThat(catalog.generation()).isGreaterThan(gen);
            assertThat(told.get()).isPositive();

            pg = EmbeddedPostgres.builder().setDataDirectory(data).setCleanDataDirectory(false).setPort(port).start();
            try (Connection conn = pg.getDatabase("app", "scratch").getConnection(); var st = conn.createStatement()) {
                st.execute("CREATE TABLE after_t (z int)");
            }
            final PostgresCatalog cat = catalog;
            await(cat::live);
            assertThat(cat.columns("public.before_t")).contains(List.of("a"));
            assertThat(cat.columns("public.after_t")).contains(List.of("z"));
            assertThat(cat.enrich(op("SELECT a FROM public.before_t"), c, ClassifyContext.defaults()).enrichment())
                    .isEqualTo("catalog");
        } finally {
            if (catalog != null) catalog.close();
            pg.close();
        }
    }

    static void recreate(EmbeddedPostgres pg, String schema) throws SQLException {
        try (Connection c = pg.getPostgresDatabase().getConnection(); var st = c.createStatement()) {
            st.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app') THEN CREATE ROLE app LOGIN; END IF; END $$");
            st.execute("DROP DATABASE IF EXISTS scratch WITH (FORCE)");
            st.execute("CREATE DATABASE scratch OWNER app");
        }
        try (Connection c = pg.getDatabase("app", "scratch").getConnection(); var st = c.createStatement()) {
            for (String s : schema.split(";")) st.execute(s);
        }
    }

    static DatabaseConfig config(int port) {
        return new DatabaseConfig("scratch", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("localhost", port, "scratch", "app", new Secret("")), Duration.ofSeconds(30));
    }

    static Operation op(String text) {
        return new Operation("agent", "scratch", "postgres", text, List.of(), "", "s1", "127.0.0.1", null);
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 15 s");
            Thread.sleep(50);
        }
    }
}
