package dev.warden.postgres.wire;

import static dev.warden.postgres.wire.RedTeamRereadTest.HIDDEN_DELETE;
import static dev.warden.postgres.wire.RawClient.query;
import static dev.warden.postgres.wire.RawClient.show;
import static dev.warden.postgres.wire.RawClient.untilReadyOrEnd;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Red-team probes of event triggers: code a superuser attached to DDL, which the server runs for the agent's allowed
 * DDL where Warden never sees it. Database {@code redevt} has an enabled event trigger on {@code ddl_command_end} that
 * moves the search path to {@code evil, public} ({@code set_config(…, false)}), or, for a table whose name holds
 * {@code lax}, turns standard_conforming_strings off. {@code evil.shadow} is a view that calls {@code public.writer()},
 * which inserts into {@code public.hits}; {@code public.shadow} is a plain table. The policy allows reads, settings,
 * transaction control and DDL, and denies {@code evil.*}. Database {@code redevtnone} has the same objects and no
 * event trigger. Every probe checks on a direct connection that the writer never ran and the victims are all there.
 */
class RedTeamEventTriggerTest {
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
              - name: ddl
                match: {kind: [ddl]}
                action: allow
              - name: the-writer
                match: {objects: ["evil.*"]}
                action: deny
                reason: this view runs the writer
            """;

    static final String SCHEMA = """
            SET ROLE %1$s;
            CREATE TABLE public.victim (n int);
            CREATE TABLE public.hits (n int);
            CREATE FUNCTION public.writer() RETURNS int LANGUAGE sql VOLATILE
                AS 'INSERT INTO public.hits VALUES (1); SELECT 1';
            CREATE TABLE public.shadow (x int);
            CREATE SCHEMA evil;
            CREATE VIEW evil.shadow AS SELECT public.writer() AS x;
            RESET ROLE;
            """.formatted(ProxyFixture.UP_USER);

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        for (String db : List.of("redevt", "redevtnone")) {
            fx.freshDatabase(db);
            try (Connection c = fx.direct(db); Statement s = c.createStatement()) {
                s.execute(SCHEMA);
            }
        }
        // Last, so that it fires for none of the above. Only a superuser may create an event trigger.
        try (Connection c = fx.direct("redevt"); Statement s = c.createStatement()) {
            s.execute("""
                    CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        IF EXISTS (SELECT FROM pg_catalog.pg_event_trigger_ddl_commands() WHERE object_identity LIKE '%lax%') THEN
                            PERFORM pg_catalog.set_config('standard_conforming_strings', 'off', false);
                        ELSE
                            PERFORM pg_catalog.set_config('search_path', 'evil, public', false);
                        END IF;
                    END $$;
                    CREATE EVENT TRIGGER moves ON ddl_command_end EXECUTE FUNCTION public.on_ddl();
                    """);
        }
        DatabaseConfig db = Listeners.db("redevt", fx.pg.getPort(), "redevt", ListenerConfig.DEFAULTS);
        DatabaseConfig none = Listeners.db("redevtnone", fx.pg.getPort(), "redevtnone", ListenerConfig.DEFAULTS);
        live = Listeners.live(fx, POLICY, List.of(db, none));
        fe = live.start(db, none);
    }

    @AfterAll
    static void stop() {
        if (fe != null) fe.close();
        if (live != null) live.closeCatalogs();
    }

    @BeforeEach
    void clean() throws Exception {
        for (String db : List.of("redevt", "redevtnone")) {
            try (Connection c = fx.direct(db); Statement s = c.createStatement()) {
                s.execute("TRUNCATE public.victim, public.hits; INSERT INTO public.victim VALUES (1), (2), (3)");
            }
        }
    }

    static long count(String db, String table) throws SQLException {
        return fx.count(db, table);
    }

    static byte[] queries(String... sqls) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String sql : sqls) b.writeBytes(query(sql));
        return b.toByteArray();
    }

    static Socket login(String db) throws java.io.IOException {
        return RawClient.login(fe.port(), db, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    /**
     * Red team: the agent's allowed CREATE TABLE fired the event trigger, which moved the search path to
     * {@code evil, public}; Warden went on judging with the old path, so {@code SELECT * FROM shadow} was judged a
     * read of the plain table {@code public.shadow} while the server read the view {@code evil.shadow}, which ran the
     * writer. Warden asks the server after a statement that may fire an event trigger, as after approved code.
     */
    @Test
    void anEventTriggerMovedTheSearchPathAfterAnAllowedCreateTable() throws Exception {
        try (Socket s = login("redevt")) {
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
            s.getOutputStream().write(query("CREATE TABLE made_1 (a int)"));
            List<Frame> got = untilReadyOrEnd(r);
            assertThat(RawClient.errors(got)).as(show(got)).isEmpty();
            s.getOutputStream().write(query("SELECT * FROM shadow"));
            got = untilReadyOrEnd(r);
            assertThat(count("redevt", "public.hits")).as(show(got)).isZero();
            assertThat(RawClient.errors(got)).as(show(got)).singleElement().satisfies(e -> assertThat(e).startsWith("42501"));
        }
    }

    /**
     * The same, the read pipelined behind the DDL: refused, as Warden cannot ask the server before it (it was already,
     * for another reason: the catalog has not seen the new table yet, so a read of the database's objects is unproven).
     */
    @Test
    void anEventTriggerMovedTheSearchPathUnderAPipelinedRead() throws Exception {
        try (Socket s = login("redevt")) {
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
            s.getOutputStream().write(queries("CREATE TABLE made_2 (a int)", "SELECT * FROM shadow"));
            List<Frame> got = untilReadyOrEnd(r);
            got.addAll(untilReadyOrEnd(r));
            assertThat(RawClient.errors(got)).as(show(got)).singleElement().satisfies(e -> assertThat(e).startsWith("42501"));
        }
        assertThat(count("redevt", "public.hits")).isZero();
    }

    /**
     * Red team: the event trigger turned standard_conforming_strings off. Warden ends the session at the server's
     * report of it, but a DELETE the agent pipelined behind the DDL, inside what Warden's parser read as one string
     * literal of a SELECT, had already gone upstream, and the server ran it. Text behind a statement that may fire
     * an event trigger is refused until its ReadyForQuery.
     */
    @Test
    void anEventTriggerTurnedStandardConformingStringsOffUnderPipelinedText() throws Exception {
        try (Socket s = login("redevt")) {
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
            s.getOutputStream().write(queries("CREATE TABLE lax_1 (a int)", HIDDEN_DELETE));
            List<Frame> got = untilReadyOrEnd(r);
            got.addAll(untilReadyOrEnd(r));
            assertThat(count("redevt", "public.victim")).as(show(got)).isEqualTo(3);
            RedTeamRereadTest.endedReadingDifferently(got);
        }
    }

    /**
     * Red team: in one text the server cannot be asked between statements. A temporary table is no DDL to the policy
     * (it is the session's own), so nothing after it was in doubt: the read behind it in the same text was judged with
     * the path from before the event trigger moved it. A statement after one that may fire an event trigger is
     * {@code unknown}, as after unseen code.
     */
    @Test
    void anEventTriggerMovedTheSearchPathWithinOneText() throws Exception {
        try (Socket s = login("redevt")) {
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
            s.getOutputStream().write(query("CREATE TEMP TABLE made_4 (a int); SELECT * FROM shadow"));
            List<Frame> got = untilReadyOrEnd(r);
            assertThat(count("redevt", "public.hits")).as(show(got)).isZero();
            assertThat(RawClient.errors(got)).as(show(got)).singleElement().satisfies(e -> assertThat(e).startsWith("42501"));
        }
    }

    /** Without an enabled event trigger nothing changes: text pipelined behind DDL runs, and no question is asked. */
    @Test
    void withoutEventTriggersTextPipelinedBehindDdlRuns() throws Exception {
        try (Socket s = login("redevtnone")) {
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
            s.getOutputStream().write(queries("CREATE TABLE made_3 (a int)", "SELECT 1"));
            List<Frame> got = untilReadyOrEnd(r);
            got.addAll(untilReadyOrEnd(r));
            assertThat(RawClient.errors(got)).as(show(got)).isEmpty();
        }
    }

    /**
     * pgjdbc sends everything through the extended protocol (Parse, Bind, Execute, Sync): the DDL that fires the
     * trigger and the read after it take the same way as a simple Query, and the writer never runs; the connection
     * stays usable (a read written with its schema runs).
     */
    @Test
    void anEventTriggerMovedTheSearchPathUnderPgjdbc() throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + fe.port() + "/redevt?sslmode=disable&assumeMinServerVersion=9.0";
        try (Connection c = java.sql.DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
             Statement st = c.createStatement()) {
            st.execute("CREATE TABLE made_jdbc (a int)");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> st.executeQuery("SELECT * FROM shadow"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM public.victim")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(3);
            }
        }
        assertThat(count("redevt", "public.hits")).isZero();
    }
}
