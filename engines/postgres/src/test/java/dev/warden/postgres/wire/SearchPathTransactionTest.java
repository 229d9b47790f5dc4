package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.ObjectAccess;
import dev.warden.core.ledger.Entry;
import java.io.IOException;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The search path through transaction blocks, savepoints and implicit transactions, as PostgreSQL keeps it. Two
 * tables named {@code t}, in schemas {@code a} and {@code b}; the policy allows reads in {@code a} only. Each
 * unqualified read is checked twice: what Warden judged (the ledger's object) and what the server ran (the row).
 */
class SearchPathTransactionTest {
    static ProxyFixture fx;
    static Listeners l;
    static PgFrontEnd fe;
    static final String POLICY = """
            rules:
              - name: reads-in-a
                match: {kind: [read], objects: ["a.*"]}
                action: allow
              - name: settings
                match: {kind: [session]}
                action: allow
              - name: transactions
                match: {kind: [tcl]}
                action: allow
            """;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS a");
            s.execute("CREATE SCHEMA IF NOT EXISTS b");
            s.execute("CREATE TABLE IF NOT EXISTS a.t (v text)");
            s.execute("CREATE TABLE IF NOT EXISTS b.t (v text)");
            s.execute("TRUNCATE a.t, b.t");
            s.execute("INSERT INTO a.t VALUES ('from a')");
            s.execute("INSERT INTO b.t VALUES ('from b')");
            s.execute("GRANT USAGE ON SCHEMA a, b TO " + ProxyFixture.UP_USER);
            s.execute("GRANT SELECT ON a.t, b.t TO " + ProxyFixture.UP_USER);
        }
        var db = Listeners.db(fx, "paths", dev.warden.core.config.ListenerConfig.DEFAULTS);
        l = new Listeners(fx, POLICY, List.of(db));
        fe = l.start(db);
    }

    @AfterAll
    static void stop() {
        if (fe != null) fe.close();
    }

    static Connection connect(String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port() + "/paths?sslmode=disable&currentSchema=a"
                + (extra.isEmpty() ? "" : "&" + extra), ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** The unqualified read: allowed, judged as a.t, and the server read a.t. */
    static void readsA(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM t")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("from a");
        }
        assertThat(lastJudged()).containsExactly("a.t");
    }

    /** The unqualified read judged as b.t: denied, nothing ran. */
    static void deniedAsB(Connection c) {
        assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT v FROM t"))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        assertThat(lastJudged()).containsExactly("b.t");
    }

    static List<String> lastJudged() {
        List<Entry> all = l.ledger.entries();
        for (int i = all.size() - 1; i >= 0; i--) {
            if (all.get(i) instanceof Entry.DecisionEntry d && d.operation().text().equals("SELECT v FROM t")) {
                return d.classification().statements().getFirst().objects().stream().map(ObjectAccess::name).toList();
            }
        }
        return List.of();
    }

    static void refused(Connection c, String sql, String why) {
        assertThatThrownBy(() -> exec(c, sql))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"))
                .hasMessageContaining(why);
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void rollbackRestoresThePathFromBeforeTheBlock(String mode) throws Exception {
        try (Connection c = connect(mode)) {
            readsA(c);
            c.setAutoCommit(false);
            exec(c, "SET search_path TO b");
            // In effect at once, inside the block.
            deniedAsB(c);
            c.rollback();
            readsA(c);
            // Without the denial in between: the path set in the block is gone after ROLLBACK.
            exec(c, "SET search_path TO b");
            c.rollback();
            readsA(c);
            c.setAutoCommit(true);
            readsA(c);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void commitKeepsSetAndDropsSetLocal(String mode) throws Exception {
        try (Connection c = connect(mode)) {
            c.setAutoCommit(false);
            exec(c, "SET search_path TO b");
            exec(c, "SET LOCAL search_path TO a");
            readsA(c);
            c.commit();
            // SET survives the commit, SET LOCAL does not.
            deniedAsB(c);
            c.rollback();
            c.setAutoCommit(true);
            deniedAsB(c);
            exec(c, "SET search_path TO a");
            readsA(c);
            c.setAutoCommit(false);
            exec(c, "SET LOCAL search_path TO b");
            c.commit();
            readsA(c);
            // set_config(…, is_local) is SET LOCAL; set_config(…, false) is SET.
            exec(c, "SELECT set_config('search_path', 'b', true)");
            c.commit();
            readsA(c);
            exec(c, "SELECT pg_catalog.set_config('search_path', 'b', false)");
            c.rollback();
            readsA(c);
            c.setAutoCommit(true);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void commitOfAFailedTransactionIsARollback(String mode) throws Exception {
        try (Connection c = connect(mode)) {
            c.setAutoCommit(false);
            exec(c, "SET search_path TO b");
            // A real error from the server: the block is aborted, the path stays b until it ends.
            assertThatThrownBy(() -> exec(c, "SELECT v::int FROM a.t"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22P02"));
            try {
                c.commit();  // the server answers ROLLBACK
            } catch (SQLException expected) {
                // newer drivers report that the commit became a rollback
            }
            c.setAutoCommit(true);
            readsA(c);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void savepointsFollowTheStack(String mode) throws Exception {
        try (Connection c = connect(mode)) {
            c.setAutoCommit(false);
            exec(c, "SAVEPOINT s1");
            exec(c, "SET search_path TO b");
            exec(c, "ROLLBACK TO SAVEPOINT s1");
            readsA(c);
            exec(c, "SAVEPOINT s2");
            exec(c, "SET LOCAL search_path TO b");
            exec(c, "RELEASE SAVEPOINT s2");
            // SET LOCAL outlives RELEASE (it lasts to the end of the transaction).
            deniedAsB(c);
            // The block is aborted by the denial; back to s1, which was taken under a.
            exec(c, "ROLLBACK TO s1");
            readsA(c);
            exec(c, "SAVEPOINT s3");
            exec(c, "SET search_path TO b");
            exec(c, "RELEASE s3");
            c.commit();
            deniedAsB(c);
            c.rollback();
            c.setAutoCommit(true);
            exec(c, "SET search_path TO a");
            readsA(c);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void anErrorRollsBackTheImplicitTransactionOfAMultiStatementQuery(String mode) throws Exception {
        try (Connection c = connect(mode)) {
            assertThatThrownBy(() -> exec(c, "SET search_path TO b; SELECT v::int FROM a.t"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22P02"));
            readsA(c);
            exec(c, "SET search_path TO b; SELECT v FROM a.t");
            deniedAsB(c);
            exec(c, "SET search_path TO a");
            readsA(c);
        }
    }

    @Test
    void aTextThatChangesThePathAndThenRollsBackIsRefusedAsOne() throws Exception {
        try (Connection c = connect("preferQueryMode=simple")) {
            refused(c, "BEGIN; SET search_path TO b; ROLLBACK; SELECT v FROM t", "send those statements as separate queries");
            readsA(c);
        }
    }

    /**
     * A path the text does not show (a conditional set_config) refused every later statement that went through the
     * path until the agent sent SET search_path. Warden asks the server instead (see SettingsRereadTest), in both
     * protocols.
     */
    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void aPathThatCannotBeReadIsAskedOfTheServer(String mode) throws Exception {
        try (Connection c = connect(mode)) {
            exec(c, "SELECT CASE WHEN random() < 2 THEN set_config('search_path', 'b', false) END");
            deniedAsB(c);
            exec(c, "SELECT CASE WHEN random() < 2 THEN set_config('search_path', 'a', false) END");
            readsA(c);
        }
    }

    /** Regression: SET search_path = '' (pg_dump's first statement) was refused as a path Warden could not read. */
    @ParameterizedTest
    @ValueSource(strings = {"SET search_path = ''", "SELECT pg_catalog.set_config('search_path', '', false)"})
    void anEmptySearchPathIsFollowedNotRefused(String set) throws Exception {
        try (Connection c = connect("preferQueryMode=simple")) {
            exec(c, set);
            // Nothing is on the path: the unqualified name means no table at all, on the server as for Warden.
            assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT v FROM t"))
                    .isInstanceOf(SQLException.class);
            try (ResultSet rs = c.createStatement().executeQuery("SELECT v FROM a.t")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("from a");
            }
            exec(c, "SET search_path TO a");
            readsA(c);
        }
    }

    @Test
    void aServerPreparedStatementIsJudgedUnderThePathItRunsWith() throws Exception {
        try (Connection c = connect("prepareThreshold=1");
             PreparedStatement ps = c.prepareStatement("SELECT v FROM t")) {
            for (int i = 0; i < 3; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("from a");
                }
            }
            exec(c, "SET search_path TO b");
            assertThatThrownBy(ps::executeQuery)
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThat(lastJudged()).containsExactly("b.t");
            exec(c, "SET search_path TO a");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("from a");
            }
        }
    }

    @Test
    void anSqlPreparedStatementIsJudgedUnderThePathItRunsWith() throws Exception {
        try (Connection c = connect("preferQueryMode=simple")) {
            exec(c, "PREPARE q AS SELECT v FROM t");
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("EXECUTE q")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("from a");
            }
            // The server analyses q again under the new path (it would read b.t): so does Warden.
            exec(c, "SET search_path TO b");
            assertThatThrownBy(() -> c.createStatement().executeQuery("EXECUTE q"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            exec(c, "SET search_path TO a");
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("EXECUTE q")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("from a");
            }
        }
    }

    @Test
    void aStatementPipelinedBehindAPathChangeWhoseOutcomeIsOpenIsRefused() throws Exception {
        Object login = loginWithStartupPath("a");
        try (Socket s = (Socket) login) {
            // Sent in one go, without waiting: if SET failed the read would use a, else b. Warden does not guess.
            PgWriter w = new PgWriter();
            new QueryMessage.Query("SET search_path TO b").write(w);
            new QueryMessage.Query("SELECT v FROM t").write(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 2);
            assertThat(RawClient.types(got)).doesNotContain("D");
            assertThat(RawClient.errors(got)).singleElement().asString()
                    .startsWith("42501").contains("wait for its result");
            // Once the SET has completed, the path is b.
            w = new PgWriter();
            new QueryMessage.Query("SELECT v FROM t").write(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501");
            assertThat(lastJudged()).containsExactly("b.t");
            // Pipelined behind statements that cannot move the path, a read is judged at once.
            w = new PgWriter();
            new QueryMessage.Query("SET search_path TO a").write(w);
            RawClient.exchange(s, w.toByteArray(), 1);
            w = new PgWriter();
            new QueryMessage.Query("SELECT v FROM a.t").write(w);
            new QueryMessage.Query("SELECT v FROM t").write(w);
            got = RawClient.exchange(s, w.toByteArray(), 2);
            assertThat(RawClient.errors(got)).isEmpty();
            assertThat(RawClient.types(got).chars().filter(ch -> ch == 'D').count()).isEqualTo(2);
            assertThat(lastJudged()).containsExactly("a.t");
        }
    }

    // ---- one search_path parser

    /** Logs in with the given search_path startup parameter; returns the socket, or the FATAL error. */
    static Object loginWithStartupPath(String searchPath) throws IOException {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", ProxyFixture.AGENT);
        params.put("database", "paths");
        params.put("search_path", searchPath);
        return RawClient.startup(fe.port(), params, ProxyFixture.AGENT_SECRET);
    }

    /**
     * Regression: Warden's own lexer read the startup value {@code 'a', b} as the schemas a and b, while PostgreSQL's
     * setting parser reads a schema named {@code 'a'} (quotes included, which does not exist) and then b. Warden
     * judged the read as one of a.t; the server read b.t.
     */
    @Test
    void singleQuotedStartupSearchPathItemIsNotReadAsTheBareName() throws Exception {
        Object login = loginWithStartupPath("'a', b");
        assertThat(login).isInstanceOf(Socket.class);
        try (Socket s = (Socket) login) {
            PgWriter w = new PgWriter();
            new QueryMessage.Query("SELECT v FROM t").write(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            assertThat(RawClient.types(got)).doesNotContain("D");
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501");
        }
        assertThat(lastJudged()).containsExactly("'a'.t");
    }

    @Test
    void aStartupSearchPathThatDoesNotParseIsRefused() throws Exception {
        Object login = loginWithStartupPath("a,,b");
        assertThat(login).isInstanceOf(Notice.class);
        Notice n = (Notice) login;
        assertThat(n.code()).isEqualTo("22023");
        assertThat(n.message()).contains("invalid value for the search_path startup parameter");
    }

    @Test
    void singleQuotedItemsOfSetAreNamesAsPostgresQuotesThem() throws Exception {
        try (Connection c = connect("")) {
            // In SQL a quoted item is one name, case and commas kept: the schema "a, b", not a and b.
            exec(c, "SET search_path = 'a, b'");
            assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT v FROM t"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThat(lastJudged()).containsExactly("a, b.t");
            exec(c, "SET search_path = 'a'");
            readsA(c);
        }
    }
}
