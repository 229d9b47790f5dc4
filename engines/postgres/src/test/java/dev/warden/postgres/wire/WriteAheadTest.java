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
        LedgerConfig d = LedgerConfig.DEFAULTS;
        // A long fsync interval: the ledger's writer does not write staged decisions on its own during the test.
        FileLedger ledger = FileLedger.open(dir, new LedgerConfig(d.syncAll(), d.segmentSize(), d.checkpointInterval(),
                Duration.ofSeconds(30), d.signingKey(), d.origin(), d.witnesses(), d.redactLiterals()));
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

                // The disk fails: the next decision is staged, but cannot be written ahead.
                var f = FileLedger.class.getDeclaredField("segment");
                f.setAccessible(true);
                ((java.nio.channels.FileChannel) f.get(ledger)).close();
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
}
