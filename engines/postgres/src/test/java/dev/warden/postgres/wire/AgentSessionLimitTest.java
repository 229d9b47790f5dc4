package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.TlsConfig;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code max_connections_per_agent}: one count per (agent, database) over every listener of the process. */
class AgentSessionLimitTest {
    static ProxyFixture fx;
    static final String POLICY = Listeners.READS_AND_SETTINGS;
    static final ListenerConfig TWO = new ListenerConfig(TlsConfig.OFF, 1 << 20, Duration.ofSeconds(5), Duration.ofMinutes(10), 2);

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    static Connection connect(PgFrontEnd fe, String db) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port() + "/" + db + "?sslmode=disable",
                ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    static long count(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM users")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void theLimitCountsEveryListenerAndSlotsComeBack() throws Exception {
        DatabaseConfig limited = Listeners.db(fx, "limited", TWO);
        DatabaseConfig other = Listeners.db(fx, "other", TWO);
        Listeners l = new Listeners(fx, POLICY, List.of(limited, other));
        PgFrontEnd east = l.start(limited, other);
        PgFrontEnd west = l.start(limited);
        try {
            Connection a = connect(east, "limited");
            Connection b = connect(west, "limited");
            assertThat(east.sessionsHeld(ProxyFixture.AGENT, "limited")).isEqualTo(2);
            // A third session, through either listener: PostgreSQL's own error for too many connections.
            for (PgFrontEnd fe : List.of(east, west)) {
                assertThatThrownBy(() -> connect(fe, "limited"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("53300"))
                        .hasMessageContaining("too many connections for role \"agent\"")
                        .hasMessageContaining("warden: max_connections_per_agent is 2 for database \"limited\"");
            }
            // Another database has its own count.
            try (Connection o = connect(east, "other")) {
                assertThat(count(o)).isEqualTo(100);
            }
            assertThat(count(a)).isEqualTo(100);
            b.close();
            WireProxyTest.eventually(() -> assertThat(east.sessionsHeld(ProxyFixture.AGENT, "limited")).isEqualTo(1));
            try (Connection c = connect(east, "limited")) {
                assertThat(count(c)).isEqualTo(100);
            }
            // The proxy gives the slot back once it has seen the close, a moment after the client's close returns.
            WireProxyTest.eventually(() -> assertThat(east.sessionsHeld(ProxyFixture.AGENT, "limited")).isEqualTo(1));
            // The kill switch ends the agent's sessions: their slots come back exactly once.
            Connection d = connect(west, "limited");
            l.killSwitch.disable(ProxyFixture.AGENT, "test", null);
            WireProxyTest.eventually(() -> assertThat(east.sessionsHeld(ProxyFixture.AGENT, "limited")).isZero());
            assertThatThrownBy(() -> count(a)).isInstanceOf(SQLException.class);
            assertThatThrownBy(() -> count(d)).isInstanceOf(SQLException.class);
            a.close();
            d.close();
            l.killSwitch.enable(ProxyFixture.AGENT, "test", null);
            assertThat(east.sessionsHeld(ProxyFixture.AGENT, "limited")).isZero();
            // Shutdown of a listener gives its sessions' slots back.
            Connection e = connect(west, "limited");
            Connection f = connect(west, "limited");
            assertThat(east.sessionsHeld(ProxyFixture.AGENT, "limited")).isEqualTo(2);
            west.grace(Duration.ofMillis(200));
            west.close();
            WireProxyTest.eventually(() -> assertThat(east.sessionsHeld(ProxyFixture.AGENT, "limited")).isZero());
            e.close();
            f.close();
            try (Connection g = connect(east, "limited"); Connection h = connect(east, "limited")) {
                assertThat(count(g) + count(h)).isEqualTo(200);
            }
        } finally {
            east.close();
            west.close();
        }
    }

    @Test
    void aFailedUpstreamConnectGivesTheSlotBack() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0)) {
            dead = s.getLocalPort();
        }
        DatabaseConfig down = Listeners.db("down", dead, TWO);
        Listeners l = new Listeners(fx, POLICY, List.of(down));
        PgFrontEnd fe = l.start(down);
        try {
            for (int i = 0; i < 4; i++) {
                assertThatThrownBy(() -> connect(fe, "down"))
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("08006"));
            }
            assertThat(fe.sessionsHeld(ProxyFixture.AGENT, "down")).isZero();
        } finally {
            fe.close();
        }
    }
}
