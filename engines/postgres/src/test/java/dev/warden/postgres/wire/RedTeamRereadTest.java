package dev.warden.postgres.wire;

import static dev.warden.postgres.wire.RawClient.query;
import static dev.warden.postgres.wire.RawClient.show;
import static dev.warden.postgres.wire.RawClient.untilReadyOrEnd;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Red-team probes of Warden's own question to the server ({@link SettingsReread}) and of what code a person approved
 * may change on the server besides the search path and role. Database {@code redreread}: {@code public.victim} holds
 * three rows the policy lets no one delete; every test checks it on a direct connection.
 */
class RedTeamRereadTest {
    static ProxyFixture fx;
    static Listeners live;
    static PgFrontEnd fe;

    static final String POLICY = """
            rules:
              - name: reads
                match: {kind: [read]}
                action: allow
              - name: settings
                match: {kind: [session]}
                action: allow
              - name: transactions
                match: {kind: [tcl]}
                action: allow
              - name: the-writer
                match: {objects: ["evil.*"]}
                action: deny
                reason: this view runs the writer
              - name: approved-code
                match: {kind: [unknown]}
                action: approve
                approval: {mode: hold, timeout: 20s}
            """;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        fx.freshDatabase("redreread");
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("""
                    SET ROLE %1$s;
                    CREATE TABLE public.victim (n int);
                    CREATE FUNCTION public.go_lax() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN PERFORM pg_catalog.set_config(''standard_conforming_strings'', ''off'', false); RETURN 1; END';
                    CREATE FUNCTION public.go_path() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN PERFORM pg_catalog.set_config(''search_path'', ''public'', false); RETURN 1; END';
                    CREATE TABLE public.hits (n int);
                    CREATE FUNCTION public.writer() RETURNS int LANGUAGE sql VOLATILE
                        AS 'INSERT INTO public.hits VALUES (1); SELECT 1';
                    CREATE TABLE public.shadow (x int);
                    CREATE SCHEMA evil;
                    CREATE VIEW evil.shadow AS SELECT public.writer() AS x;
                    CREATE FUNCTION public.go_evil() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN PERFORM pg_catalog.set_config(''search_path'', ''evil, public'', false); RETURN 1; END';
                    CREATE FUNCTION public.go_evil_local() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN PERFORM pg_catalog.set_config(''search_path'', ''evil, public'', true); RETURN 1; END';
                    """.formatted(ProxyFixture.UP_USER));
        }
        DatabaseConfig db = Listeners.db("redreread", fx.pg.getPort(), "redreread", ListenerConfig.DEFAULTS);
        live = Listeners.live(fx, POLICY, List.of(db));
        fe = live.start(db);
    }

    @AfterAll
    static void stop() {
        if (fe != null) fe.close();
        if (live != null) live.closeCatalogs();
    }

    @BeforeEach
    void victimRows() throws Exception {
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE public.victim, public.hits; INSERT INTO public.victim VALUES (1), (2), (3)");
        }
    }

    static Connection upstream() throws SQLException {
        return fx.direct("redreread");
    }

    static long victims() throws SQLException {
        return fx.count("redreread", "public.victim");
    }

    /** Approves the request held for {@code text} on this database (the approvals are shared with other suites). */
    static Thread approveNext(String text) {
        return decideNext(text, true);
    }

    static Thread decideNext(String text, boolean approve) {
        return Thread.ofVirtual().start(() -> {
            long end = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < end) {
                for (dev.warden.core.approval.ApprovalRequest r : fx.approvals.list()) {
                    if (r.status() == dev.warden.core.approval.ApprovalRequest.Status.PENDING
                            && r.operation().database().equals("redreread") && r.operation().text().equals(text)) {
                        fx.approvals.decide(r.id(), "alice", approve, approve ? "ok" : "no");
                        return;
                    }
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    static void send(Socket s, byte[] bytes) {
        try {
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
        } catch (java.io.IOException e) {
            // the session ended: nothing more reaches the server
        }
    }

    static void endedReadingDifferently(List<Frame> got) throws java.io.IOException {
        assertThat(RawClient.errors(got)).as(show(got)).anySatisfy(e -> assertThat(e)
                .startsWith("55000").contains("standard_conforming_strings = off"));
    }

    // With standard_conforming_strings off the server reads 'a\'' as the string a' and runs what follows; Warden's
    // parser (on) reads one string to the last quote: a read of a constant.
    static final String HIDDEN_DELETE = "SELECT 'a\\''; DELETE FROM public.victim; --'";
    static final String HIDDEN_DELETE_IN_A_SET = "SET search_path = 'a\\''; DELETE FROM public.victim; --'";

    /**
     * Red team: approved code (here a function a person let run) turned standard_conforming_strings off with
     * set_config. Warden asks the server for the search path and role after such code, but went on reading strings as
     * before, so a DELETE inside what Warden read as one string literal of a SELECT ran on the server and emptied the
     * table no rule lets the agent change. The server reports the setting (ParameterStatus) before the ReadyForQuery
     * of the code: the session ends there.
     */
    @Test
    void aDeleteHiddenInAStringRanAfterApprovedCodeTurnedStandardConformingStringsOff() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
            Thread a = approveNext("SELECT public.go_lax()");
            send(s, query("SELECT public.go_lax()"));
            List<Frame> got = untilReadyOrEnd(r);
            a.join(10_000);
            send(s, query(HIDDEN_DELETE));
            got.addAll(untilReadyOrEnd(r));
            endedReadingDifferently(got);
        }
        assertThat(victims()).isEqualTo(3);
    }

    /**
     * The same, with the hidden DELETE pipelined behind the held code inside a SET search_path, which Warden lets
     * through while the path is unknown: it went upstream right behind the code, before the server's report of the
     * setting could end the session. Any text behind such code now waits for the code's ReadyForQuery.
     */
    @Test
    void aDeleteHiddenInATextPipelinedBehindApprovedCodeThatTurnsStandardConformingStringsOffRan() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
            Thread a = approveNext("SELECT public.go_lax()");
            PgWriter w = new PgWriter();
            new QueryMessage.Query("SELECT public.go_lax()").write(w);
            new QueryMessage.Query(HIDDEN_DELETE_IN_A_SET).write(w);
            send(s, w.toByteArray());
            List<Frame> got = untilReadyOrEnd(r);
            got.addAll(untilReadyOrEnd(r));
            a.join(10_000);
            endedReadingDifferently(got);
        }
        assertThat(victims()).isEqualTo(3);
    }

    /**
     * The extended protocol: the code executed and answered (CommandComplete after a Flush), then a simple Query
     * before any Sync, which Warden lets run once everything is answered (asyncpg's COPY). The server reports the
     * setting only with a ReadyForQuery, so the SET search_path with the DELETE in its string (a utility that may run
     * while the path is unknown) went upstream before Warden could know. Now it is refused; its stand-in fails the
     * implicit transaction the code ran in, so the server rolls the setting back.
     */
    @Test
    void aDeleteHiddenInAQueryAfterFlushBehindApprovedCodeThatTurnsStandardConformingStringsOffRan() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
            Thread a = approveNext("SELECT public.go_lax()");
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("", "SELECT public.go_lax()", new int[0]).write(w);
            new QueryMessage.Bind("", "", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.flush(w);
            send(s, w.toByteArray());
            List<Frame> got = new java.util.ArrayList<>();
            while (got.isEmpty() || got.getLast().type() != 'C') got.add(r.read());
            a.join(10_000);
            send(s, query(HIDDEN_DELETE_IN_A_SET));
            got.addAll(untilReadyOrEnd(r));
            assertThat(RawClient.errors(got)).as(show(got)).anySatisfy(e -> assertThat(e).startsWith("42501")
                    .contains("code Warden cannot see into"));
            // The refusal's stand-in failed the implicit transaction the code ran in: the server rolled the setting back.
            w = new PgWriter();
            QueryMessage.sync(w);
            send(s, w.toByteArray());
            untilReadyOrEnd(r);
            send(s, query("SHOW standard_conforming_strings"));
            List<Frame> shown = untilReadyOrEnd(r);
            assertThat(RawClient.types(shown)).as(show(shown)).isEqualTo("TDCZ");
            assertThat(new String(shown.get(1).body(), StandardCharsets.UTF_8)).endsWith("on");
        }
        assertThat(victims()).isEqualTo(3);
    }

    /**
     * Red team: with client_min_messages at debug5 and debug_print_parse on (both settings the policy allows), the
     * server sent the parse tree of Warden's own question, current_setting calls and all, to the client as LOG
     * notices, with the debug lines of its transaction: the client saw that, and what, Warden asked. The question's
     * notices are the question's, and are kept from the client with the rest of its answer.
     */
    @Test
    void theNoticesOfWardensQuestionReachedTheClient() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            RawClient.exchange(s, query("SET client_min_messages = debug5"), 1);
            RawClient.exchange(s, query("SET debug_print_parse = on"), 1);
            List<Frame> plain = RawClient.exchange(s, query("SELECT * FROM victim"), 1);
            Thread a = approveNext("SELECT public.go_path()");
            RawClient.exchange(s, query("SELECT public.go_path()"), 1);
            a.join(10_000);
            List<Frame> asked = RawClient.exchange(s, query("SELECT * FROM victim"), 1);
            for (Frame f : asked) {
                assertThat(new String(f.body(), StandardCharsets.UTF_8)).as(show(asked)).doesNotContain("current_setting");
            }
            // Exactly what the same statement gets without a question before it.
            assertThat(RawClient.types(asked)).isEqualTo(RawClient.types(plain));
        }
    }

    /**
     * Red team: Warden's question was a simple Query, and a simple Query drops the session's unnamed prepared
     * statement. A client that parsed the unnamed statement in one unit and binds it in a later one (asyncpg without
     * a statement cache does: Parse and Describe, Sync, then Bind and Execute) got "unnamed prepared statement does
     * not exist" from the server when Warden asked in between, while Warden still tracked the statement. The question
     * now leaves the client's unnamed statement and portal alone.
     */
    @Test
    void wardensQuestionDroppedTheUnnamedStatementTheClientBindsNext() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("", "SELECT n FROM public.victim ORDER BY n", new int[0]).write(w);
            // A client's statement under the name Warden would take first: the question takes another.
            new QueryMessage.Parse("warden_reread", "SELECT 7", new int[0]).write(w);
            QueryMessage.sync(w);
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("11Z");
            // Approved code through a named statement and portal, which leaves the unnamed statement in place.
            w = new PgWriter();
            new QueryMessage.Parse("code", "SELECT public.go_path()", new int[0]).write(w);
            new QueryMessage.Bind("code", "code", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("code", 0).write(w);
            QueryMessage.sync(w);
            Thread a = approveNext("SELECT public.go_path()");
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).endsWith("12DCZ");
            a.join(10_000);
            // The path is unknown: Warden asks at this Bind, the first message of its unit.
            w = new PgWriter();
            new QueryMessage.Bind("", "", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.types(got)).as(show(got)).isEqualTo("2DDDCZ");
            w = new PgWriter();
            new QueryMessage.Bind("", "warden_reread", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.types(got)).as(show(got)).isEqualTo("2DCZ");
            assertThat(new String(got.get(1).body(), StandardCharsets.UTF_8)).endsWith("7");
        }
    }

    /**
     * A cursor the client declared under the question's portal name (then a fixed {@code warden_reread}) made the
     * question's Bind fail, which aborted the client's transaction block; the name now has a random part. The
     * question goes through, the block stays usable, and the cursor reads on.
     */
    @Test
    void aCursorUnderTheQuestionsNameAbortedTheClientsBlock() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            run(s, "BEGIN", "DECLARE warden_reread CURSOR FOR SELECT 7", "SELECT public.go_path()");
            // No relation: the path is unknown, so Warden asks before judging it.
            List<Frame> got = RawClient.exchange(s, query("SELECT 1"), 1);
            assertThat(RawClient.types(got)).as(show(got)).isEqualTo("TDCZ");
            assertThat(got.getLast().body()[0]).isEqualTo((byte) 'T');
            got = RawClient.exchange(s, query("FETCH warden_reread"), 1);
            assertThat(RawClient.types(got)).as(show(got)).isEqualTo("TDCZ");
            assertThat(new String(got.get(1).body(), StandardCharsets.UTF_8)).endsWith("7");
            run(s, "ROLLBACK", "SELECT public.go_path()");
            got = RawClient.exchange(s, query("SELECT * FROM victim"), 1);
            assertThat(RawClient.types(got)).as(show(got)).isEqualTo("TDDDCZ");
        }
    }

    /**
     * Held: what the client pipelines behind the statement Warden asks for (a Query, an extended unit and another
     * Query in one write) waits while the question is out, and every reply reaches the client in order, none of the
     * question's among them; in a block too.
     */
    @Test
    void whatIsPipelinedBehindTheQuestionIsAnsweredInOrder() throws Exception {
        for (boolean block : new boolean[] {false, true}) {
            try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                if (block) RawClient.exchange(s, query("BEGIN"), 1);
                run(s, "SELECT public.go_path()");
                PgWriter w = new PgWriter();
                // No relation: inside the block, after the code, a relation would be judged without the catalog (held).
                new QueryMessage.Query("SELECT 1").write(w);
                new QueryMessage.Parse("", "SELECT 2", new int[0]).write(w);
                new QueryMessage.Bind("", "", new int[0], new byte[0][], new int[0]).write(w);
                new QueryMessage.Execute("", 0).write(w);
                QueryMessage.sync(w);
                new QueryMessage.Query("SELECT 3").write(w);
                List<Frame> got = RawClient.exchange(s, w.toByteArray(), 3);
                assertThat(RawClient.types(got)).as(show(got)).isEqualTo("TDCZ12DCZTDCZ");
                assertThat(new String(got.get(1).body(), StandardCharsets.UTF_8)).endsWith("1");
                assertThat(new String(got.get(6).body(), StandardCharsets.UTF_8)).endsWith("2");
                assertThat(new String(got.get(10).body(), StandardCharsets.UTF_8)).endsWith("3");
                assertThat(got.getLast().body()[0]).isEqualTo((byte) (block ? 'T' : 'I'));
            }
        }
    }

    static long hits() throws SQLException {
        return fx.count("redreread", "public.hits");
    }

    /** Sends {@code text} as a Query, approving it when it is held. */
    static List<Frame> approved(Socket s, String text) throws Exception {
        Thread a = approveNext(text);
        List<Frame> got = RawClient.exchange(s, query(text), 1);
        a.interrupt();
        return got;
    }

    /** Sends each text as a Query, approving what is held; returns every frame. */
    static List<Frame> run(Socket s, String... texts) throws Exception {
        List<Frame> all = new java.util.ArrayList<>();
        for (String t : texts) {
            // The code is approved; anything else held (a read judged without the catalog after the code) is denied.
            Thread a = decideNext(t, t.contains("go_"));
            all.addAll(RawClient.exchange(s, query(t), 1));
            a.interrupt();
        }
        return all;
    }

    /**
     * Ideas that held: savepoints, SET LOCAL, RESET ALL, DISCARD ALL and COMMIT AND CHAIN around approved code that
     * sets the path, each followed by the unqualified read whose writing twin evil.shadow would insert into
     * public.hits. Whatever Warden decides (refused, denied as evil.shadow, read as public.shadow, or held as unknown
     * and denied by the person), the server never reads the writing view.
     */
    @Test
    void savepointsResetsAndChainsAroundApprovedCodeNeverLetTheWritingViewRun() throws Exception {
        String[][] sequences = {
                {"BEGIN", "SAVEPOINT a", "SELECT public.go_evil()", "ROLLBACK TO SAVEPOINT a", "SELECT * FROM shadow", "ROLLBACK"},
                {"BEGIN", "SELECT public.go_evil()", "SAVEPOINT a", "SET LOCAL search_path = public", "ROLLBACK TO SAVEPOINT a", "SELECT * FROM shadow", "ROLLBACK"},
                {"BEGIN", "SAVEPOINT a", "SELECT public.go_evil()", "RELEASE SAVEPOINT a", "COMMIT", "SELECT * FROM shadow", "SET search_path = public"},
                {"BEGIN", "SELECT public.go_evil_local()", "COMMIT AND CHAIN", "SELECT * FROM shadow", "ROLLBACK"},
                {"BEGIN", "SELECT public.go_evil()", "COMMIT AND CHAIN", "SELECT * FROM shadow", "ROLLBACK", "SET search_path = public"},
                {"SELECT public.go_evil()", "RESET ALL", "SELECT * FROM shadow"},
                {"SELECT public.go_evil()", "DISCARD ALL", "SELECT * FROM shadow"},
                {"SET search_path = evil, public", "BEGIN", "SELECT public.go_path()", "ROLLBACK", "SELECT * FROM shadow", "SET search_path = public"},
                {"BEGIN", "SELECT public.go_evil()", "SELECT * FROM public.shadow", "ROLLBACK", "SELECT * FROM shadow"},
        };
        for (String[] seq : sequences) {
            try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                List<Frame> got = run(s, seq);
                System.err.println("HELD " + String.join(" | ", seq) + " -> " + show(got));
            }
            assertThat(hits()).as(String.join(" | ", seq)).isZero();
        }
    }

    /**
     * Red team: approved code that sets the path, and the unqualified read of the writing view behind it in the same
     * Query text. Warden asks the server for the path after such code, but within one text it classified what
     * follows the code with the path from before: the person was asked to approve a read of public.shadow, and the
     * server would read evil.shadow, whose writer runs. Now what follows unseen code in a text is classified as unknown,
     * saying why, and so shown to the person, who denies it here; sent one by one, the read is judged under the path
     * the server reports after the code, and denied by the rule on evil.*.
     */
    @Test
    void aReadBehindApprovedCodeInTheSameTextWasShownToTheApproverWithThePathFromBeforeTheCode() throws Exception {
        String[] codes = {
                "SELECT public.go_evil()",
                "DO $$BEGIN PERFORM pg_catalog.set_config('search_path', 'evil, public', false); END$$",
        };
        for (String code : codes) {
            try (Socket s = RawClient.login(fe.port(), "redreread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                String text = code + "; SELECT * FROM shadow";
                java.util.concurrent.atomic.AtomicReference<dev.warden.core.Statement> shown = new java.util.concurrent.atomic.AtomicReference<>();
                Thread a = Thread.ofVirtual().start(() -> {
                    long end = System.nanoTime() + 10_000_000_000L;
                    while (System.nanoTime() < end && shown.get() == null) {
                        for (dev.warden.core.approval.ApprovalRequest r : fx.approvals.list()) {
                            if (r.status() == dev.warden.core.approval.ApprovalRequest.Status.PENDING
                                    && r.operation().text().equals(text)) {
                                shown.set(r.classification().statements().get(1));
                                fx.approvals.decide(r.id(), "alice", false, "that read is not what it seems");
                            }
                        }
                        Thread.onSpinWait();
                    }
                });
                List<Frame> got = RawClient.exchange(s, query(text), 1);
                a.join(10_000);
                assertThat(RawClient.errors(got)).as(show(got)).singleElement().asString().startsWith("42501");
                assertThat(shown.get().kind()).isEqualTo(dev.warden.core.Kind.UNKNOWN);
                assertThat(String.join("; ", shown.get().reasons())).contains("runs code Warden cannot see into");
                // A transaction command after the code does not depend on the path: the text is the code's alone.
                got = approved(s, "BEGIN; " + code + "; COMMIT");
                assertThat(RawClient.errors(got)).as(show(got)).isEmpty();
                got = RawClient.exchange(s, query("SELECT * FROM shadow"), 1);
                assertThat(RawClient.errors(got)).as(show(got)).singleElement().asString()
                        .startsWith("42501").contains("this view runs the writer");
            }
            assertThat(hits()).as(code).isZero();
        }
    }
}
