package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.AgentAuth;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.TlsConfig;
import dev.warden.core.ledger.Entry;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code agent_auth}: SCRAM-SHA-256 unless MD5 or cleartext (over TLS only) is enabled for the database. */
class AgentAuthTest {
    static ProxyFixture fx;
    static final String POLICY = Listeners.READS_AND_SETTINGS;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    static ListenerConfig listener(TlsConfig.Mode tls, AgentAuth... methods) {
        return new ListenerConfig(new TlsConfig(tls, null, null), 1 << 20, Duration.ofSeconds(5), Duration.ofMinutes(10), 10,
                List.of(methods));
    }

    static long count(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM users")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Sends a startup packet and returns the first authentication request's code (and the socket, still open). */
    static int firstAuthRequest(Socket s, String db) throws IOException {
        s.setSoTimeout(10_000);
        s.getOutputStream().write(new StartupPacket.StartupMessage(Map.of("user", ProxyFixture.AGENT, "database", db)).write());
        Frame f = new FrameReader(s.getInputStream(), 1 << 20).read();
        assertThat((char) f.type()).isEqualTo('R');
        AuthMessage.Authentication a = AuthMessage.Authentication.read(f);
        if (a.code() == AuthMessage.SASL) assertThat(new String(a.data(), StandardCharsets.UTF_8)).startsWith("SCRAM-SHA-256\0");
        return a.code();
    }

    static String md5hex(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void md5WhenEnabled() throws Exception {
        DatabaseConfig db = Listeners.db(fx, "md5only", listener(TlsConfig.Mode.OFF, AgentAuth.MD5));
        Listeners l = new Listeners(fx, POLICY, List.of(db));
        PgFrontEnd fe = l.start(db);
        String url = "jdbc:postgresql://127.0.0.1:" + fe.port() + "/md5only?sslmode=disable";
        try {
            try (Connection c = DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                assertThat(count(c)).isEqualTo(100);
            }
            try (Socket s = new Socket("127.0.0.1", fe.port())) {
                assertThat(firstAuthRequest(s, "md5only")).isEqualTo(AuthMessage.MD5);
            }
            // A wrong secret: PostgreSQL's own error, a ledger entry, and a growing delay for the next failure.
            int before = l.ledger.entries().size();
            assertThatThrownBy(() -> DriverManager.getConnection(url, ProxyFixture.AGENT, "wrong"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"))
                    .hasMessageContaining("password authentication failed for user \"agent\"");
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> DriverManager.getConnection(url, ProxyFixture.AGENT, "wrong again"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(180));
            assertThat(l.ledger.entries().subList(before, l.ledger.entries().size()))
                    .filteredOn(e -> e instanceof Entry.DecisionEntry d && d.operation().text().equals("-- authentication"))
                    .hasSize(2);
            // The right secret still works after failures (after the delay).
            try (Connection c = DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                assertThat(count(c)).isEqualTo(100);
            }
        } finally {
            fe.close();
        }
    }

    @Test
    void scramOnlyByDefaultAnMd5ClientIsRefused() throws Exception {
        assertThat(ListenerConfig.DEFAULTS.agentAuth()).containsExactly(AgentAuth.SCRAM_SHA_256);
        // The shared listener has no agent_auth: SASL is what it asks for, whatever the client would like.
        try (Socket s = new Socket("127.0.0.1", fx.port())) {
            assertThat(firstAuthRequest(s, "app")).isEqualTo(AuthMessage.SASL);
            // A client that can only answer with an MD5 password message gets no further.
            String md5 = "md5" + md5hex(md5hex(ProxyFixture.AGENT_SECRET + ProxyFixture.AGENT) + "abcd");
            PgWriter w = new PgWriter();
            new AuthMessage.ClientData((md5 + "\0").getBytes(StandardCharsets.US_ASCII)).write(w);
            s.getOutputStream().write(w.toByteArray());
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 20);
            List<Frame> got = new java.util.ArrayList<>();
            try {
                while (true) got.add(r.read());
            } catch (EOFException | java.net.SocketException closed) {
                // the session ended
            }
            assertThat(RawClient.types(got)).isEqualTo("E");
            assertThat(Notice.read(got.getFirst()).severity()).isEqualTo("FATAL");
        }
        // With both SCRAM and MD5 enabled, SCRAM (the strongest) is offered.
        DatabaseConfig both = Listeners.db(fx, "both", listener(TlsConfig.Mode.OFF, AgentAuth.MD5, AgentAuth.SCRAM_SHA_256));
        Listeners l = new Listeners(fx, POLICY, List.of(both));
        PgFrontEnd fe = l.start(both);
        try (Socket s = new Socket("127.0.0.1", fe.port())) {
            assertThat(firstAuthRequest(s, "both")).isEqualTo(AuthMessage.SASL);
        } finally {
            fe.close();
        }
    }

    @Test
    void cleartextOnlyOverTls() throws Exception {
        DatabaseConfig db = Listeners.db(fx, "clear", listener(TlsConfig.Mode.REQUIRED, AgentAuth.PASSWORD));
        Listeners l = new Listeners(fx, POLICY, List.of(db));
        PgFrontEnd fe = l.start(db);
        try {
            String url = "jdbc:postgresql://127.0.0.1:" + fe.port() + "/clear?sslmode=require";
            try (Connection c = DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                assertThat(count(c)).isEqualTo(100);
            }
            assertThatThrownBy(() -> DriverManager.getConnection(url, ProxyFixture.AGENT, "wrong"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28P01"));
            // Without TLS the listener refuses before any password is asked for.
            assertThatThrownBy(() -> DriverManager.getConnection(url.replace("require", "disable"), ProxyFixture.AGENT,
                    ProxyFixture.AGENT_SECRET)).isInstanceOf(SQLException.class).hasMessageContaining("requires TLS");
        } finally {
            fe.close();
        }
        // Should a listener sharing the address not require TLS, cleartext is still never asked for in plaintext.
        DatabaseConfig loose = Listeners.db(fx, "loose", listener(TlsConfig.Mode.OPTIONAL, AgentAuth.PASSWORD));
        Listeners l2 = new Listeners(fx, POLICY, List.of(loose));
        PgFrontEnd fe2 = l2.start(loose);
        try {
            assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe2.port() + "/loose?sslmode=disable",
                    ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET))
                    .isInstanceOf(SQLException.class).hasMessageContaining("only over TLS");
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe2.port() + "/loose?sslmode=require",
                    ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                assertThat(count(c)).isEqualTo(100);
            }
        } finally {
            fe2.close();
        }
    }
}
