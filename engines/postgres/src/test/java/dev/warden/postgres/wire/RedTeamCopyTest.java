package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.Socket;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Red-team probes of COPY and the fast-path FunctionCall: each test tries to get something upstream that the policy
 * denies (or that was never judged) and then checks the database directly. A failing test is a bypass.
 */
class RedTeamCopyTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    /** A logged-in raw session with one reader for its whole life (frames are never lost between exchanges). */
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

        /** Reads until a frame of {@code type} arrived (inclusive). */
        List<Frame> until(char type) throws IOException {
            List<Frame> out = new ArrayList<>();
            while (true) {
                Frame f = r.read();
                out.add(f);
                if (f.type() == type) return out;
            }
        }

        List<Frame> exchange(PgWriter w) throws IOException {
            send(w);
            return until('Z');
        }

        @Override
        public void close() throws IOException {
            s.close();
        }
    }

    private static void table(String name, int rows) throws Exception {
        try (Connection c = fx.direct(); java.sql.Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + name);
            s.execute("CREATE TABLE " + name + " (id int)");
            s.execute("INSERT INTO " + name + " SELECT generate_series(1, " + rows + ")");
            s.execute("GRANT ALL ON " + name + " TO " + ProxyFixture.UP_USER);
            s.execute("ALTER TABLE " + name + " OWNER TO " + ProxyFixture.UP_USER);
        }
    }

    private static boolean exists(String table) throws Exception {
        return fx.directCount("SELECT count(*) FROM pg_tables WHERE tablename = '" + table + "'") > 0;
    }

    private static String show(List<Frame> got) throws IOException {
        return RawClient.types(got) + " " + RawClient.errors(got);
    }

    private static void parse(PgWriter w, String name, String sql) {
        new QueryMessage.Parse(name, sql, new int[0]).write(w);
    }

    private static void bind(PgWriter w, String portal, String stmt) {
        new QueryMessage.Bind(portal, stmt, new int[0], new byte[0][], new int[0]).write(w);
    }

    private static void execute(PgWriter w, String portal) {
        new QueryMessage.Execute(portal, 0).write(w);
    }

    /** FunctionCall of lo_unlink (OID 964), one int4 argument in binary. */
    private static void functionCall(PgWriter w, int oid, int arg) {
        w.begin('F').int32(oid).int16(1).int16(1).int16(1).int32(4).int32(arg).int16(1).end();
    }

    /**
     * After an upstream error in the extended protocol the server ignores every message up to Sync, a FunctionCall
     * (or a Query) included. Warden pops its expectations up to the Sync only for what it had already forwarded when
     * the error came back; a FunctionCall sent after that is queued as if it will be answered. The Sync's
     * ReadyForQuery then completes the FunctionCall's expectation and leaves the Sync's behind: the relay is one unit
     * late for the rest of the session. With the relay late, a Parse's ParseComplete is not matched, a later error
     * is taken for that Parse's failure and the name dropped, a Parse of harmless text under the same name (refused
     * upstream: it exists) is tracked, and Bind+Execute of it is judged as the harmless text while the server runs
     * the DDL it holds: a DROP TABLE that needs an approval runs without one.
     */
    @Test
    void aFunctionCallIgnoredUpstreamAfterAnErrorDesynchronisesTheRelayAndRunsUnjudgedDdl() throws Exception {
        table("red_fp_drop", 3);
        try (Session s = new Session()) {
            PgWriter w = new PgWriter();
            // 0. An upstream error in the extended protocol, with Flush: the server now skips to Sync.
            parse(w, "", "SELECT * FROM red_fp_no_such_table");
            QueryMessage.flush(w);
            s.send(w);
            System.err.println("0 error: " + show(s.until('E')));
            // ... a FunctionCall (ignored upstream; here denied by Warden, an allowed one behaves the same), then Sync
            functionCall(w, 964, 12345);
            QueryMessage.sync(w);
            // Fixed: a FunctionCall inside an unfinished extended pipeline ends the session (08P01), so the relay
            // cannot fall behind; nothing after it runs.
            s.send(w);
            List<Frame> closed = s.until('E');
            assertThat(RawClient.errors(closed).toString()).contains("08P01");
        }
        assertThat(exists("red_fp_drop")).as("red_fp_drop still exists (DROP TABLE needs an approval)").isTrue();
    }

    /** The same desynchronisation with an allowed simple Query in place of the FunctionCall. */
    @Test
    void aQueryIgnoredUpstreamAfterAnErrorDesynchronisesTheRelayAndRunsUnjudgedDdl() throws Exception {
        table("red_q_drop", 3);
        try (Session s = new Session()) {
            PgWriter w = new PgWriter();
            parse(w, "", "SELECT * FROM red_q_no_such_table");
            QueryMessage.flush(w);
            s.send(w);
            System.err.println("q0 error: " + show(s.until('E')));
            w.begin('Q').cstring("SELECT 1").end();
            QueryMessage.sync(w);
            s.send(w);
            List<Frame> closed = s.until('E');
            assertThat(RawClient.errors(closed).toString()).contains("08P01");
        }
        assertThat(exists("red_q_drop")).as("red_q_drop still exists (DROP TABLE needs an approval)").isTrue();
    }

    // ---- ideas that held

    /** COPY of a protected table through Parse/Bind/Execute, and through a two-COPY Query: refused, no row lands. */
    @Test
    void deniedCopyInTheExtendedProtocolAndInAMultiStatementQueryLetsNoDataThrough() throws Exception {
        long before = fx.directCount("SELECT count(*) FROM audit_log");
        try (Session s = new Session()) {
            PgWriter w = new PgWriter();
            parse(w, "", "/* harmless */ COPY public.audit_log (what) FROM STDIN");
            bind(w, "", "");
            execute(w, "");
            w.begin('d').bytes("smuggled-ext\n".getBytes()).end();
            w.begin('c').end();
            QueryMessage.sync(w);
            System.err.println("ext copy: " + show(s.exchange(w)));
            w.begin('Q').cstring("COPY orders (user_id, amount) FROM STDIN; COPY audit_log (what) FROM STDIN").end();
            w.begin('d').bytes("smuggled-multi\n".getBytes()).end();
            w.begin('c').end();
            System.err.println("multi copy: " + show(s.exchange(w)));
            // an allowed COPY, failed with CopyFail, then data and CopyDone
            w.begin('Q').cstring("COPY orders (user_id, amount) FROM STDIN").end();
            s.send(w);
            System.err.println("allowed copy: " + show(s.until('G')));
            w.begin('f').cstring("client gave up").end();
            w.begin('d').bytes("7\t7\n".getBytes()).end();
            w.begin('c').end();
            w.begin('Q').cstring("COPY audit_log (what) FROM STDIN").end();
            w.begin('d').bytes("smuggled-after-fail\n".getBytes()).end();
            w.begin('c').end();
            w.begin('Q').cstring("SELECT 1").end();
            s.send(w);
            List<Frame> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) got.addAll(s.until('Z'));
            System.err.println("copyfail: " + show(got));
        }
        assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isEqualTo(before);
        assertThat(fx.directCount("SELECT count(*) FROM orders WHERE user_id = 7 AND amount = 7")).isZero();
    }

    /**
     * An allowed COPY … FROM STDIN with its data in the same write, before the server's CopyInResponse (as a client
     * that pipelines may send it): the data was dropped and the session hung, the server waiting for it (noted by the
     * approval-hold review). Simple and extended protocol.
     */
    @Test
    void copyDataPipelinedBehindAnAllowedCopyReachesIt() throws Exception {
        long before = fx.directCount("SELECT count(*) FROM orders WHERE user_id = 4242");
        try (Session s = new Session()) {
            s.s.setSoTimeout(10_000);
            PgWriter w = new PgWriter();
            w.begin('Q').cstring("COPY orders (user_id, amount) FROM STDIN").end();
            w.begin('d').bytes("4242\t1\n4242\t2\n".getBytes()).end();
            w.begin('c').end();
            assertThat(RawClient.errors(s.exchange(w))).isEmpty();
            parse(w, "", "COPY orders (user_id, amount) FROM STDIN");
            bind(w, "", "");
            execute(w, "");
            w.begin('d').bytes("4242\t3\n".getBytes()).end();
            w.begin('c').end();
            QueryMessage.sync(w);
            assertThat(RawClient.errors(s.exchange(w))).isEmpty();
        }
        assertThat(fx.directCount("SELECT count(*) FROM orders WHERE user_id = 4242")).isEqualTo(before + 3);
    }

    /** COPY TO STDOUT streams (no buffering in the relay) and its outcome is recorded with the row count. */
    @Test
    void copyToStdoutIsRecordedWithItsRowCount() throws Exception {
        int before = fx.ledger.entries().size();
        try (Session s = new Session()) {
            PgWriter w = new PgWriter();
            w.begin('Q').cstring("COPY (SELECT i, repeat('x', 1000) FROM generate_series(1, 200000) i) TO STDOUT").end();
            List<Frame> got = s.exchange(w);
            assertThat(got.stream().filter(f -> f.type() == 'd').count()).isEqualTo(200000);
        }
        Thread.sleep(200);
        String outcomes = fx.ledger.entries().subList(before, fx.ledger.entries().size()).toString();
        System.err.println("copy out ledger: " + outcomes.substring(0, Math.min(2000, outcomes.length())));
        assertThat(outcomes).contains("200000");
    }
}
