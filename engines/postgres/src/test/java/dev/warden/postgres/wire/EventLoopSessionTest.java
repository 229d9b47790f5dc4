package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.TlsConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sessions served from the event loops, plaintext and TLS: many at once, big answers, the idle timeout. */
class EventLoopSessionTest {
    private static final String POLICY = """
            rules:
              - name: reads
                match: {kind: [read]}
                action: allow
            """;
    private static ProxyFixture fx;
    private static PgFrontEnd fe;
    /** Its own listener with a 2 s idle timeout: on a loaded machine a big answer alone can take that long to read. */
    private static PgFrontEnd shortIdle;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        DatabaseConfig db = Listeners.db(fx, "loop", listener(Duration.ofHours(1)));
        DatabaseConfig idle = Listeners.db(fx, "loop_idle", listener(Duration.ofSeconds(2)));
        Listeners listeners = new Listeners(fx, POLICY, List.of(db, idle));
        fe = listeners.start(db);
        shortIdle = listeners.start(idle);
    }

    private static ListenerConfig listener(Duration idleTimeout) {
        return new ListenerConfig(new TlsConfig(TlsConfig.Mode.OPTIONAL, null, null), 1 << 20, Duration.ofSeconds(5),
                idleTimeout, 100);
    }

    @AfterAll
    static void stop() {
        fe.close();
        shortIdle.close();
    }

    /** {@code extra} starts with the sslmode: {@code sslmode=disable} or {@code sslmode=require}. */
    private static Connection connect(String extra) throws SQLException {
        return connect(fe, "loop", extra);
    }

    private static Connection connect(PgFrontEnd to, String database, String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + to.port() + "/" + database
                + "?assumeMinServerVersion=9.0&" + extra, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    private static long scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void manySessionsInterleaveWithoutMixingTheirAnswers() throws Exception {
        int sessions = 40;
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                int id = i;
                done.add(pool.submit(() -> {
                    // Simple and extended protocol, plaintext and TLS, all sharing the loops.
                    String tls = id % 4 < 2 ? "sslmode=disable" : "sslmode=require";
                    try (Connection c = connect(tls + (id % 2 == 0 ? "&preferQueryMode=simple" : ""))) {
                        for (int q = 0; q < 50; q++) {
                            long want = id * 1000L + q;
                            assertThat(scalar(c, "SELECT " + want + " + count(*) - 100 FROM users")).isEqualTo(want);
                        }
                        return 50;
                    }
                }));
            }
            for (Future<Integer> f : done) assertThat(f.get()).isEqualTo(50);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anAnswerLargerThanTheSocketBuffersArrivesWhole() throws Exception {
        bigAnswer("sslmode=disable");
    }

    @Test
    void anAnswerLargerThanTheSocketBuffersArrivesWholeOverTls() throws Exception {
        bigAnswer("sslmode=require");
    }

    private static void bigAnswer(String tls) throws Exception {
        // About 24 MB: far more than the loopback socket buffers hold, so the loop must wait for the client to read.
        try (Connection big = connect(tls); Connection other = connect(tls);
             Statement s = big.createStatement();
             ResultSet rs = s.executeQuery("SELECT g, repeat('x', 1200) FROM generate_series(1, 20000) g")) {
            long rows = 0;
            long sum = 0;
            while (rs.next()) {
                rows++;
                sum += rs.getLong(1);
                assertThat(rs.getString(2)).hasSize(1200);
                if (rows == 10) assertThat(scalar(other, "SELECT count(*) FROM users")).isEqualTo(100);
            }
            assertThat(rows).isEqualTo(20000);
            assertThat(sum).isEqualTo(20000L * 20001 / 2);
            // And a big text the other way, through TLS records the loop reassembles.
            String text = "x".repeat(800_000); // under the listener's 1 MiB message limit
            try (java.sql.PreparedStatement p = big.prepareStatement("SELECT length(?)")) {
                p.setString(1, text);
                try (ResultSet r = p.executeQuery()) {
                    r.next();
                    assertThat(r.getLong(1)).isEqualTo(text.length());
                }
            }
        }
    }

    @Test
    void aTls12RenegotiationEndsThatSessionOnly() throws Exception {
        javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLSv1.2");
        ctx.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}
            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}
            public java.security.cert.X509Certificate[] getAcceptedIssuers() { return new java.security.cert.X509Certificate[0]; }
        }}, null);
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", fe.port())) {
            raw.setSoTimeout(5000);
            raw.getOutputStream().write(new byte[] {0, 0, 0, 8, 4, (byte) 0xd2, 0x16, 0x2f}); // SSLRequest
            assertThat(raw.getInputStream().read()).isEqualTo('S');
            javax.net.ssl.SSLSocket tls = (javax.net.ssl.SSLSocket) ctx.getSocketFactory().createSocket(raw, "127.0.0.1", fe.port(), true);
            tls.setEnabledProtocols(new String[] {"TLSv1.2"});
            tls.startHandshake();
            // A second handshake on the established connection: Warden refuses it and closes this connection.
            assertThatThrownBy(() -> {
                tls.startHandshake();
                tls.getOutputStream().write(new byte[] {0, 0, 0, 8, 0, 3, 0, 0});
                tls.getOutputStream().flush();
                if (tls.getInputStream().read() < 0) throw new java.io.EOFException("closed");
            }).isInstanceOf(java.io.IOException.class);
        }
        try (Connection c = connect("sslmode=require")) {
            assertThat(scalar(c, "SELECT 7")).isEqualTo(7);
        }
    }

    @Test
    void anIdleSessionIsClosedAfterTheIdleTimeoutAndABusyOneIsNot() throws Exception {
        try (Connection idle = connect(shortIdle, "loop_idle", "sslmode=require");
             Connection busy = connect(shortIdle, "loop_idle", "sslmode=disable")) {
            assertThat(scalar(idle, "SELECT 1")).isEqualTo(1);
            long until = System.nanoTime() + Duration.ofMillis(4500).toNanos();
            while (System.nanoTime() < until) {
                assertThat(scalar(busy, "SELECT 2")).isEqualTo(2);
                Thread.sleep(300);
            }
            assertThatThrownBy(() -> scalar(idle, "SELECT 1")).isInstanceOf(SQLException.class);
            assertThat(scalar(busy, "SELECT 3")).isEqualTo(3);
        }
    }
}
