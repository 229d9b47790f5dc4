package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.LedgerConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.ledger.FileLedger;
import dev.warden.core.ledger.LedgerDir;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write-ahead rule on the event loops, where a decision is only staged and one ledger write covers every session
 * of a pass: the decision is in the ledger's file before its statement leaves, and a decision that cannot be written
 * ends the session without its statement reaching the database. What Warden sends upstream is watched on the wire,
 * through a plain TCP relay in front of the real server.
 */
class WriteAheadTest {
    @TempDir
    Path dir;

    /** Copies bytes both ways between Warden and PostgreSQL, keeping what Warden sent. */
    private static final class Tap implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();

        Tap(int upstreamPort) throws IOException {
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket in = server.accept();
                        Socket out = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                        Thread.ofVirtual().start(() -> copy(in, out, true));
                        Thread.ofVirtual().start(() -> copy(out, in, false));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        private void copy(Socket from, Socket to, boolean keep) {
            byte[] b = new byte[8192];
            try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
                int n;
                while ((n = i.read(b)) > 0) {
                    if (keep) {
                        synchronized (sent) {
                            sent.write(b, 0, n);
                        }
                    }
                    o.write(b, 0, n);
                }
            } catch (IOException e) {
                // one side closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }

        String sent() {
            synchronized (sent) {
                return sent.toString(StandardCharsets.ISO_8859_1);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    private static final String POLICY = Listeners.READS_AND_SETTINGS + """
              - name: items
                match: {kind: [write], objects: ["public.wa_items"]}
                action: allow
            """;

    private static FileLedger ledger(Path dir) throws Exception {
        LedgerConfig d = LedgerConfig.DEFAULTS;
        // A long fsync interval: the ledger's writer does not write staged decisions on its own during the test.
        return FileLedger.open(dir, new LedgerConfig(d.syncAll(), d.segmentSize(), d.checkpointInterval(),
                Duration.ofSeconds(30), d.signingKey(), d.origin(), d.witnesses(), d.redactLiterals()));
    }

    /** The disk fails: what is staged from now on cannot be written. */
    private static void breakDisk(FileLedger ledger) throws Exception {
        var f = FileLedger.class.getDeclaredField("segment");
        f.setAccessible(true);
        ((java.nio.channels.FileChannel) f.get(ledger)).close();
    }

    /** Creates a table the upstream role may write: {@code definition} is its name and columns. */
    private static void table(ProxyFixture fx, String definition) throws Exception {
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + definition);
            s.execute("GRANT ALL ON " + definition.substring(0, definition.indexOf(' ')) + " TO " + ProxyFixture.UP_USER);
        }
    }

    private static String probe(Connection c, String marker) throws SQLException {
        // Same shape whatever the marker: after the first, the classification is cached and the loop judges it.
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT '" + marker + "' AS probe")) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void aDecisionThatCannotBeWrittenAheadEndsTheSessionAndItsStatementNeverLeaves() throws Exception {
        ProxyFixture fx = ProxyFixture.get();
        FileLedger ledger = ledger(dir);
        try (Tap tap = new Tap(fx.pg.getPort())) {
            DatabaseConfig db = Listeners.db("wa", tap.server.getLocalPort(), ListenerConfig.DEFAULTS);
            PgFrontEnd fe = new Listeners(fx, Listeners.READS_AND_SETTINGS, List.of(db), ledger).start(db);
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port()
                    + "/wa?preferQueryMode=simple", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                assertThat(probe(c, "wa-one")).isEqualTo("wa-one");
                assertThat(probe(c, "wa-two")).isEqualTo("wa-two");
                // Each statement that ran has its decision in the file.
                String file = Files.readString(LedgerDir.of(dir).segment(0));
                assertThat(file).contains("wa-one").contains("wa-two");
                assertThat(tap.sent()).contains("wa-two");

                // The next decision is staged, but cannot be written ahead.
                breakDisk(ledger);
                assertThatThrownBy(() -> probe(c, "wa-three")).isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"))
                        .hasMessageContaining("audit ledger");
                assertThat(c.isValid(2)).isFalse();
            } finally {
                fe.close();
            }
            assertThat(tap.sent()).doesNotContain("wa-three");
            assertThat(ledger.healthy()).isFalse();
        } finally {
            ledger.close();
        }
    }

    @Test
    void aWriteRunsOnceItsDecisionIsDurableAndNotAtAllWhenItCannotBe() throws Exception {
        ProxyFixture fx = ProxyFixture.get();
        table(fx, "wa_items (x text)");
        FileLedger ledger = ledger(dir);
        try (Tap tap = new Tap(fx.pg.getPort())) {
            DatabaseConfig db = Listeners.db("wa", tap.server.getLocalPort(), ListenerConfig.DEFAULTS);
            PgFrontEnd fe = new Listeners(fx, POLICY, List.of(db), ledger).start(db);
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port() + "/wa",
                    ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
                 var insert = c.prepareStatement("INSERT INTO wa_items VALUES (?)")) {
                // The first is classified on a thread of its own; the others are judged on the loop, which holds
                // each until the ledger's fsync of its decision calls back (the fsync interval alone would take 30 s).
                long fsyncs = ledger.fsyncs();
                for (String x : List.of("wa-a", "wa-b", "wa-c")) {
                    insert.setString(1, x);
                    assertThat(insert.executeUpdate()).isEqualTo(1);
                }
                assertThat(ledger.fsyncs() - fsyncs).isGreaterThanOrEqualTo(3);
                // A batch arrives as one pipeline: its decisions are staged together and one fsync covers many.
                fsyncs = ledger.fsyncs();
                for (int i = 0; i < 200; i++) {
                    insert.setString(1, "wa-batch-" + i);
                    insert.addBatch();
                }
                assertThat(insert.executeBatch()).hasSize(200).containsOnly(1);
                assertThat(ledger.fsyncs() - fsyncs).isLessThan(50);
                assertThat(Files.readString(LedgerDir.of(dir).segment(0))).contains("wa-c");
                breakDisk(ledger);
                insert.setString(1, "wa-d");
                assertThatThrownBy(insert::executeUpdate).isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
            } finally {
                fe.close();
            }
            assertThat(fx.directCount("SELECT count(*) FROM wa_items WHERE x IN ('wa-a', 'wa-b', 'wa-c')")).isEqualTo(3);
            assertThat(fx.directCount("SELECT count(*) FROM wa_items WHERE x = 'wa-d'")).isZero();
            assertThat(fx.directCount("SELECT count(*) FROM wa_items WHERE x LIKE 'wa-batch-%'")).isEqualTo(200);
            assertThat(tap.sent()).doesNotContain("wa-d");
        } finally {
            ledger.close();
        }
    }

    /**
     * Many sessions at once on the loops, with the real ledger: reads staged and written in shared writes, writes
     * held for shared fsyncs. Every statement runs, every decision is in the ledger before it, and the log verifies.
     */
    @Test
    void manySessionsMixingReadsAndWritesAllRunAndTheLedgerVerifies() throws Exception {
        ProxyFixture fx = ProxyFixture.get();
        table(fx, "wa_mixed (session int, i int)");
        String policy = Listeners.READS_AND_SETTINGS + """
                  - name: mixed
                    match: {kind: [write], objects: ["public.wa_mixed"]}
                    action: allow
                """;
        FileLedger ledger = FileLedger.open(dir, LedgerConfig.DEFAULTS);
        DatabaseConfig db = Listeners.db(fx, "wa", ListenerConfig.DEFAULTS);
        PgFrontEnd fe = new Listeners(fx, policy, List.of(db), ledger).start(db);
        int sessions = 16;
        int rounds = 40;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(sessions);
        try {
            List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int n = 0; n < sessions; n++) {
                int id = n;
                done.add(pool.submit(() -> {
                    String mode = id % 2 == 0 ? "" : "?preferQueryMode=simple";
                    try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port() + "/wa" + mode,
                            ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
                         var insert = c.prepareStatement("INSERT INTO wa_mixed VALUES (?, ?)");
                         var count = c.prepareStatement("SELECT count(*) FROM wa_mixed WHERE session = ?")) {
                        for (int i = 0; i < rounds; i++) {
                            insert.setInt(1, id);
                            insert.setInt(2, i);
                            assertThat(insert.executeUpdate()).isEqualTo(1);
                            count.setInt(1, id);
                            try (ResultSet rs = count.executeQuery()) {
                                rs.next();
                                // This session's own writes, all of them, in order.
                                assertThat(rs.getInt(1)).isEqualTo(i + 1);
                            }
                        }
                    }
                    return null;
                }));
            }
            for (var f : done) f.get(120, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
            fe.close();
            ledger.close();
        }
        assertThat(fx.directCount("SELECT count(*) FROM wa_mixed")).isEqualTo((long) sessions * rounds);
        var report = dev.warden.core.ledger.LedgerVerifier.verify(dir, dev.warden.core.ledger.LedgerVerifier.Options.none());
        assertThat(report.ok()).as(report.summary()).isTrue();
        String log = Files.readString(LedgerDir.of(dir).segment(0));
        long decisions = log.lines().filter(l -> l.contains("\"type\":\"decision\"") && l.contains("wa_mixed")).count();
        assertThat(decisions).isGreaterThanOrEqualTo(2L * sessions * rounds);
    }
}
