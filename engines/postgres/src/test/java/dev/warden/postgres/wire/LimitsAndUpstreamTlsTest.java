package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.TlsConfig;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.UpstreamTlsConfig;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LimitsAndUpstreamTlsTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    private static DatabaseConfig db(String name, UpstreamTlsConfig tls, ListenerConfig listener) {
        return new DatabaseConfig(name, "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", fx.pg.getPort(), "postgres", ProxyFixture.UP_USER, new Secret(ProxyFixture.UP_PASSWORD), tls),
                Duration.ofSeconds(7), listener);
    }

    @Test
    void tlsToTheUpstreamWithVerification() throws Exception {
        Path dir = fx.dir.resolve("upstream-tls");
        Path crt = dir.resolve("server.crt");
        Path key = dir.resolve("server.key");
        TlsMaterial.generate(dir, crt, key);
        Path pgdata = fx.dir.resolve("pgdata");
        Files.copy(crt, pgdata.resolve("up.crt"));
        Files.copy(key, pgdata.resolve("up.key"));
        Files.setPosixFilePermissions(pgdata.resolve("up.key"), PosixFilePermissions.fromString("rw-------"));
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET ssl_cert_file = 'up.crt'");
            s.execute("ALTER SYSTEM SET ssl_key_file = 'up.key'");
            s.execute("ALTER SYSTEM SET ssl = on");
            s.execute("SELECT pg_reload_conf()");
        }
        Thread.sleep(500);
        PgFrontEnd fe = fx.frontEnd(db("verified", new UpstreamTlsConfig(UpstreamTlsConfig.Mode.VERIFY_FULL, crt), ListenerConfig.DEFAULTS),
                db("encrypted", new UpstreamTlsConfig(UpstreamTlsConfig.Mode.REQUIRE, null), ListenerConfig.DEFAULTS),
                db("untrusted", new UpstreamTlsConfig(UpstreamTlsConfig.Mode.VERIFY_FULL, null), ListenerConfig.DEFAULTS));
        try {
            for (String name : List.of("verified", "encrypted")) {
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port() + "/" + name + "?sslmode=disable",
                        ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
                     Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                    rs.next();
                    assertThat(rs.getBoolean(1)).as(name).isTrue();
                }
            }
            // A self-signed upstream certificate that nothing trusts: refused, with a clear error.
            assertThatThrownBy(() -> DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port() + "/untrusted?sslmode=disable",
                    ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET))
                    .isInstanceOf(SQLException.class).hasMessageContaining("cannot connect to the database");
        } finally {
            fe.close();
        }
    }

    @Test
    void oversizedMessagesTimeoutsAndConnectionLimits() throws Exception {
        ListenerConfig tight = new ListenerConfig(TlsConfig.OFF, 64 * 1024, Duration.ofSeconds(1), Duration.ofSeconds(2), 2);
        PgFrontEnd fe = fx.frontEnd(db("tight", UpstreamTlsConfig.DISABLE, tight));
        try {
            String url = "jdbc:postgresql://127.0.0.1:" + fe.port() + "/tight?sslmode=disable";
            try (Connection a = DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
                 Connection b = DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                assertThatThrownBy(() -> DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET))
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("53300"));
                // larger than the message limit: protocol error, that session only
                String huge = "SELECT '" + "x".repeat(100_000) + "'";
                assertThatThrownBy(() -> a.createStatement().execute(huge)).isInstanceOf(SQLException.class);
                try (Statement s = b.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM users")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(100);
                }
                // the statement timeout of this database is what the upstream session has
                try (Statement s = b.createStatement(); ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("7s");
                }
                // idle for longer than the idle timeout: closed with a FATAL error
                Thread.sleep(3000);
                assertThatThrownBy(() -> b.createStatement().executeQuery("SELECT 1")).isInstanceOf(SQLException.class);
            }
            // a client that never finishes its startup is closed after the startup timeout
            try (Socket s = new Socket("127.0.0.1", fe.port())) {
                s.setSoTimeout(10_000);
                long t0 = System.nanoTime();
                InputStream in = s.getInputStream();
                String got = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
                assertThat(got).contains("startup did not complete in time");
            }
            List<Connection> again = new ArrayList<>();
            try {
                // closed sessions gave their slots back
                again.add(DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET));
                again.add(DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET));
            } finally {
                for (Connection c : again) c.close();
            }
        } finally {
            fe.close();
        }
    }
}
