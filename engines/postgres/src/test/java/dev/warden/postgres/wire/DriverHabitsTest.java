package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What real drivers do on the wire that pgjdbc and psql do not, each pinned with the bytes of the driver that showed
 * it (the drivers themselves run in {@link DriversPsycopgTest}, {@link DriversAsyncpgTest} and
 * {@link DriversNodePostgresTest}).
 */
class DriverHabitsTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    /** A logged-in raw session with one reader for its whole life. */
    private static final class Session implements AutoCloseable {
        final Socket s;
        final FrameReader r;

        Session() throws Exception {
            s = RawClient.login(fx.port(), "app", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
            r = new FrameReader(s.getInputStream(), 1 << 24);
        }

        void send(PgWriter w) throws IOException {
            s.getOutputStream().write(w.toByteArray());
            s.getOutputStream().flush();
            w.reset();
        }

        List<Frame> until(char type) throws IOException {
            List<Frame> out = new ArrayList<>();
            while (true) {
                Frame f = r.read();
                out.add(f);
                if (f.type() == type) return out;
            }
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }

    /**
     * asyncpg sends {@code client_encoding='utf-8'}, quotes included; PostgreSQL reads encoding names with letters and
     * digits only and takes it for UTF8, Warden refused it and no asyncpg program could connect.
     */
    @Test
    void asyncpgsQuotedUtf8ClientEncodingWasRefusedAtStartup() throws Exception {
        Object ok = RawClient.startup(fx.port(), Map.of("user", ProxyFixture.AGENT, "database", "app",
                "client_encoding", "'utf-8'"), ProxyFixture.AGENT_SECRET);
        assertThat(ok).as("%s", ok).isInstanceOf(Socket.class);
        ((Socket) ok).close();
        Object latin = RawClient.startup(fx.port(), Map.of("user", ProxyFixture.AGENT, "database", "app",
                "client_encoding", "'latin-1'"), ProxyFixture.AGENT_SECRET);
        assertThat(latin).isInstanceOfSatisfying(Notice.class, n -> assertThat(n.code()).isEqualTo("22023"));
    }
}
