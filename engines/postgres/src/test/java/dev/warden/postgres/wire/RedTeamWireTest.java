package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Socket;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Red-team probes of the wire front end: each test tries to get something upstream that the policy denies (or that was
 * never judged) and then checks the database directly. A failing test is a bypass.
 */
class RedTeamWireTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    private static Socket login() throws Exception {
        return RawClient.login(fx.port(), "app", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    /** A fresh table with {@code rows} rows that the agent may read but not write (no rule allows writes to it). */
    private static void table(String name, int rows) throws Exception {
        try (Connection c = fx.direct(); java.sql.Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + name);
            s.execute("CREATE TABLE " + name + " (id int)");
            s.execute("INSERT INTO " + name + " SELECT generate_series(1, " + rows + ")");
            s.execute("GRANT ALL ON " + name + " TO " + ProxyFixture.UP_USER);
            // owned by Warden's upstream role, so that only Warden's policy stands between the agent and a DROP
            s.execute("ALTER TABLE " + name + " OWNER TO " + ProxyFixture.UP_USER);
        }
    }

    private static long count(String table) throws Exception {
        return fx.directCount("SELECT count(*) FROM " + table);
    }

    private static boolean exists(String table) throws Exception {
        return fx.directCount("SELECT count(*) FROM pg_tables WHERE tablename = '" + table + "'") > 0;
    }

    private static List<Frame> query(Socket s, String sql) throws Exception {
        PgWriter w = new PgWriter();
        w.begin('Q').cstring(sql).end();
        return RawClient.exchange(s, w.toByteArray(), 1);
    }

    private static PgWriter parse(PgWriter w, String name, String sql) {
        new QueryMessage.Parse(name, sql, new int[0]).write(w);
        return w;
    }

    private static PgWriter bind(PgWriter w, String portal, String stmt) {
        new QueryMessage.Bind(portal, stmt, new int[0], new byte[0][], new int[0]).write(w);
        return w;
    }

    private static PgWriter execute(PgWriter w, String portal, int max) {
        new QueryMessage.Execute(portal, max).write(w);
        return w;
    }

    // ---- SQL-level session tracking looks only at the first word of a text

    /**
     * PREPARE s AS SELECT 1; then "SELECT 1; DEALLOCATE s; PREPARE s AS DELETE ..." in one Query (allowed: read +
     * session + session; SqlSessionTracking sees the first word "select" and tracks nothing); then EXECUTE s is judged
     * as SELECT 1 and runs the DELETE.
     */
    @Test
    void multiStatementRedefinitionOfASqlPreparedStatement() throws Exception {
        table("red_multi", 3);
        try (Socket s = login()) {
            assertThat(RawClient.errors(query(s, "PREPARE red1 AS SELECT 1"))).isEmpty();
            List<Frame> got = query(s, "SELECT 1; DEALLOCATE red1; PREPARE red1 AS DELETE FROM red_multi");
            System.err.println("redefine: " + RawClient.types(got) + " " + RawClient.errors(got));
            got = query(s, "EXECUTE red1");
            System.err.println("execute: " + RawClient.types(got) + " " + RawClient.errors(got));
        }
        assertThat(count("red_multi")).as("rows of red_multi after the EXECUTE").isEqualTo(3);
    }

    /** The same desync, reached through the extended protocol: Bind/Execute of the protocol-level name. */
    @Test
    void multiStatementRedefinitionOfAProtocolPreparedStatement() throws Exception {
        table("red_multi_ext", 3);
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            parse(w, "red2", "SELECT 1");
            QueryMessage.sync(w);
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("1Z");
            List<Frame> got = query(s, "SELECT 1; DEALLOCATE red2; PREPARE red2 AS DELETE FROM red_multi_ext");
            System.err.println("redefine: " + RawClient.types(got) + " " + RawClient.errors(got));
            w.reset();
            bind(w, "", "red2");
            execute(w, "", 0);
            QueryMessage.sync(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            System.err.println("bind/execute: " + RawClient.types(got) + " " + RawClient.errors(got));
        }
        assertThat(count("red_multi_ext")).isEqualTo(3);
    }

    /**
     * A leading ';' hides DEALLOCATE from the first-word check (";DEALLOCATE s" is one statement to the server): Warden
     * keeps the old entry, the server drops it; a Parse of the same name is then kept out of the tracker (the name is
     * "taken"), so Bind/Execute is judged as the old text and runs the new one. The new text needs an approval (DDL):
     * the preview at Parse does not stop it, and no approval is ever asked for.
     */
    @Test
    void hiddenDeallocateThenParseRunsDdlWithoutApproval() throws Exception {
        table("red_drop_me", 1);
        try (Socket s = login()) {
            PgWriter w = new PgWriter();
            parse(w, "red3", "SELECT 1");
            QueryMessage.sync(w);
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("1Z");
            List<Frame> got = query(s, ";DEALLOCATE red3");
            System.err.println("hidden deallocate: " + RawClient.types(got) + " " + RawClient.errors(got));
            w.reset();
            parse(w, "red3", "DROP TABLE red_drop_me");
            bind(w, "", "red3");
            execute(w, "", 0);
            QueryMessage.sync(w);
            s.getOutputStream().write(w.toByteArray());
            // Tracked now: the new text is what is judged, and it waits for a person.
            dev.warden.core.approval.ApprovalRequest r = fx.approvals.awaitPending(java.time.Duration.ofSeconds(10));
            assertThat(r.operation().text()).isEqualTo("DROP TABLE red_drop_me");
            fx.approvals.decide(r.id(), "alice", false, "no");
            got = RawClient.exchange(s, new byte[0], 1);
            assertThat(RawClient.errors(got).toString()).contains("42501");
        }
        assertThat(exists("red_drop_me")).as("red_drop_me still exists (DROP needs an approval)").isTrue();
    }

    /**
     * SQL identifiers: PostgreSQL folds only ASCII letters (in UTF8) while Warden's lexer folds with Java's
     * toLowerCase. PREPARE "Éx" AS SELECT 1; DEALLOCATE ÉX (server drops "Éx", Warden drops "éx"); PREPARE ÉX AS
     * DELETE (server: "Éx", Warden: "éx"); EXECUTE "Éx" is judged as SELECT 1.
     */
    @Test
    void identifierCaseFoldingDiffersFromTheServer() throws Exception {
        table("red_fold", 3);
        try (Socket s = login()) {
            assertThat(RawClient.errors(query(s, "PREPARE \"Éx\" AS SELECT 1"))).isEmpty();
            List<Frame> got = query(s, "DEALLOCATE ÉX");
            System.err.println("deallocate: " + RawClient.types(got) + " " + RawClient.errors(got));
            got = query(s, "PREPARE ÉX AS DELETE FROM red_fold");
            System.err.println("prepare: " + RawClient.types(got) + " " + RawClient.errors(got));
            got = query(s, "EXECUTE \"Éx\"");
            System.err.println("execute: " + RawClient.types(got) + " " + RawClient.errors(got));
        }
        assertThat(count("red_fold")).isEqualTo(3);
    }

    /** SQL identifiers are truncated to 63 bytes by the server, not by Warden's lexer. */
    @Test
    void identifierTruncationDiffersFromTheServer() throws Exception {
        table("red_trunc", 3);
        String base = "r".repeat(63);
        try (Socket s = login()) {
            assertThat(RawClient.errors(query(s, "PREPARE " + base + " AS SELECT 1"))).isEmpty();
            List<Frame> got = query(s, "DEALLOCATE " + base + "x");
            System.err.println("deallocate: " + RawClient.types(got) + " " + RawClient.errors(got));
            got = query(s, "PREPARE " + base + "y AS DELETE FROM red_trunc");
            System.err.println("prepare: " + RawClient.types(got) + " " + RawClient.errors(got));
            got = query(s, "EXECUTE " + base);
            System.err.println("execute: " + RawClient.types(got) + " " + RawClient.errors(got));
        }
        assertThat(count("red_trunc")).isEqualTo(3);
    }

    /** U&"..." identifiers: Warden's lexer reads the name as "u". */
    @Test
    void unicodeEscapedIdentifierInDeallocate() throws Exception {
        table("red_uesc", 3);
        try (Socket s = login()) {
            assertThat(RawClient.errors(query(s, "PREPARE red6 AS SELECT 1"))).isEmpty();
            List<Frame> got = query(s, "DEALLOCATE U&\"red6\"");
            System.err.println("deallocate: " + RawClient.types(got) + " " + RawClient.errors(got));
            PgWriter w = new PgWriter();
            parse(w, "red6", "SELECT 2");
            QueryMessage.sync(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            System.err.println("reparse: " + RawClient.types(got) + " " + RawClient.errors(got));
            // the server now has red6 = whatever was parsed; an SQL PREPARE cannot redefine it (Warden refuses it as
            // defined twice), so the Parse route is the one: see hiddenDeallocateThenParseRunsDdlWithoutApproval.
            got = query(s, "DEALLOCATE U&\"red6\"");
            w.reset();
            parse(w, "red6", "DROP TABLE red_uesc");
            bind(w, "", "red6");
            execute(w, "", 0);
            QueryMessage.sync(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            System.err.println("parse/bind/execute: " + RawClient.types(got) + " " + RawClient.errors(got));
        }
        assertThat(exists("red_uesc")).isTrue();
    }

    // ---- portals: SQL FETCH/MOVE/CLOSE reach protocol-level portals, which Warden judges only at Execute

    /**
     * BEGIN; PREPARE s AS DELETE ... RETURNING (allowed: PREPARE is a session statement); Bind portal p to s (not
     * judged: Warden judges at Execute); Sync; FETCH ALL FROM p (a FETCH, allowed) runs the DELETE, never judged.
     */
    @Test
    void sqlFetchRunsAProtocolPortalThatWasNeverJudged() throws Exception {
        table("red_fetch", 3);
        try (Socket s = login()) {
            assertThat(RawClient.errors(query(s, "BEGIN"))).isEmpty();
            assertThat(RawClient.errors(query(s, "PREPARE red7 AS DELETE FROM red_fetch RETURNING id"))).isEmpty();
            PgWriter w = new PgWriter();
            bind(w, "red7p", "red7");
            QueryMessage.sync(w);
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            System.err.println("bind: " + RawClient.types(got) + " " + RawClient.errors(got));
            got = query(s, "FETCH ALL FROM red7p");
            System.err.println("fetch: " + RawClient.types(got) + " " + RawClient.errors(got));
            got = query(s, "COMMIT");
            System.err.println("commit: " + RawClient.types(got) + " " + RawClient.errors(got));
        }
        assertThat(count("red_fetch")).isEqualTo(3);
    }

    /**
     * BEGIN; PREPARE s2 AS DELETE (allowed); Parse s1 = SELECT 1, Bind p to s1, Sync (p confirmed in Warden); SQL
     * CLOSE p (not tracked: the server drops p, Warden keeps it); Bind p to s2 (Warden keeps its old p, "the name is
     * taken"); Execute p: judged as SELECT 1, runs the DELETE.
     */
    @Test
    void sqlCloseOfAProtocolPortalThenRebind() throws Exception {
        table("red_close", 3);
        try (Socket s = login()) {
            assertThat(RawClient.errors(query(s, "BEGIN"))).isEmpty();
            assertThat(RawClient.errors(query(s, "PREPARE red8 AS DELETE FROM red_close"))).isEmpty();
            PgWriter w = new PgWriter();
            parse(w, "red8s", "SELECT 1");
            bind(w, "red8p", "red8s");
            QueryMessage.sync(w);
            assertThat(RawClient.types(RawClient.exchange(s, w.toByteArray(), 1))).isEqualTo("12Z");
            List<Frame> got = query(s, "CLOSE red8p");
            System.err.println("close: " + RawClient.types(got) + " " + RawClient.errors(got));
            w.reset();
            bind(w, "red8p", "red8");
            execute(w, "red8p", 0);
            QueryMessage.sync(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            System.err.println("rebind/execute: " + RawClient.types(got) + " " + RawClient.errors(got));
            got = query(s, "COMMIT");
            System.err.println("commit: " + RawClient.types(got) + " " + RawClient.errors(got));
        }
        assertThat(count("red_close")).isEqualTo(3);
    }

    // ---- the relay's expectations and the server's (held)

    /**
     * Tried: a Query sent while an allowed COPY FROM STDIN runs would be swallowed by the server while Warden expects
     * an answer to it, putting the relay's expectations one behind (a failed Parse then confirmed by a later
     * ParseComplete, and a Parse of DDL under that name run unjudged). It holds: PostgreSQL treats any message other
     * than CopyData/CopyDone/CopyFail/Flush/Sync during COPY FROM STDIN as FATAL, so the session ends there.
     */
    @Test
    void aQueryDuringCopyInDesynchronisesTheRelay() throws Exception {
        table("red_copy", 1);
        try (Socket s = login()) {
          try {
            PgWriter w = new PgWriter();
            w.begin('Q').cstring("COPY orders (user_id, amount) FROM STDIN").end();
            w.begin('Q').cstring("SELECT 1").end();
            List<Frame> got = RawClient.exchange(s, w.toByteArray(), 1);
            System.err.println("copy+query: " + RawClient.types(got) + " " + RawClient.errors(got));
            w.reset();
            parse(w, "red9", "SELECT * FROM red_no_such_table");
            QueryMessage.sync(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            System.err.println("failing parse: " + RawClient.types(got) + " " + RawClient.errors(got));
            w.reset();
            parse(w, "", "SELECT 1");
            QueryMessage.sync(w);
            got = RawClient.exchange(s, w.toByteArray(), 1);
            System.err.println("parse: " + RawClient.types(got) + " " + RawClient.errors(got));
            w.reset();
            parse(w, "red9", "DROP TABLE red_copy");
            bind(w, "", "red9");
            execute(w, "", 0);
            QueryMessage.sync(w);
            try {
                got = RawClient.exchange(s, w.toByteArray(), 1);
                System.err.println("parse/bind/execute: " + RawClient.types(got) + " " + RawClient.errors(got));
            } catch (java.io.IOException e) {
                System.err.println("parse/bind/execute: " + e);
            }
          } catch (java.io.IOException e) {
            System.err.println("session ended: " + e);
          }
        }
        assertThat(exists("red_copy")).as("red_copy still exists (DROP needs an approval)").isTrue();
    }

    // ---- ideas that held (kept: not covered elsewhere)

    /** A Query whose text hides a second statement after a NUL: the session ends, nothing runs. */
    @Test
    void aNulInsideAQueryTextEndsTheSession() throws Exception {
        table("red_nul", 3);
        try (Socket s = login()) {
            byte[] text = "SELECT 1\0DELETE FROM red_nul\0".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            PgWriter w = new PgWriter();
            w.begin('Q').bytes(text).end();
            s.getOutputStream().write(w.toByteArray());
            s.getOutputStream().flush();
            String answer = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(answer).contains("08P01");
        }
        assertThat(count("red_nul")).isEqualTo(3);
    }

    /** set_config cannot turn standard_conforming_strings off (so a quote trick cannot split Warden's view). */
    @Test
    void standardConformingStringsCannotBeTurnedOffThroughSetConfig() throws Exception {
        table("red_scs", 3);
        try (Socket s = login()) {
            List<Frame> got = query(s, "SELECT set_config('standard_conforming_strings', 'off', false)");
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501");
            query(s, "SELECT 'a\\''; DELETE FROM red_scs; --'");
        }
        assertThat(count("red_scs")).isEqualTo(3);
    }
}
