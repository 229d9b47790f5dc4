package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.ledger.Entry;
import java.net.Socket;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The extended protocol driven message by message, as no driver would, to check that what runs is what was judged. */
class ExtendedProtocolTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    private static Socket login() throws Exception {
        return RawClient.login(fx.port(), "app", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    private static PgWriter parse(PgWriter w, String name, String sql) {
        new QueryMessage.Parse(name, sql, new int[0]).write(w);
        return w;
    }

    private static PgWriter bind(PgWriter w, String portal, String stmt, String... params) {
        byte[][] v = new byte[params.length][];
        for (int i = 0; i < params.length; i++) v[i] = params[i].getBytes();
        new QueryMessage.Bind(portal, stmt, new int[0], v, new int[0]).write(w);
        return w;
    }

    private static PgWriter execute(PgWriter w, String portal, int max) {
        new QueryMessage.Execute(portal, max).write(w);
        return w;
    }

    /** Parse, Bind and Execute of the unnamed statement and portal, as drivers send a one-off statement. */
    private static PgWriter unnamed(PgWriter w, String sql, String... params) {
        parse(w, "", sql);
        bind(w, "", "", params);
        return execute(w, "", 0);
    }

    @Test
    void aPipelineStopsAtADenialAndRecoversAtSync() throws Exception {
        long before = fx.directCount("SELECT count(*) FROM audit_log");
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            unnamed(w, "SELECT count(*) FROM users");
            unnamed(w, "DELETE FROM audit_log");
            QueryMessage.sync(w);
            unnamed(w, "SELECT 1 FROM users LIMIT 1");
            QueryMessage.sync(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 2);
            assertThat(RawClient.types(got)).isEqualTo("12DCEZ12DCZ");
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501 warden: denied by rule \"protect-audit-log\"");
        }
        assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isEqualTo(before);
    }

    @Test
    void aNameReusedAfterCloseRunsTheNewTextOnlyAsJudged() throws Exception {
        long before = fx.directCount("SELECT count(*) FROM audit_log");
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            parse(w, "s1", "SELECT count(*) FROM users");
            QueryMessage.sync(w);
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("1Z");
            w.reset();
            new PgWriter();
            // Close and redefine in one pipeline; the Bind must run the new text, which is judged (and denied).
            w.begin('C').byte1('S').cstring("s1").end();
            parse(w, "s1", "DELETE FROM audit_log WHERE id > $1");
            bind(w, "", "s1", "0");
            execute(w, "", 0);
            QueryMessage.sync(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.types(got)).isEqualTo("3EZ");
            assertThat(RawClient.errors(got).getFirst()).startsWith("42501");
            // A Bind to the name now reaches nothing Warden did not judge: the old statement is closed upstream.
            w.reset();
            bind(w, "", "s1", "0");
            execute(w, "", 0);
            QueryMessage.sync(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.errors(got)).hasSize(1);
        }
        assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isEqualTo(before);
    }

    @Test
    void aPortalExecutedInPartsIsJudgedOnceAndReturnsEveryRow() throws Exception {
        int ledgerBefore = fx.ledger.entries().size();
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            w.begin('Q').cstring("BEGIN").end();
            parse(w, "p", "SELECT id FROM users WHERE id > $1 ORDER BY id");
            bind(w, "cur", "p", "60");
            execute(w, "cur", 15);
            execute(w, "cur", 15);
            execute(w, "cur", 15);
            QueryMessage.sync(w);
            w.begin('Q').cstring("COMMIT").end();
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 3);
            String types = RawClient.types(got);
            assertThat(types.chars().filter(c -> c == 'D').count()).isEqualTo(40);
            assertThat(types.chars().filter(c -> c == 's').count()).isEqualTo(2);
            assertThat(RawClient.errors(got)).isEmpty();
        }
        long decisions = fx.ledger.entries().subList(ledgerBefore, fx.ledger.entries().size()).stream()
                .filter(e -> e instanceof Entry.DecisionEntry d && d.operation().text().startsWith("SELECT id FROM users WHERE id >"))
                .count();
        assertThat(decisions).isEqualTo(1);
    }

    @Test
    void severalParsesBeforeOneSyncEachRunWhatWasJudged() throws Exception {
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            parse(w, "a", "SELECT 'a' FROM users LIMIT 1");
            parse(w, "b", "SELECT 'b' FROM users LIMIT 1");
            parse(w, "", "SELECT 'c' FROM users LIMIT 1");
            bind(w, "", "b");
            execute(w, "", 0);
            bind(w, "", "a");
            execute(w, "", 0);
            bind(w, "", "");
            execute(w, "", 0);
            QueryMessage.sync(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.types(got)).isEqualTo("1112DC2DC2DCZ");
            StringBuilder values = new StringBuilder();
            for (Frame f : got) {
                if (f.type() == 'D') {
                    PgReader r = f.reader();
                    r.int16();
                    values.append(new String(r.bytes(r.int32())));
                }
            }
            assertThat(values.toString()).isEqualTo("bac");
        }
    }

    @Test
    void aNewerMinorProtocolVersionIsNegotiatedDownTo30() throws Exception {
        try (Socket s = new Socket("127.0.0.1", fx.port())) {
            s.setSoTimeout(10_000);
            byte[] startup = new PgWriter().beginUntyped().int32((3 << 16) | 2).cstring("user").cstring(ProxyFixture.AGENT)
                    .cstring("database").cstring("app").cstring("_pq_.future").cstring("x").byte1(0).end().toByteArray();
            s.getOutputStream().write(startup);
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 20);
            Frame v = r.read();
            assertThat((char) v.type()).isEqualTo('v');
            PgReader body = v.reader();
            assertThat(body.int32()).isZero();
            assertThat(body.int32()).isEqualTo(1);
            assertThat(body.cstring()).isEqualTo("_pq_.future");
            Frame auth = r.read();
            assertThat(AuthMessage.Authentication.read(auth).code()).isEqualTo(AuthMessage.SASL);
        }
    }

    @Test
    void aFastPathFunctionCallIsDeniedAndTheSessionGoesOn() throws Exception {
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            // FunctionCall of lo_unlink (OID 964) with one int4 argument
            w.begin('F').int32(964).int16(1).int16(1).int16(1).int32(4).int32(12345).int16(1).end();
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.types(got)).isEqualTo("EZ");
            assertThat(RawClient.errors(got).getFirst()).startsWith("42501");
            w.reset();
            w.begin('Q').cstring("SELECT count(*) FROM users").end();
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("TDCZ");
        }
    }

    /** The ledger recorded a fast-path call's function but not its arguments: an auditor could not tell what it did. */
    @Test
    void aFastPathCallsArgumentsAreRecorded() throws Exception {
        int before = fx.ledger.entries().size();
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            // upper(text) (OID 871): one text argument, text result (denied here too: this fixture has no live catalog)
            w.begin('F').int32(871).int16(1).int16(0).int16(1).int32(5).bytes("quiet".getBytes()).int16(0).end();
            // lo_unlink(oid) (OID 964): one binary argument
            w.begin('F').int32(964).int16(1).int16(1).int16(1).int32(4).int32(12345).int16(1).end();
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 2);
            assertThat(RawClient.types(got)).isEqualTo("EZEZ");
        }
        List<Entry.DecisionEntry> calls = fx.ledger.entries().subList(before, fx.ledger.entries().size()).stream()
                .filter(e -> e instanceof Entry.DecisionEntry d && d.operation().text().startsWith("-- fast-path"))
                .map(e -> (Entry.DecisionEntry) e).toList();
        assertThat(calls).extracting(d -> d.operation().parameters()).containsExactly(List.of("quiet"), List.of("\\x00003039"));
    }

    /** A FunctionCall whose argument list runs past its end was forwarded as it was: the session ends instead. */
    @Test
    void aTruncatedFastPathCallEndsTheSession() throws Exception {
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            w.begin('F').int32(871).int16(0).int16(1).int32(50).bytes("short".getBytes()).end();
            s.getOutputStream().write(w.toByteArray());
            assertThat(WireProxyTest.readAll(s.getInputStream())).contains("08P01");
        }
    }

    @Test
    void copyDataWithoutAnAllowedCopyGoesNowhere() throws Exception {
        long before = fx.directCount("SELECT count(*) FROM audit_log");
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            w.begin('Q').cstring("COPY audit_log (what) FROM STDIN").end();
            w.begin('d').bytes("smuggled\n".getBytes()).end();
            w.begin('c').end();
            w.begin('Q').cstring("SELECT 1 FROM users LIMIT 1").end();
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 2);
            assertThat(RawClient.types(got)).isEqualTo("EZTDCZ");
        }
        assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isEqualTo(before);
    }

    /**
     * Writes judged on the event loop wait for their decisions' fsync; a denial (judged on a thread) and a Terminate
     * pipelined after them must wait their turn: every write before them runs, in order, and nothing denied does.
     */
    @Test
    void pipelinedWritesADenialAndATerminateKeepTheirOrder() throws Exception {
        long audit = fx.directCount("SELECT count(*) FROM audit_log");
        String insert = "INSERT INTO orders (user_id, amount) VALUES ($1, 1)";
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            // The first classifies the text; from then on it is judged on the loop.
            unnamed(w, insert, "9101");
            QueryMessage.sync(w);
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("12CZ");
            w.reset();
            unnamed(w, insert, "9102");
            QueryMessage.sync(w);
            unnamed(w, "DELETE FROM audit_log WHERE id > 0");
            QueryMessage.sync(w);
            unnamed(w, insert, "9103");
            QueryMessage.sync(w);
            w.bytes(UpstreamConnection.TERMINATE);
            s.getOutputStream().write(w.toByteArray());
            s.getOutputStream().flush();
            // The session ends at the Terminate; what came before it still runs.
            while (s.getInputStream().read() >= 0) {
                // drain until Warden closes the connection
            }
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (fx.directCount("SELECT count(*) FROM orders WHERE user_id = 9103") == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(fx.directCount("SELECT count(*) FROM orders WHERE user_id IN (9101, 9102, 9103)")).isEqualTo(3);
        assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isEqualTo(audit);
    }
}
