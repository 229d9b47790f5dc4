package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Gate;
import dev.warden.core.Target;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvers;
import dev.warden.core.approval.FileApprovals;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.metrics.Metrics;
import dev.warden.core.policy.PolicyLoader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Red team, round two: Warden's copy of session state other than prepared statements and portals (search path,
 * cursors, settings) and approvals. Every test fails while the bug it names exists; each checks what the server ran
 * (the row it returned, or the table on a direct connection).
 *
 * <p>Schemas {@code rs_a}, {@code rs_b}, {@code rs_k}, each with a table {@code t(v)}; the path policy allows reads but
 * denies anything on {@code rs_b}, so an unqualified read that returns {@code from b} ran where Warden never allowed.
 */
class RedTeamSessionTest {
    static ProxyFixture fx;
    static Listeners paths;
    static PgFrontEnd pathsFe;

    static final String PATH_POLICY = """
            rules:
              - name: reads
                match: {kind: [read]}
                action: allow
              - name: b-is-protected
                match: {objects: ["rs_b.*"]}
                action: deny
              - name: settings
                match: {kind: [session]}
                action: allow
              - name: transactions
                match: {kind: [tcl]}
                action: allow
            """;

    static final String TICKET_POLICY = """
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
              - name: writes-need-a-ticket
                match: {kind: [write]}
                action: approve
                approval: {mode: ticket}
            """;

    // ticket-mode gate with the real approval store
    static FileApprovals tickets;
    static PgFrontEnd ticketFe;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            for (String sc : List.of("rs_a", "rs_b", "rs_k")) {
                s.execute("CREATE SCHEMA IF NOT EXISTS " + sc);
                s.execute("CREATE TABLE IF NOT EXISTS " + sc + ".t (id int, v text)");
                s.execute("GRANT USAGE ON SCHEMA " + sc + " TO " + ProxyFixture.UP_USER);
                s.execute("GRANT ALL ON " + sc + ".t TO " + ProxyFixture.UP_USER);
            }
        }
        var db = Listeners.db(fx, "rspaths", ListenerConfig.DEFAULTS);
        paths = new Listeners(fx, PATH_POLICY, List.of(db));
        pathsFe = paths.start(db);

        Path dir = Files.createTempDirectory(fx.dir, "tickets");
        MemoryLedger ledger = new MemoryLedger();
        tickets = FileApprovals.open(dir, ledger, Approvers.of(List.of(new ApproverConfig("alice", new Secret("t"))),
                List.of(new AgentConfig(ProxyFixture.AGENT, new Secret(ProxyFixture.AGENT_SECRET), List.of()))),
                java.time.Clock.systemUTC(), new Metrics());
        var tdb = Listeners.db(fx, "rstickets", ListenerConfig.DEFAULTS);
        dev.warden.core.engine.Classifier classifier = new dev.warden.postgres.PostgresEngine().classifier(Catalog.NONE);
        Path policyFile = dir.resolve("policy.yaml");
        Files.writeString(policyFile, TICKET_POLICY);
        Gate gate = new Gate(Map.of("rstickets", new Target("rstickets", "postgres", classifier, Catalog.NONE)),
                PolicyLoader.parse(policyFile, TICKET_POLICY.getBytes(StandardCharsets.UTF_8)), tickets, ledger, null);
        WardenConfig config = new WardenConfig(dir.resolve("warden.yaml"), dir.resolve("data"), policyFile,
                List.of(new AgentConfig(ProxyFixture.AGENT, new Secret(ProxyFixture.AGENT_SECRET), List.of())),
                List.of(), List.of(tdb), Map.of(), Optional.empty());
        ticketFe = new PgFrontEnd(new FrontEndContext(gate, config, List.of(tdb)),
                TlsMaterial.context(tdb.listener().tls(), config.dataDir()), line -> System.err.println(line));
        ticketFe.start();
    }

    @AfterAll
    static void stop() {
        if (pathsFe != null) pathsFe.close();
        if (ticketFe != null) ticketFe.close();
        if (tickets != null) tickets.close();
    }

    @BeforeEach
    void rows() throws Exception {
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE rs_a.t, rs_b.t, rs_k.t");
            s.execute("INSERT INTO rs_a.t VALUES (1, 'from a')");
            s.execute("INSERT INTO rs_b.t VALUES (1, 'from b')");
            s.execute("INSERT INTO rs_k.t VALUES (1, 'from k')");
        }
    }

    static Connection connect(String db, int port, String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db + "?sslmode=disable"
                + (extra.isEmpty() ? "" : "&" + extra), ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    static Connection pathSession() throws SQLException {
        return connect("rspaths", pathsFe.port(), "preferQueryMode=simple");
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /**
     * The unqualified read Warden judges in rs_a or rs_k (allowed): it must not return the row of rs_b. Either it is
     * refused, or what ran is what was judged.
     */
    static void unqualifiedReadNeverReachesB(Connection c) throws SQLException {
        String got;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM t")) {
            got = rs.next() ? rs.getString(1) : null;
        } catch (SQLException refused) {
            assertThat(refused.getSQLState()).isIn("42501", "42P01");
            return;
        }
        assertThat(got).as("Warden allowed the read as rs_a/rs_k, the server read rs_b.t").isNotEqualTo("from b");
    }

    // ---- (1) search path

    /** The control: what Warden judges as rs_b is denied (so a row "from b" means a bypass). */
    @Test
    void controlReadsOfBAreDenied() throws Exception {
        try (Connection c = pathSession()) {
            assertThatThrownBy(() -> exec(c, "SELECT v FROM rs_b.t"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            exec(c, "SET search_path TO rs_b");
            assertThatThrownBy(() -> exec(c, "SELECT v FROM t"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
    }

    /**
     * EXECUTE of a prepared {@code SELECT set_config('search_path', …, false)}: the classification carries set_config
     * (so it "may touch the path"), but {@link dev.warden.postgres.classify.PathEffect} reads the text
     * {@code EXECUTE sp}, finds no set_config call in it, and records NONE. The server's path is rs_b; Warden's rs_a.
     */
    @Test
    void executeOfAPreparedSetConfigMovesThePathUnseen() throws Exception {
        try (Connection c = pathSession()) {
            exec(c, "PREPARE sp AS SELECT set_config('search_path', 'rs_b', false)");
            exec(c, "SET search_path TO rs_a");
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM t")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("from a");
            }
            try {
                exec(c, "EXECUTE sp");
            } catch (SQLException refused) {
                return; // refusing the EXECUTE is a fix
            }
            unqualifiedReadNeverReachesB(c);
        }
    }

    /** The same through a protocol-level named statement, run by SQL EXECUTE (they share one namespace). */
    @Test
    void sqlExecuteOfAProtocolPreparedSetConfigMovesThePathUnseen() throws Exception {
        try (Socket s = RawClient.login(pathsFe.port(), "rspaths", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            PgWriter w = new PgWriter();
            new QueryMessage.Query("SET search_path TO rs_a").write(w);
            RawClient.exchange(s, w.toByteArray(), 1);
            w = new PgWriter();
            new QueryMessage.Parse("sp2", "SELECT set_config('search_path', 'rs_b', false)", new int[0]).write(w);
            QueryMessage.sync(w);
            assertThat(RawClient.errors(RawClient.exchange(s, w.toByteArray(), 1))).isEmpty();
            w = new PgWriter();
            new QueryMessage.Query("EXECUTE sp2").write(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            if (!RawClient.errors(got).isEmpty()) return; // refused: a fix
            w = new PgWriter();
            new QueryMessage.Query("SELECT v FROM t").write(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(rowsText(got)).as("judged as rs_a.t, the server read rs_b.t").doesNotContain("from b");
        }
    }

    /**
     * A cursor whose query calls set_config runs it at FETCH, not at DECLARE. DECLARE makes Warden's path unknown
     * (fine), SET recovers it, FETCH (a plain read to Warden) moves the server's path.
     */
    @Test
    void fetchFromACursorOverSetConfigMovesThePathUnseen() throws Exception {
        try (Connection c = pathSession()) {
            exec(c, "BEGIN");
            // Refused at DECLARE: each FETCH would run set_config where Warden cannot follow it.
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> exec(c, "DECLARE cur CURSOR FOR SELECT set_config('search_path', 'rs_b', false)"))
                    .hasMessageContaining("a cursor over set_config");
            exec(c, "ROLLBACK");
            unqualifiedReadNeverReachesB(c);
        }
    }

    /**
     * Warden reads a set_config value (and the search_path startup parameter) with Java's rules: any
     * {@link Character#isWhitespace} ends a name and {@code toLowerCase(Locale.ROOT)} folds non-ASCII letters. The
     * server's SplitIdentifierString only treats space, \t, \n, \r, \f as space and folds only ASCII. So
     * {@code 'rs_a<EM SPACE>, rs_b'} is [rs_a, rs_b] to Warden and ["rs_a\u2003", rs_b] to the server; KELVIN SIGN
     * folds to an ASCII k for Warden only.
     */
    @ParameterizedTest
    @ValueSource(strings = {"rs_a\u2003, rs_b", "rs_a\u000B, rs_b", "rs_a\u001F, rs_b", "rs_\u212A, rs_b"})
    void setConfigValueIsNotReadAsTheServerReadsIt(String value) throws Exception {
        try (Connection c = pathSession()) {
            exec(c, "SELECT set_config('search_path', '" + value + "', false)");
            unqualifiedReadNeverReachesB(c);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"rs_a\u2003, rs_b", "rs_\u212A, rs_b"})
    void startupSearchPathIsNotReadAsTheServerReadsIt(String value) throws Exception {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", ProxyFixture.AGENT);
        params.put("database", "rspaths");
        params.put("search_path", value);
        Object login = RawClient.startup(pathsFe.port(), params, ProxyFixture.AGENT_SECRET);
        if (!(login instanceof Socket s)) return; // refused at startup: a fix
        try (s) {
            PgWriter w = new PgWriter();
            new QueryMessage.Query("SELECT v FROM t").write(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(rowsText(got)).as("judged in rs_a/rs_k, the server read rs_b.t").doesNotContain("from b");
        }
    }

    /**
     * Warden assumes a session starts with {@code "$user", public} unless the client sent search_path; the server
     * starts it with the role's or the database's setting (ALTER ROLE/DATABASE … SET, a DBA's configuration or one
     * approved DDL). A database whose default path is rs_b, public: Warden judges {@code t} as public.t.
     */
    @Test
    void theDatabasesDefaultSearchPathIsNotWhatWardenAssumes() throws Exception {
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_database WHERE datname = 'rs_db'")) {
                rs.next();
                if (rs.getLong(1) == 0) s.execute("CREATE DATABASE rs_db");
            }
        }
        String url = "jdbc:postgresql://127.0.0.1:" + fx.pg.getPort() + "/rs_db";
        try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS rs_b");
            s.execute("CREATE TABLE IF NOT EXISTS rs_b.t (v text)");
            s.execute("CREATE TABLE IF NOT EXISTS public.t (v text)");
            s.execute("TRUNCATE rs_b.t, public.t");
            s.execute("INSERT INTO rs_b.t VALUES ('from b')");
            s.execute("INSERT INTO public.t VALUES ('from public')");
            s.execute("GRANT USAGE ON SCHEMA rs_b TO " + ProxyFixture.UP_USER);
            s.execute("GRANT SELECT ON rs_b.t, public.t TO " + ProxyFixture.UP_USER);
            s.execute("ALTER DATABASE rs_db SET search_path = rs_b, public");
        }
        String policy = """
                rules:
                  - name: reads-in-public
                    match: {kind: [read], objects: ["public.*"]}
                    action: allow
                  - name: settings
                    match: {kind: [session]}
                    action: allow
                """;
        ListenerConfig lc = ListenerConfig.DEFAULTS;
        DatabaseConfig db = new DatabaseConfig("rsdefault", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", fx.pg.getPort(), "rs_db", ProxyFixture.UP_USER, new Secret(ProxyFixture.UP_PASSWORD)),
                Duration.ofSeconds(30), lc);
        Listeners l = new Listeners(fx, policy, List.of(db));
        PgFrontEnd fe = l.start(db);
        try (Connection c = connect("rsdefault", fe.port(), "preferQueryMode=simple");
             Statement s = c.createStatement()) {
            String got;
            try (ResultSet rs = s.executeQuery("SELECT v FROM t")) {
                got = rs.next() ? rs.getString(1) : null;
            } catch (SQLException refused) {
                return;
            }
            assertThat(got).as("judged as public.t, the server read rs_b.t").isEqualTo("from public");
        } finally {
            fe.close();
        }
    }

    /** Warden's statement timeout is meant to be out of the agent's reach; set_config changes it unseen. */
    @Test
    void setConfigTurnsOffWardensStatementTimeout() throws Exception {
        try (Connection c = fx.agent("preferQueryMode=simple")) {
            try {
                exec(c, "SELECT set_config('statement_timeout', '0', false)");
            } catch (SQLException refused) {
                return;
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
                rs.next();
                assertThat(rs.getString(1)).as("Warden's statement_timeout was removed by the agent").isNotEqualTo("0");
            }
        }
    }

    // ---- (2) ticket approvals bind the text, not what it means

    static Connection ticketSession() throws SQLException {
        return connect("rstickets", ticketFe.port(), "preferQueryMode=simple");
    }

    /** Sends {@code sql}, expects the pending-ticket denial, approves it as alice. */
    static void requestAndApprove(Connection c, String sql) throws Exception {
        assertThatThrownBy(() -> exec(c, sql)).isInstanceOf(SQLException.class).hasMessageContaining("is pending");
        ApprovalRequest pending = null;
        for (ApprovalRequest r : tickets.list()) {
            if (r.status() == ApprovalRequest.Status.PENDING && r.operation().text().equals(sql)) pending = r;
        }
        assertThat(pending).isNotNull();
        tickets.decide(pending.id(), "alice", true, "ok");
    }

    /**
     * A person approves {@code EXECUTE p} while p is {@code UPDATE rs_a.t SET v = 'approved' WHERE id = 1} (what the
     * request's classification shows); the agent redefines p as {@code DELETE FROM rs_b.t} and sends the identical
     * text: the ticket (bound to the hash of "EXECUTE p") is redeemed for the DELETE.
     */
    @Test
    void aTicketForExecuteCoversARedefinedPreparedStatement() throws Exception {
        try (Connection c = ticketSession()) {
            exec(c, "PREPARE p AS UPDATE rs_a.t SET v = 'approved' WHERE id = 1");
            requestAndApprove(c, "EXECUTE p");
            exec(c, "DEALLOCATE p");
            exec(c, "PREPARE p AS DELETE FROM rs_b.t");
            try {
                exec(c, "EXECUTE p");
            } catch (SQLException refused) {
                // refused: a fix
            }
        }
        assertThat(fx.directCount("SELECT count(*) FROM rs_b.t")).as("the approved UPDATE ran as an unapproved DELETE").isEqualTo(1);
    }

    /** The same across sessions: the ticket is redeemed by another session of the agent, whose p is something else. */
    @Test
    void aTicketForExecuteIsRedeemedInAnotherSessionWithAnotherBody() throws Exception {
        try (Connection c = ticketSession()) {
            exec(c, "PREPARE q AS UPDATE rs_a.t SET v = 'approved' WHERE id = 1");
            requestAndApprove(c, "EXECUTE q");
        }
        try (Connection c = ticketSession()) {
            exec(c, "PREPARE q AS DELETE FROM rs_b.t");
            try {
                exec(c, "EXECUTE q");
            } catch (SQLException refused) {
                // refused: a fix
            }
        }
        assertThat(fx.directCount("SELECT count(*) FROM rs_b.t")).as("the approved UPDATE ran as an unapproved DELETE").isEqualTo(1);
    }

    /**
     * A person approves {@code DELETE FROM t} judged (and shown) as rs_a.t; the agent sets the path to rs_b and sends
     * the identical text: the ticket is redeemed and rs_b.t is emptied.
     */
    @Test
    void aTicketIsRedeemedUnderAnotherSearchPath() throws Exception {
        try (Connection c = ticketSession()) {
            exec(c, "SET search_path TO rs_a");
            requestAndApprove(c, "DELETE FROM t");
            exec(c, "SET search_path TO rs_b");
            try {
                exec(c, "DELETE FROM t");
            } catch (SQLException refused) {
                // refused: a fix
            }
        }
        assertThat(fx.directCount("SELECT count(*) FROM rs_b.t")).as("approved for rs_a.t, ran on rs_b.t").isEqualTo(1);
    }

    static String rowsText(List<Frame> frames) {
        StringBuilder b = new StringBuilder();
        for (Frame f : frames) {
            if (f.type() == 'D') b.append(new String(f.body(), StandardCharsets.UTF_8));
        }
        return b.toString();
    }
}
