package dev.warden.postgres.wire;

import static dev.warden.postgres.wire.RawClient.query;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Red-team probes of how Warden follows {@code SET SESSION AUTHORIZATION}, {@code RESET SESSION AUTHORIZATION} and
 * what undoes them (rollbacks, savepoints, {@code SET ROLE}, {@code DISCARD ALL}, {@code set_config}), live: the
 * upstream user is the embedded server's superuser {@code postgres}, the only kind of user that may become another
 * role so.
 *
 * <p>Database {@code redauth}: roles {@code alice}, {@code bob} (which alice may become) and {@code carol}, each with a
 * schema of its name holding a view {@code t} that calls {@code public.writer()}, which inserts into
 * {@code public.hits}; {@code public.t} is a plain table with one row (7). The search path is the default
 * {@code "$user", public}, so the unqualified {@code SELECT * FROM t} reads the view of the role the session acts as,
 * or {@code public.t} for {@code postgres}, which has no schema. Database {@code redauthrole} is the same, with
 * {@code ALTER DATABASE … SET role = carol}: its sessions start acting as carol. The policy allows reads, settings,
 * transaction control and role changes, and denies whatever touches the writing views or calls the writer.
 *
 * <p>Every probe states what Warden must answer to each statement (a read of {@code public.t}, a denial, or
 * anything), and every probe checks on a direct connection that the writer never ran: whatever Warden decides, the
 * server must not read a writing view while Warden judged {@code public.t}.
 */
class RedTeamSessionAuthorizationTest {
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
              - name: role-changes
                match: {kind: [dcl], flags: [privilege]}
                action: allow
              - name: the-writers
                match: {objects: ["alice.*", "bob.*", "carol.*"]}
                action: deny
                reason: these views run the writer
              - name: the-writer
                match: {functions: ["public.writer"]}
                action: deny
                reason: the writer
            """;

    static final String SCHEMA = """
            CREATE TABLE public.hits (n int);
            GRANT SELECT, INSERT ON public.hits TO PUBLIC;
            CREATE FUNCTION public.writer() RETURNS int LANGUAGE sql VOLATILE
                AS 'INSERT INTO public.hits VALUES (1); SELECT 1';
            CREATE TABLE public.t (x int);
            INSERT INTO public.t VALUES (7);
            GRANT SELECT ON public.t TO PUBLIC;
            CREATE SCHEMA alice AUTHORIZATION alice;
            CREATE VIEW alice.t AS SELECT public.writer() AS x;
            GRANT SELECT ON alice.t TO PUBLIC;
            CREATE SCHEMA bob AUTHORIZATION bob;
            CREATE VIEW bob.t AS SELECT public.writer() AS x;
            GRANT SELECT ON bob.t TO PUBLIC;
            CREATE SCHEMA carol AUTHORIZATION carol;
            CREATE VIEW carol.t AS SELECT public.writer() AS x;
            GRANT SELECT ON carol.t TO PUBLIC;
            """;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("""
                    DO $$ BEGIN
                        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'alice') THEN CREATE ROLE alice; END IF;
                        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bob') THEN CREATE ROLE bob; END IF;
                        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'carol') THEN CREATE ROLE carol; END IF;
                    END $$;
                    GRANT bob TO alice;
                    """);
        }
        for (String db : List.of("redauth", "redauthrole")) {
            fx.freshDatabase(db);
            try (Connection c = fx.direct(db); Statement s = c.createStatement()) {
                s.execute(SCHEMA);
            }
        }
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE redauthrole SET role = 'carol'");
        }
        DatabaseConfig db = Listeners.superuserDb("redauth", fx.pg.getPort(), "redauth", ListenerConfig.DEFAULTS);
        DatabaseConfig role = Listeners.superuserDb("redauthrole", fx.pg.getPort(), "redauthrole", ListenerConfig.DEFAULTS);
        live = Listeners.live(fx, POLICY, List.of(db, role));
        fe = live.start(db, role);
    }

    @AfterAll
    static void stop() {
        if (fe != null) fe.close();
        if (live != null) live.closeCatalogs();
    }

    @BeforeEach
    void noHits() throws Exception {
        for (String db : List.of("redauth", "redauthrole")) {
            try (Connection c = fx.direct(db); Statement s = c.createStatement()) {
                // SET ROLE NONE: sessions of redauthrole start as carol.
                s.execute("SET ROLE NONE; TRUNCATE public.hits");
            }
        }
    }

    static long hits(String db) throws SQLException {
        return fx.count(db, "public.hits");
    }

    // ---- what Warden must answer

    /** What a statement must get: {@code READ} the row of public.t, {@code DENIED} Warden's 42501, {@code OK} no error. */
    enum Expect { READ, DENIED, OK, ANY }

    record Step(String text, Expect expect) {}

    static Step read(String text) {
        return new Step(text, Expect.READ);
    }

    static Step denied(String text) {
        return new Step(text, Expect.DENIED);
    }

    static Step ok(String text) {
        return new Step(text, Expect.OK);
    }

    static Step any(String text) {
        return new Step(text, Expect.ANY);
    }

    static final String T = "SELECT * FROM t";

    /** What the client got for one unit: its errors (code and message) and the values of its rows. */
    record Outcome(List<String> errors, List<String> values) {
        static Outcome of(List<Frame> frames) throws IOException {
            List<String> values = new ArrayList<>();
            for (Frame f : frames) {
                if (f.type() != 'D') continue;
                PgReader r = new PgReader(f.body());
                int n = r.int16();
                for (int i = 0; i < n; i++) {
                    int len = r.int32();
                    values.add(len < 0 ? null : new String(r.bytes(len), StandardCharsets.UTF_8));
                }
            }
            return new Outcome(RawClient.errors(frames), values);
        }

        boolean meets(Expect e) {
            return switch (e) {
                case READ -> errors.isEmpty() && values.equals(List.of("7"));
                case DENIED -> errors.size() == 1 && errors.getFirst().startsWith("42501 warden:");
                case OK -> errors.isEmpty();
                case ANY -> true;
            };
        }

        @Override
        public String toString() {
            return errors.isEmpty() ? "rows " + values : String.join(" / ", errors);
        }
    }

    static Socket login(String db) throws IOException {
        return RawClient.login(fe.port(), db, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    /**
     * Runs each step as one Query on a new session of {@code db}, then checks that every answer was the one expected
     * and that the writer never ran.
     */
    static void probe(String db, Step... steps) throws Exception {
        StringBuilder log = new StringBuilder(db + ":");
        List<String> wrong = new ArrayList<>();
        try (Socket s = login(db)) {
            for (Step step : steps) {
                Outcome o = Outcome.of(RawClient.exchange(s, query(step.text), 1));
                log.append("\n  ").append(step.text).append(" -> ").append(o);
                if (!o.meets(step.expect)) wrong.add(step.text + ": expected " + step.expect + ", got " + o);
            }
        }
        System.err.println("AUTH " + log);
        assertThat(hits(db)).as("the writer ran: " + log).isZero();
        assertThat(wrong).as(log.toString()).isEmpty();
    }

    // ---- the set-up

    /** The guard is armed: acting as alice, bob or carol, the unqualified read does run the writer. */
    @Test
    void theWritingViewsRunTheWriterForTheirRoles() throws Exception {
        try (Connection c = fx.direct("redauth"); Statement s = c.createStatement()) {
            for (String role : List.of("alice", "bob", "carol")) {
                s.execute("SET SESSION AUTHORIZATION " + role);
                s.execute(T);
                s.execute("RESET SESSION AUTHORIZATION");
            }
            try (ResultSet rs = s.executeQuery(T)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(7);
            }
        }
        assertThat(hits("redauth")).isEqualTo(3);
        try (Connection c = fx.direct("redauthrole"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_user, session_user")) {
            rs.next();
            assertThat(rs.getString(1) + " " + rs.getString(2)).isEqualTo("carol postgres");
        }
    }

    // ---- one statement per Query

    @Test
    void setAndResetSessionAuthorization() throws Exception {
        probe("redauth", read(T), ok("SET SESSION AUTHORIZATION alice"), denied(T), ok("RESET SESSION AUTHORIZATION"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION 'alice'"), denied(T), ok("SET SESSION AUTHORIZATION DEFAULT"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), denied(T), ok("SET SESSION AUTHORIZATION postgres"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION carol"), denied(T), ok("SET SESSION AUTHORIZATION alice"), denied(T),
                ok("DISCARD ALL"), read(T));
    }

    @Test
    void rollbacksAfterSessionAuthorization() throws Exception {
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), ok("ROLLBACK"), read(T));
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), denied(T), ok("ROLLBACK"), read(T));
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), any("SELECT 1/0"), ok("COMMIT"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), ok("BEGIN"), ok("RESET SESSION AUTHORIZATION"), read(T),
                ok("ROLLBACK"), denied(T));
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), ok("COMMIT"), denied(T));
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), ok("COMMIT AND CHAIN"), denied(T), ok("ROLLBACK"),
                denied(T));
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), ok("ROLLBACK AND CHAIN"), read(T), ok("COMMIT"), read(T));
        probe("redauth", ok("BEGIN"), ok("SET LOCAL SESSION AUTHORIZATION alice"), denied(T), ok("ROLLBACK"), read(T));
        probe("redauth", ok("BEGIN"), ok("SET LOCAL SESSION AUTHORIZATION alice"), denied(T));
        probe("redauth", ok("BEGIN"), ok("SET LOCAL SESSION AUTHORIZATION alice"), ok("COMMIT"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), ok("BEGIN"), ok("SET LOCAL SESSION AUTHORIZATION carol"),
                denied(T), ok("COMMIT"), denied(T), ok("RESET SESSION AUTHORIZATION"), read(T));
    }

    @Test
    void savepointsAroundSessionAuthorization() throws Exception {
        probe("redauth", ok("BEGIN"), ok("SAVEPOINT a"), ok("SET SESSION AUTHORIZATION alice"), ok("ROLLBACK TO SAVEPOINT a"),
                read(T), ok("COMMIT"), read(T));
        probe("redauth", ok("BEGIN"), ok("SAVEPOINT a"), ok("SET SESSION AUTHORIZATION alice"), denied(T),
                ok("ROLLBACK TO SAVEPOINT a"), read(T), ok("COMMIT"), read(T));
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), ok("SAVEPOINT a"), ok("RESET SESSION AUTHORIZATION"),
                read(T), ok("ROLLBACK TO SAVEPOINT a"), denied(T), ok("ROLLBACK"), read(T));
        probe("redauth", ok("BEGIN"), ok("SAVEPOINT a"), ok("SET SESSION AUTHORIZATION alice"), ok("RELEASE SAVEPOINT a"),
                ok("COMMIT"), denied(T), ok("RESET SESSION AUTHORIZATION"), read(T));
        probe("redauth", ok("SET ROLE bob"), ok("BEGIN"), ok("SAVEPOINT a"), ok("SET SESSION AUTHORIZATION alice"),
                ok("SAVEPOINT b"), ok("SET ROLE bob"), ok("ROLLBACK TO SAVEPOINT a"), denied(T), ok("ROLLBACK"), denied(T),
                ok("RESET ROLE"), read(T));
    }

    @Test
    void setRoleAfterSessionAuthorization() throws Exception {
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), ok("SET ROLE bob"), denied(T), ok("RESET ROLE"), denied(T),
                ok("SET ROLE bob"), ok("SET ROLE NONE"), denied(T), ok("RESET SESSION AUTHORIZATION"), read(T));
        // alice is no member of carol: the server refuses, and the session stays alice.
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), any("SET ROLE carol"), denied(T));
        probe("redauth", ok("SET ROLE bob"), denied(T), ok("SET SESSION AUTHORIZATION alice"), denied(T),
                ok("RESET SESSION AUTHORIZATION"), read(T));
        // The rollback brings back SET ROLE bob from before the block.
        probe("redauth", ok("SET ROLE bob"), ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), ok("ROLLBACK"), denied(T),
                ok("RESET ROLE"), read(T));
        probe("redauth", ok("SET ROLE bob"), ok("BEGIN"), ok("SET LOCAL SESSION AUTHORIZATION alice"), ok("COMMIT"), denied(T),
                ok("RESET ROLE"), read(T));
        probe("redauth", ok("BEGIN"), ok("SET ROLE bob"), ok("SET SESSION AUTHORIZATION alice"), ok("ROLLBACK"), read(T));
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), ok("SET LOCAL ROLE bob"), denied(T), ok("COMMIT"),
                read(T));
        probe("redauth", ok("BEGIN"), ok("SET SESSION AUTHORIZATION alice"), ok("SET LOCAL ROLE bob"), ok("COMMIT"), denied(T),
                ok("SET ROLE bob"), denied(T), ok("RESET SESSION AUTHORIZATION"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), ok("SET ROLE bob"), ok("DISCARD ALL"), read(T));
    }

    @Test
    void setConfigOfSessionAuthorization() throws Exception {
        probe("redauth", ok("SELECT pg_catalog.set_config('session_authorization', 'alice', false)"), denied(T),
                ok("RESET SESSION AUTHORIZATION"), read(T));
        probe("redauth", ok("SELECT set_config('session_authorization', 'alice', false)"), denied(T),
                ok("SELECT set_config('session_authorization', 'postgres', false)"), read(T));
        probe("redauth", ok("BEGIN"), ok("SELECT set_config('session_authorization', 'alice', true)"), denied(T), ok("ROLLBACK"),
                read(T));
        probe("redauth", ok("BEGIN"), ok("SELECT set_config('session_authorization', 'alice', true)"), ok("COMMIT"), read(T));
        probe("redauth", ok("BEGIN"), ok("SELECT set_config('session_authorization', 'alice', false)"), ok("COMMIT"), denied(T));
        probe("redauth", ok("SET ROLE bob"), ok("SELECT set_config('session_authorization', 'alice', false)"), denied(T),
                ok("SELECT set_config('session_authorization', 'postgres', false)"), read(T));
        probe("redauth", any("SELECT set_config('session_' || 'authorization', 'alice', false)"), any(T));
    }

    // ---- several statements in one Query text

    @Test
    void sessionAuthorizationAndTheReadInOneText() throws Exception {
        probe("redauth", denied("SET SESSION AUTHORIZATION alice; SELECT * FROM t"), read(T));
        probe("redauth", denied("SET SESSION AUTHORIZATION alice; SET ROLE bob; SELECT * FROM t"), read(T));
        probe("redauth", denied("SELECT set_config('session_authorization', 'alice', false); SELECT * FROM t"), read(T));
        probe("redauth", any("BEGIN; SET SESSION AUTHORIZATION alice; ROLLBACK; SELECT * FROM t"), read(T));
        probe("redauth", any("SET SESSION AUTHORIZATION alice; RESET SESSION AUTHORIZATION; SELECT * FROM t"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), any("RESET SESSION AUTHORIZATION; SELECT * FROM t"), any(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), any("SET ROLE bob; RESET ROLE; SELECT * FROM t"), any(T));
        probe("redauth", ok("SET ROLE bob"), any("SET SESSION AUTHORIZATION alice; RESET ROLE; SELECT * FROM t"), any(T));
        probe("redauth", ok("SET ROLE bob"), any("BEGIN; SET SESSION AUTHORIZATION alice; ROLLBACK; SELECT * FROM t"), any(T));
        probe("redauth", any("SAVEPOINT a; SET SESSION AUTHORIZATION alice; ROLLBACK TO SAVEPOINT a; SELECT * FROM t"), read(T));
        probe("redauth", any("BEGIN; SAVEPOINT a; SET SESSION AUTHORIZATION alice; ROLLBACK TO SAVEPOINT a; SELECT * FROM t"),
                any("COMMIT"), read(T));
        probe("redauth", any("SET SESSION AUTHORIZATION alice; DISCARD ALL; SELECT * FROM t"), read(T));
    }

    /** A text that changes the session authorization and runs: what follows it is judged with its effect. */
    @Test
    void aTextThatChangesTheSessionAuthorizationIsFollowed() throws Exception {
        probe("redauth", ok("SET SESSION AUTHORIZATION alice; SELECT 1"), denied(T));
        probe("redauth", ok("SELECT 1; SET SESSION AUTHORIZATION alice"), denied(T));
        probe("redauth", ok("BEGIN; SET SESSION AUTHORIZATION alice; COMMIT"), denied(T));
        probe("redauth", ok("BEGIN; SET SESSION AUTHORIZATION alice; ROLLBACK"), read(T));
        probe("redauth", any("SET SESSION AUTHORIZATION alice; SELECT 1/0"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice; SET ROLE bob"), denied(T), ok("RESET ROLE"), denied(T));
        probe("redauth", ok("SET ROLE bob; SET SESSION AUTHORIZATION alice; RESET SESSION AUTHORIZATION"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice"), ok("SET ROLE bob; RESET SESSION AUTHORIZATION"), read(T));
        probe("redauth", ok("SET SESSION AUTHORIZATION alice; SELECT set_config('session_authorization', 'postgres', false)"),
                read(T));
        probe("redauth", ok("BEGIN; SAVEPOINT a; SET SESSION AUTHORIZATION alice; ROLLBACK TO SAVEPOINT a"), read(T),
                ok("COMMIT"), read(T));
        probe("redauth", ok("BEGIN; SET SESSION AUTHORIZATION alice; SAVEPOINT a; RESET SESSION AUTHORIZATION; ROLLBACK TO a"),
                denied(T), ok("ROLLBACK"), read(T));
    }

    /**
     * False refusal: a set_config of the role or session authorization followed by anything in the same text was
     * refused as "this text changes the search path and then ends or rolls back a transaction … before using it",
     * though it changes neither the path nor the transaction: the check that compares Warden's linear reading of the
     * text with the tracked path took an unknown role for an unknown path. PostgreSQL runs these harmlessly; a read
     * whose name depends on the role after it is still unproven.
     */
    @Test
    void aSetConfigOfTheRoleFollowedByAnyStatementInOneTextWasRefusedAsAChangeOfThePath() throws Exception {
        probe("redauth", ok("SELECT set_config('session_authorization', 'alice', false); SELECT 1"), denied(T),
                ok("RESET SESSION AUTHORIZATION"), read(T));
        probe("redauth", ok("SELECT set_config('role', 'bob', false); SELECT 1"), denied(T), ok("RESET ROLE"), read(T));
        probe("redauth", ok("BEGIN; SELECT set_config('session_authorization', 'alice', true); SELECT 1; COMMIT"), read(T));
        probe("redauth", ok("SET ROLE bob; SELECT set_config('session_authorization', 'alice', false); SELECT 2"), denied(T),
                ok("RESET SESSION AUTHORIZATION"), read(T));
    }

    // ---- the extended protocol

    static void parse(PgWriter w, String name, String sql) {
        new QueryMessage.Parse(name, sql, new int[0]).write(w);
    }

    static void bindExecute(PgWriter w, String statement, String portal) {
        new QueryMessage.Bind(portal, statement, new int[0], new byte[0][], new int[0]).write(w);
        new QueryMessage.Execute(portal, 0).write(w);
    }

    static void run(PgWriter w, String sql) {
        parse(w, "", sql);
        bindExecute(w, "", "");
    }

    /** Sends what {@code w} holds, reads {@code units} ReadyForQuery, and returns the outcome of each unit. */
    static List<Outcome> exchange(Socket s, PgWriter w, int units) throws IOException {
        List<Frame> got = RawClient.exchange(s, w.toByteArray(), units);
        List<Outcome> out = new ArrayList<>();
        List<Frame> unit = new ArrayList<>();
        for (Frame f : got) {
            unit.add(f);
            if (f.type() != 'Z') continue;
            out.add(Outcome.of(unit));
            unit = new ArrayList<>();
        }
        return out;
    }

    static Outcome simple(Socket s, String sql) throws IOException {
        return Outcome.of(RawClient.exchange(s, query(sql), 1));
    }

    @Test
    void pipelinedInTheExtendedProtocol() throws Exception {
        String[][] units = {
                // One unit: the read runs after the change, in the same implicit transaction.
                {"SET SESSION AUTHORIZATION alice", T},
                {"SELECT set_config('session_authorization', 'alice', false)", T},
                {"BEGIN", "SET SESSION AUTHORIZATION alice", "ROLLBACK", T},
                {"SET ROLE bob", "SET SESSION AUTHORIZATION alice", "RESET ROLE", T},
        };
        for (String[] unit : units) {
            try (Socket s = login("redauth")) {
                PgWriter w = new PgWriter();
                for (String sql : unit) run(w, sql);
                QueryMessage.sync(w);
                List<Outcome> got = exchange(s, w, 1);
                System.err.println("AUTH " + String.join(" | ", unit) + " -> " + got);
                // Afterwards the session is whatever the server made of it: a read Warden allows is public.t's.
                Outcome after = simple(s, T);
                assertThat(after.meets(Expect.READ) || after.meets(Expect.DENIED)).as(after.toString()).isTrue();
            }
            assertThat(hits("redauth")).as(String.join(" | ", unit)).isZero();
        }
        // The first unit alone: the read behind the change is denied, the change ran (the server answered it).
        try (Socket s = login("redauth")) {
            PgWriter w = new PgWriter();
            run(w, "SET SESSION AUTHORIZATION alice");
            run(w, T);
            QueryMessage.sync(w);
            Outcome o = exchange(s, w, 1).getFirst();
            assertThat(o.meets(Expect.DENIED)).as(o.toString()).isTrue();
        }
        // Two units in one write: the second is sent while the first is still in flight.
        try (Socket s = login("redauth")) {
            PgWriter w = new PgWriter();
            run(w, "SET SESSION AUTHORIZATION alice");
            QueryMessage.sync(w);
            run(w, T);
            QueryMessage.sync(w);
            List<Outcome> got = exchange(s, w, 2);
            assertThat(got.get(0).meets(Expect.OK)).as(got.toString()).isTrue();
            assertThat(got.get(1).meets(Expect.DENIED)).as(got.toString()).isTrue();
            assertThat(simple(s, T).meets(Expect.DENIED)).isTrue();
            assertThat(simple(s, "RESET SESSION AUTHORIZATION").meets(Expect.OK)).isTrue();
            assertThat(simple(s, T).meets(Expect.READ)).isTrue();
        }
        assertThat(hits("redauth")).isZero();
    }

    /**
     * A statement prepared (protocol-level or with PREPARE) while the session acts as postgres is analysed again by
     * the server when it runs as alice: Warden must judge it under alice.
     */
    @Test
    void aStatementPreparedBeforeTheChangeRunsAfterIt() throws Exception {
        try (Socket s = login("redauth")) {
            PgWriter w = new PgWriter();
            parse(w, "s1", T);
            QueryMessage.sync(w);
            assertThat(exchange(s, w, 1).getFirst().meets(Expect.OK)).isTrue();
            w = new PgWriter();
            bindExecute(w, "s1", "");
            QueryMessage.sync(w);
            Outcome before = exchange(s, w, 1).getFirst();
            assertThat(before.meets(Expect.READ)).as(before.toString()).isTrue();
            assertThat(simple(s, "SET SESSION AUTHORIZATION alice").meets(Expect.OK)).isTrue();
            w = new PgWriter();
            bindExecute(w, "s1", "");
            QueryMessage.sync(w);
            Outcome after = exchange(s, w, 1).getFirst();
            assertThat(after.meets(Expect.DENIED)).as(after.toString()).isTrue();
            // In one unit: the change, then the statement parsed before it bound and run.
            assertThat(simple(s, "RESET SESSION AUTHORIZATION").meets(Expect.OK)).isTrue();
            w = new PgWriter();
            run(w, "SET SESSION AUTHORIZATION alice");
            bindExecute(w, "s1", "p1");
            QueryMessage.sync(w);
            Outcome unit = exchange(s, w, 1).getFirst();
            assertThat(unit.meets(Expect.DENIED)).as(unit.toString()).isTrue();
            // Bound before the change, run after it: the portal's plan is the one made at Bind (public.t).
            w = new PgWriter();
            new QueryMessage.Bind("p2", "s1", new int[0], new byte[0][], new int[0]).write(w);
            run(w, "SET SESSION AUTHORIZATION alice");
            new QueryMessage.Execute("p2", 0).write(w);
            QueryMessage.sync(w);
            Outcome portal = exchange(s, w, 1).getFirst();
            assertThat(portal.meets(Expect.READ) || portal.meets(Expect.DENIED)).as(portal.toString()).isTrue();
        }
        assertThat(hits("redauth")).isZero();
        probe("redauth", ok("PREPARE p AS SELECT * FROM t"), read("EXECUTE p"), ok("SET SESSION AUTHORIZATION alice"),
                denied("EXECUTE p"), ok("RESET SESSION AUTHORIZATION"), read("EXECUTE p"), ok("BEGIN"),
                ok("SET SESSION AUTHORIZATION alice"), denied("EXECUTE p"), ok("ROLLBACK"), read("EXECUTE p"));
        probe("redauth", ok("BEGIN"), ok("DECLARE c CURSOR FOR SELECT * FROM t"), ok("SET SESSION AUTHORIZATION alice"),
                read("FETCH c"), denied(T), ok("ROLLBACK"));
    }

    /** The change itself parsed as a named statement in one unit and run in later ones, again and again. */
    @Test
    void aNamedStatementThatChangesTheSessionAuthorizationRunsLater() throws Exception {
        try (Socket s = login("redauth")) {
            PgWriter w = new PgWriter();
            parse(w, "sa", "SET SESSION AUTHORIZATION alice");
            parse(w, "back", "RESET SESSION AUTHORIZATION");
            parse(w, "cfg", "SELECT pg_catalog.set_config('session_authorization', $1, false)");
            QueryMessage.sync(w);
            assertThat(exchange(s, w, 1).getFirst().meets(Expect.OK)).isTrue();
            assertThat(simple(s, T).meets(Expect.READ)).isTrue();
            for (int i = 0; i < 2; i++) {
                w = new PgWriter();
                bindExecute(w, "sa", "");
                QueryMessage.sync(w);
                assertThat(exchange(s, w, 1).getFirst().meets(Expect.OK)).isTrue();
                Outcome o = simple(s, T);
                assertThat(o.meets(Expect.DENIED)).as(o.toString()).isTrue();
                w = new PgWriter();
                bindExecute(w, "back", "");
                QueryMessage.sync(w);
                assertThat(exchange(s, w, 1).getFirst().meets(Expect.OK)).isTrue();
                o = simple(s, T);
                assertThat(o.meets(Expect.READ)).as(o.toString()).isTrue();
            }
            // The role as a parameter: whatever Warden decides for it, the read after it is not public.t's unless it is.
            w = new PgWriter();
            new QueryMessage.Bind("", "cfg", new int[0], new byte[][] {"alice".getBytes(StandardCharsets.UTF_8)},
                    new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            Outcome cfg = exchange(s, w, 1).getFirst();
            Outcome o = simple(s, T);
            System.err.println("AUTH set_config with a parameter -> " + cfg + ", then " + o);
            assertThat(o.meets(Expect.DENIED) || cfg.meets(Expect.DENIED) && o.meets(Expect.READ)).as(cfg + " " + o).isTrue();
            // Other reads of the view than SELECT.
            simple(s, "SET SESSION AUTHORIZATION alice");
            for (String read : List.of("TABLE t", "COPY (SELECT * FROM t) TO STDOUT", "EXPLAIN ANALYZE SELECT * FROM t",
                    "WITH x AS (SELECT * FROM t) SELECT * FROM x", "SELECT (SELECT x FROM t)")) {
                Outcome r = simple(s, read);
                assertThat(r.meets(Expect.DENIED)).as(read + ": " + r).isTrue();
            }
        }
        assertThat(hits("redauth")).isZero();
    }

    /** pgjdbc: server-prepared statements (prepareThreshold=1) reused across the change. */
    @Test
    void pgjdbcPreparedStatementsAcrossTheChange() throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + fe.port() + "/redauth?sslmode=disable&assumeMinServerVersion=9.0"
                + "&prepareThreshold=1";
        try (Connection c = DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
             PreparedStatement ps = c.prepareStatement(T); Statement st = c.createStatement()) {
            for (int i = 0; i < 3; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(7);
                }
            }
            st.execute("SET SESSION AUTHORIZATION alice");
            org.assertj.core.api.Assertions.assertThatThrownBy(ps::executeQuery).isInstanceOf(SQLException.class)
                    .hasMessageContaining("warden");
            st.execute("RESET SESSION AUTHORIZATION");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(7);
            }
            c.setAutoCommit(false);
            st.execute("SET SESSION AUTHORIZATION alice");
            org.assertj.core.api.Assertions.assertThatThrownBy(ps::executeQuery).isInstanceOf(SQLException.class)
                    .hasMessageContaining("warden");
            c.rollback();
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(7);
            }
            c.rollback();
        }
        assertThat(hits("redauth")).isZero();
    }

    // ---- a database whose sessions start as another role (ALTER DATABASE … SET role)

    @Test
    void aSessionThatStartsAsAnotherRole() throws Exception {
        probe("redauthrole", denied(T), ok("SET ROLE NONE"), read(T), ok("RESET ROLE"), denied(T));
        probe("redauthrole", ok("SET SESSION AUTHORIZATION postgres"), read(T), ok("RESET ROLE"), denied(T));
        probe("redauthrole", ok("SET SESSION AUTHORIZATION alice"), denied(T), ok("RESET ROLE"), denied(T));
        probe("redauthrole", ok("SET SESSION AUTHORIZATION alice"), ok("DISCARD ALL"), denied(T));
        probe("redauthrole", ok("BEGIN"), ok("SET SESSION AUTHORIZATION postgres"), read(T), ok("ROLLBACK"), denied(T));
    }

    /**
     * Red team: in a database whose sessions start as carol ({@code ALTER DATABASE … SET role}), RESET SESSION
     * AUTHORIZATION (or SET SESSION AUTHORIZATION DEFAULT) was followed as "back to the upstream user, no role", so
     * Warden judged the unqualified read as postgres's, public.t, and allowed it; the server (since the fix of
     * CVE-2024-10978: 14.14, 15.9, 16.5, 17.1) resets the role with the session authorization, back to carol, and read
     * carol.t, whose writer ran.
     */
    @Test
    void resetSessionAuthorizationWasFollowedAsNoRoleWhereTheServerResetsTheRoleToItsDefault() throws Exception {
        probe("redauthrole", ok("RESET SESSION AUTHORIZATION"), denied(T));
        probe("redauthrole", ok("SET SESSION AUTHORIZATION alice"), denied(T), ok("RESET SESSION AUTHORIZATION"), denied(T),
                ok("SET ROLE NONE"), read(T));
        probe("redauthrole", ok("SET ROLE NONE"), read(T), ok("SET SESSION AUTHORIZATION DEFAULT"), denied(T));
        probe("redauthrole", ok("SET ROLE bob"), ok("RESET SESSION AUTHORIZATION; SELECT 1"), denied(T));
        probe("redauthrole", ok("SET SESSION AUTHORIZATION postgres"), read(T), ok("BEGIN"), ok("RESET SESSION AUTHORIZATION"),
                denied(T), ok("ROLLBACK"), read(T));
        probe("redauthrole", ok("SELECT set_config('session_authorization', 'alice', false)"), denied(T),
                ok("RESET SESSION AUTHORIZATION"), denied(T));
    }
}
