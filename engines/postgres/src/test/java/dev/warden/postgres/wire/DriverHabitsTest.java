package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.Socket;
import java.sql.Connection;
import java.sql.Statement;
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

    /**
     * asyncpg's copy_records_to_table: Parse and Describe of a query for the columns' types, Flush, and once they are
     * answered the COPY as a simple Query, without a Sync. The server runs that Query (nothing failed, nothing is
     * skipped); Warden took it for a Query inside an unfinished pipeline and ended the session with 08P01.
     */
    @Test
    void aQueryAfterAnAnsweredParseAndFlushWasTakenForAnUnfinishedPipeline() throws Exception {
        try (Connection c = fx.direct(); Statement st = c.createStatement()) {
            st.execute("DELETE FROM orders WHERE user_id IN (7001, 7002)");
        }
        try (Session s = new Session()) {
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("habit_cols", "SELECT user_id, amount FROM orders LIMIT 1", new int[0]).write(w);
            w.begin('D').byte1('S').cstring("habit_cols").end();
            QueryMessage.flush(w);
            s.send(w);
            assertThat(RawClient.types(s.until('T'))).isEqualTo("1tT");

            w.begin('Q').cstring("COPY orders (user_id, amount) FROM STDIN").end();
            s.send(w);
            assertThat(RawClient.types(s.until('G'))).isEqualTo("G");
            w.begin('d').bytes("7001\t1.5\n".getBytes()).end();
            w.begin('c').end();
            s.send(w);
            List<Frame> done = s.until('Z');
            assertThat(RawClient.types(done)).as(RawClient.errors(done).toString()).isEqualTo("CZ");
            assertThat(done.getLast().body()[0]).isEqualTo((byte) 'I');

            // The statement parsed before the Query is still there, and the session carries on with the protocol.
            new QueryMessage.Bind("", "habit_cols", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            s.send(w);
            List<Frame> again = s.until('Z');
            assertThat(RawClient.errors(again)).isEmpty();

            // An insert executed before the Query, answered, is committed by it, as the server does.
            new QueryMessage.Parse("", "INSERT INTO orders (user_id, amount) VALUES (7002, 2)", new int[0]).write(w);
            new QueryMessage.Bind("", "", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.flush(w);
            s.send(w);
            assertThat(RawClient.types(s.until('C'))).isEqualTo("12C");
            w.begin('Q').cstring("SELECT 1").end();
            s.send(w);
            List<Frame> select = s.until('Z');
            assertThat(RawClient.errors(select)).isEmpty();
        }
        assertThat(fx.directCount("SELECT count(*) FROM orders WHERE user_id IN (7001, 7002)")).isEqualTo(2);
    }

    /** The same Query behind a Parse that failed: the server skips it up to the Sync, so it still ends the session. */
    @Test
    void aQueryAfterAFailedParseAndFlushStillEndsTheSession() throws Exception {
        try (Session s = new Session()) {
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("", "SELECT * FROM habit_no_such_table", new int[0]).write(w);
            QueryMessage.flush(w);
            s.send(w);
            s.until('E');
            w.begin('Q').cstring("SELECT 1").end();
            s.send(w);
            assertThat(RawClient.errors(s.until('E')).toString()).contains("08P01");
        }
    }

    /**
     * asyncpg's pool, each time it takes a connection back: {@code SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
     * RESET ALL;}. Releasing the session's own advisory locks was judged a write (like taking one), so under a policy
     * of reads and session settings every release failed with 42501, although DISCARD ALL, which does all of it, is a
     * session statement. Taking a lock stays a write.
     */
    @Test
    void asyncpgsPoolResetWasDeniedAsAWrite() throws Exception {
        try (Connection c = fx.agent("preferQueryMode=simple"); Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;");
            s.execute("SELECT pg_advisory_unlock(77), pg_advisory_unlock_shared(77)");
            assertThatThrownBy(() -> s.execute("SELECT pg_advisory_lock(77)"))
                    .isInstanceOfSatisfying(java.sql.SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
    }
}
