package dev.warden.postgres.wire;

import static dev.warden.postgres.wire.RawClient.query;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.ObjectAccess;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.ledger.Entry;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where Warden cannot follow the session's search path or role (code a person approved, which may call
 * {@code set_config}; a computed {@code set_config}), it asks the server once nothing of the session is in flight,
 * and judges the next statement with the server's answer. Every test runs through the proxy with the engine's live
 * catalog and checks on a direct connection whether the writer ran ({@code public.hits}).
 *
 * <p>Database {@code reread} owned by the upstream user: {@code public.shadow} is a plain empty table,
 * {@code evil.shadow} a view that calls {@code public.writer()}, which inserts into {@code public.hits}. The
 * {@code public.go_*} functions set the search path to {@code evil, public} in ways Warden cannot see. The policy
 * allows reads, settings and transaction control, denies anything that touches the writing views ({@code evil.*},
 * {@code rb.*}), and holds everything {@code unknown} (user functions, DO blocks) for a person.
 */
class SettingsRereadTest {
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
                match: {objects: ["evil.*", "rb.*"]}
                action: deny
                reason: these views run the writer
              - name: approved-code
                match: {kind: [unknown]}
                action: approve
                approval: {mode: hold, timeout: 20s}
            """;

    static final String EVIL = "PERFORM pg_catalog.set_config(''search_path'', ''evil, public'', %s);";

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        fx.freshDatabase("reread");
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("""
                    DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rb') THEN CREATE ROLE rb; END IF; END $$;
                    GRANT rb TO %1$s;
                    CREATE SCHEMA rb AUTHORIZATION rb;
                    SET ROLE %1$s;
                    CREATE TABLE public.hits (n int);
                    GRANT INSERT ON public.hits TO rb;
                    CREATE FUNCTION public.writer() RETURNS int LANGUAGE sql VOLATILE
                        AS 'INSERT INTO public.hits VALUES (1); SELECT 1';
                    CREATE TABLE public.shadow (x int);
                    CREATE SCHEMA evil;
                    CREATE VIEW evil.shadow AS SELECT public.writer() AS x;
                    CREATE FUNCTION public.go_evil() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN %2$s RETURN 1; END';
                    CREATE FUNCTION public.go_evil_local() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN %3$s RETURN 1; END';
                    CREATE FUNCTION public.go_evil_and_fail() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN %2$s RAISE EXCEPTION ''failing after the change''; END';
                    CREATE FUNCTION public.go_unreadable() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN PERFORM pg_catalog.set_config(''search_path'', ''évil, public'', false); RETURN 1; END';
                    CREATE TABLE public.rolepath (x int);
                    GRANT SELECT ON public.rolepath, public.shadow TO rb;
                    CREATE FUNCTION public.go_rb() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN PERFORM pg_catalog.set_config(''role'', ''rb'', false); RETURN 1; END';
                    CREATE FUNCTION public.go_none() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN PERFORM pg_catalog.set_config(''role'', ''none'', false); RETURN 1; END';
                    SET ROLE rb;
                    CREATE VIEW rb.rolepath AS SELECT public.writer() AS x;
                    """.formatted(ProxyFixture.UP_USER, EVIL.formatted("false"), EVIL.formatted("true")));
        }
        DatabaseConfig db = Listeners.db("reread", fx.pg.getPort(), "reread", ListenerConfig.DEFAULTS);
        live = Listeners.live(fx, POLICY, List.of(db));
        fe = live.start(db);
    }

    @AfterAll
    static void stop() {
        if (fe != null) fe.close();
        if (live != null) live.closeCatalogs();
    }

    @BeforeEach
    void noHits() throws Exception {
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE public.hits");
        }
    }

    static Connection upstream() throws SQLException {
        return fx.direct("reread");
    }

    static Connection agent(String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port() + "/reread?sslmode=disable"
                + (extra.isEmpty() ? "" : "&" + extra), ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    static long hits() throws SQLException {
        return fx.count("reread", "public.hits");
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Sends {@code sql}, which the policy holds for a person, approves it, and returns once it ran. */
    static void approvedWhileHeld(Connection c, String sql) throws Exception {
        Thread held = Thread.ofVirtual().start(() -> {
            try {
                exec(c, sql);
            } catch (SQLException e) {
                // a statement that fails on the server (go_evil_and_fail): the test looks at what follows
            }
        });
        fx.approvals.decide(fx.approvals.awaitPending(java.time.Duration.ofSeconds(10)).id(), "alice", true, "ok");
        held.join(10_000);
        assertThat(held.isAlive()).isFalse();
    }

    /** The objects of the last decision on {@code text}. */
    static List<String> judged(String text) {
        List<Entry> all = live.ledger.entries();
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i) instanceof Entry.DecisionEntry d && d.operation().text().equals(text)) {
                return d.classification().statements().getFirst().objects().stream().map(ObjectAccess::name).toList();
            }
        }
        return List.of();
    }

    /** The unqualified read was judged as the writing view, and refused by the rule on the writer. */
    static void deniedAsEvil(Connection c) throws SQLException {
        assertThatThrownBy(() -> exec(c, "SELECT * FROM shadow")).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(e.getMessage()).contains("the-writer");
        });
        assertThat(judged("SELECT * FROM shadow")).contains("evil.shadow");
        assertThat(hits()).isZero();
    }

    /** The unqualified read was judged as the plain table, and the server read the plain table (no row). */
    static void readsThePlainTable(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM shadow")) {
            assertThat(rs.next()).as("public.shadow is empty").isFalse();
        }
        assertThat(judged("SELECT * FROM shadow")).containsExactly("public.shadow");
        assertThat(hits()).isZero();
    }

    static void refused(Connection c, String sql, String why) {
        assertThatThrownBy(() -> exec(c, sql)).isInstanceOfSatisfying(SQLException.class, e -> {
            assertThat(e.getSQLState()).isEqualTo("42501");
            assertThat(e.getMessage()).contains(why);
        });
    }

    /**
     * Red team: an approved function or DO block set the search path to {@code evil, public} with {@code set_config};
     * Warden made only the role unknown, kept the old path, judged the unqualified read as one of the plain table
     * {@code public.shadow} and let it run, while the server read {@code evil.shadow}, whose writer inserted a row.
     */
    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void approvedCodeThatSetsTheSearchPathDoesNotLetAWritingViewPassAsARead(String mode) throws Exception {
        for (String code : List.of("SELECT public.go_evil()",
                "DO $$ BEGIN " + EVIL.formatted("false").replace("''", "'") + " END $$")) {
            try (Connection c = agent(mode)) {
                readsThePlainTable(c);
                approvedWhileHeld(c, code);
                deniedAsEvil(c);
                // The session goes on, with the path the server has.
                exec(c, "SET search_path TO public");
                readsThePlainTable(c);
            }
        }
        assertThat(hits()).isZero();
    }

    /**
     * Inside a transaction block the server's answer is what names resolve with now; whether the code used LOCAL is
     * not known, so after COMMIT the server is asked again, and after ROLLBACK the path from before the block is back.
     * (Inside the block, after the approved code, reads are judged without the catalog, which cannot see what the code
     * changed: so the block is ended before the plain table is read.)
     */
    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void approvedCodeThatSetsThePathInsideATransactionBlockIsFollowedThroughItsEnd(String mode) throws Exception {
        try (Connection c = agent(mode)) {
            c.setAutoCommit(false);
            approvedWhileHeld(c, "SELECT public.go_evil()");
            deniedAsEvil(c);
            c.rollback();
            readsThePlainTable(c);
            c.rollback();

            approvedWhileHeld(c, "SELECT public.go_evil_local()");
            deniedAsEvil(c);
            c.rollback();
            approvedWhileHeld(c, "SELECT public.go_evil_local()");
            c.commit();
            // SET LOCAL ended with the block: the server says so.
            readsThePlainTable(c);
            c.commit();

            approvedWhileHeld(c, "SELECT public.go_evil()");
            c.commit();
            // Without LOCAL it outlives the block.
            deniedAsEvil(c);
            c.rollback();
        }
        assertThat(hits()).isZero();
    }

    /**
     * A dead end: after {@code set_config} with a value computed on the server, every statement that went through the
     * path was refused until the agent sent {@code SET search_path}. The server is asked instead.
     */
    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void aComputedSearchPathNoLongerBlocksTheSession(String mode) throws Exception {
        try (Connection c = agent(mode)) {
            exec(c, "SELECT pg_catalog.set_config('search_path', pg_catalog.concat('ev', 'il, public'), false)");
            deniedAsEvil(c);
            exec(c, "SELECT pg_catalog.set_config('search_path', pg_catalog.concat('pub', 'lic'), false)");
            readsThePlainTable(c);
        }
    }

    /**
     * The role after approved code that called {@code set_config('role', …)}: every name that resolved differently by
     * role was refused for the rest of the session ({@code "$user"} might be any role); the server is asked, and the
     * name is judged as the role it has resolves it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void aRoleSetByApprovedCodeIsAskedOfTheServerInsteadOfLeftInDoubt(String mode) throws Exception {
        try (Connection c = agent(mode)) {
            approvedWhileHeld(c, "SELECT public.go_rb()");
            assertThatThrownBy(() -> exec(c, "SELECT * FROM rolepath")).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getMessage()).contains("the-writer"));
            assertThat(judged("SELECT * FROM rolepath")).contains("rb.rolepath");
            approvedWhileHeld(c, "SELECT public.go_none()");
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM rolepath")) {
                assertThat(rs.next()).isFalse();
            }
            assertThat(judged("SELECT * FROM rolepath")).containsExactly("public.rolepath");
        }
        assertThat(hits()).isZero();
    }

    /**
     * In a failed transaction the server cannot be asked: what depends on the path is refused with how to go on,
     * ROLLBACK still goes, and brings back the path from before the block.
     */
    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void aPathUnknownInAFailedTransactionIsRefusedUntilRollback(String mode) throws Exception {
        try (Connection c = agent(mode)) {
            c.setAutoCommit(false);
            approvedWhileHeld(c, "SELECT public.go_evil_and_fail()");
            if (mode.endsWith("simple")) {
                refused(c, "SELECT * FROM shadow", "end it with ROLLBACK");
            } else {
                // The server fails the Parse at once (25P02), before Warden's refusal at Execute.
                assertThatThrownBy(() -> exec(c, "SELECT * FROM shadow")).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getSQLState()).isIn("25P02", "42501"));
            }
            c.rollback();
            readsThePlainTable(c);
            c.rollback();
        }
        assertThat(hits()).isZero();
    }

    /** An answer Warden cannot read (an unquoted non-ASCII name) leaves the path unknown: refused, never guessed. */
    @Test
    void anAnswerThatCannotBeReadFailsClosed() throws Exception {
        try (Connection c = agent("")) {
            approvedWhileHeld(c, "SELECT public.go_unreadable()");
            refused(c, "SELECT * FROM shadow", "asking the server failed");
            exec(c, "SET search_path TO public");
            readsThePlainTable(c);
        }
    }

    /**
     * The client sees exactly what it would without Warden's question: nothing of the answer (no RowDescription,
     * DataRow, CommandComplete or ReadyForQuery), in the simple and the extended protocol, and in a block.
     */
    @Test
    void theClientSeesNothingOfWardensQuestion() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "reread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            heldAndApproved(s, "SELECT public.go_evil()");
            List<Frame> got = RawClient.exchange(s, query("SELECT 42 AS answer"), 1);
            assertThat(RawClient.types(got)).as("%s %s", RawClient.errors(got), judged("SELECT count(*) FROM rolepath")).isEqualTo("TDCZ");
            assertThat(new String(got.get(1).body(), java.nio.charset.StandardCharsets.UTF_8)).contains("42");
            assertThat(status(got)).isEqualTo('I');

            heldAndApproved(s, "SELECT public.go_evil()");
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("", "SELECT x FROM public.shadow", new int[0]).write(w);
            new QueryMessage.Bind("", "", new int[0], new byte[0][], new int[0]).write(w);
            w.begin('D').byte1('P').cstring("").end();
            new QueryMessage.Execute("", 0).write(w);
            w.begin('S').end();
            got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.types(got)).isEqualTo("12TCZ");

            RawClient.exchange(s, query("BEGIN"), 1);
            heldAndApproved(s, "SELECT public.go_evil()");
            got = RawClient.exchange(s, query("SELECT * FROM shadow"), 1);
            assertThat(RawClient.types(got)).isEqualTo("EZ");
            assertThat(RawClient.errors(got)).singleElement().asString().contains("the-writer");
            assertThat(status(got)).isEqualTo('E');
            got = RawClient.exchange(s, query("ROLLBACK"), 1);
            assertThat(RawClient.types(got)).isEqualTo("CZ");
            assertThat(status(got)).isEqualTo('I');
        }
        assertThat(hits()).isZero();
    }

    /**
     * Pipelined: a read sent behind the approved code, before its result, is never judged with the old path. While
     * the code is still in flight it is refused (nothing is reordered, the server is not asked behind it); when the
     * code's result came in while the read was being classified, the server is asked first, and the read is denied as
     * the writing view. Either way nothing of it runs, and the session goes on.
     */
    @Test
    void aReadPipelinedBehindApprovedCodeIsRefusedNotGuessed() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "reread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            PgWriter w = new PgWriter();
            new QueryMessage.Query("SELECT public.go_evil()").write(w);
            new QueryMessage.Query("SELECT * FROM shadow").write(w);
            Thread approve = Thread.ofVirtual().start(() -> {
                try {
                    fx.approvals.decide(fx.approvals.awaitPending(java.time.Duration.ofSeconds(10)).id(), "alice", true, "ok");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 2);
            approve.join(10_000);
            assertThat(RawClient.types(got)).endsWith("TDCZEZ");
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501")
                    .containsAnyOf("wait for its result", "the-writer");
            got = RawClient.exchange(s, query("SELECT * FROM shadow"), 1);
            assertThat(RawClient.errors(got)).singleElement().asString().contains("the-writer");
        }
        assertThat(hits()).isZero();
    }

    /**
     * A simple Query closes the unnamed portal, so Warden's question, sent as one, closed a portal the client suspended
     * in its transaction block and meant to read on from (an Execute with a row limit). Asked under names of its own
     * in the extended protocol, it leaves the portal as it was.
     */
    @Test
    void wardensQuestionLeavesASuspendedUnnamedPortalOpen() throws Exception {
        try (Socket s = RawClient.login(fe.port(), "reread", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            RawClient.exchange(s, query("BEGIN"), 1);
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("", "SELECT g FROM generate_series(1, 5) g", new int[0]).write(w);
            new QueryMessage.Bind("", "", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("", 2).write(w);
            w.begin('S').end();
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("12DDsZ");
            // Approved code through a named statement and portal: the unnamed portal stays open.
            w = new PgWriter();
            new QueryMessage.Parse("s1", "SELECT public.go_evil()", new int[0]).write(w);
            new QueryMessage.Bind("p1", "s1", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("p1", 0).write(w);
            w.begin('S').end();
            Thread approve = Thread.ofVirtual().start(() -> {
                try {
                    fx.approvals.decide(fx.approvals.awaitPending(java.time.Duration.ofSeconds(10)).id(), "alice", true, "ok");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).endsWith("DCZ");
            approve.join(10_000);
            // The path is unknown: before this statement (named: a Query of the client's own would close the unnamed
            // portal) Warden asks the server.
            w = new PgWriter();
            new QueryMessage.Parse("s3", "SELECT 1", new int[0]).write(w);
            new QueryMessage.Bind("p3", "s3", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("p3", 0).write(w);
            w.begin('S').end();
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.types(got)).isEqualTo("12DCZ");
            // The client reads on from its portal.
            w = new PgWriter();
            new QueryMessage.Execute("", 2).write(w);
            w.begin('S').end();
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("DDsZ");
            got = RawClient.exchange(s, query("SELECT * FROM shadow"), 1);
            assertThat(RawClient.errors(got)).singleElement().asString().contains("the-writer");
            RawClient.exchange(s, query("ROLLBACK"), 1);
        }
        assertThat(hits()).isZero();
    }

    static char status(List<Frame> frames) {
        return (char) frames.getLast().body()[0];
    }

    /** Sends {@code sql} over the raw socket, approves its hold and reads its answer (a notice, then its result). */
    static void heldAndApproved(Socket s, String sql) throws Exception {
        Thread approve = Thread.ofVirtual().start(() -> {
            try {
                fx.approvals.decide(fx.approvals.awaitPending(java.time.Duration.ofSeconds(10)).id(), "alice", true, "ok");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        List<Frame> got = RawClient.exchange(s, query(sql), 1);
        approve.join(10_000);
        assertThat(RawClient.types(got)).isEqualTo("NTDCZ");
    }
}
