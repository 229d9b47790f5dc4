package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.ledger.Entry;
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

/**
 * Warden's live catalog is read over its own connection, which cannot see what a session's open transaction changed,
 * nor any session's temporary objects. A statement judged on that catalog after such a change was judged on objects
 * that are not the ones it runs on: a view renamed into a table's place read as the table, a trigger created a moment
 * ago never named. Every test runs pgjdbc through the proxy with the engine's own live catalog and checks on a direct
 * connection whether the writer ran ({@code public.hits}).
 *
 * <p>Database {@code ddltx} owned by the upstream user: {@code public.writer()} and the trigger function
 * {@code public.trg_writer()} insert into {@code public.hits} (so does {@code public.trg_counter()}, on no rule);
 * {@code scratch.a} is a table, {@code scratch.b} a view
 * that calls the writer, {@code scratch.t} a table. The policy allows reads, writes and DDL on {@code scratch} (and
 * the session's temporary schema), DDL that uses sequences, and denies any statement that names the writers.
 */
class SchemaChangeInTransactionTest {
    static ProxyFixture fx;
    static Listeners live;
    static PgFrontEnd fe;

    static final String POLICY = """
            rules:
              - name: reads
                match: {kind: [read]}
                action: allow
              - name: scratch
                match: {kind: [write, ddl], objects: ["scratch.*", "pg_temp.*"]}
                action: allow
              - name: settings
                match: {kind: [session]}
                action: allow
              - name: roles
                match: {kind: [dcl], flags: [privilege]}
                action: allow
              - name: ddl-with-sequences
                match: {kind: [ddl], functions: ["pg_catalog.nextval"]}
                action: allow
              - name: the-writers
                match: {functions: ["public.writer", "public.trg_writer"]}
                action: deny
              - name: remaking-needs-a-person
                match: {functions: ["public.remake_view", "public.become_rb"]}
                action: approve
                approval: {mode: hold, timeout: 20s}
              - name: declared-readers
                match: {functions: ["public.reader"]}
                action: allow
            """;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        fx.freshDatabase("ddltx");
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("""
                    SET ROLE %s;
                    CREATE TABLE public.hits (n int);
                    CREATE FUNCTION public.writer() RETURNS int LANGUAGE sql VOLATILE
                        AS 'INSERT INTO public.hits VALUES (1); SELECT 1';
                    CREATE FUNCTION public.trg_writer() RETURNS trigger LANGUAGE plpgsql
                        AS 'BEGIN INSERT INTO public.hits VALUES (2); RETURN NEW; END';
                    CREATE FUNCTION public.trg_counter() RETURNS trigger LANGUAGE plpgsql
                        AS 'BEGIN INSERT INTO public.hits VALUES (3); RETURN NEW; END';
                    CREATE FUNCTION public.reader() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1';
                    CREATE FUNCTION public.remake_view() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN EXECUTE ''CREATE OR REPLACE VIEW scratch.v AS SELECT public.writer() AS x''; RETURN 1; END';
                    """.formatted(ProxyFixture.UP_USER));
        }
        DatabaseConfig db = Listeners.db("ddltx", fx.pg.getPort(), "ddltx", ListenerConfig.DEFAULTS);
        live = Listeners.live(fx, POLICY, List.of(db));
        fe = live.start(db);
    }

    @AfterAll
    static void stop() {
        if (fe != null) fe.close();
        if (live != null) live.closeCatalogs();
    }

    @BeforeEach
    void objects() throws Exception {
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            // No schema named after a role the user may become, unless a test makes one (roleSchemaWithAWritingView).
            s.execute("DROP SCHEMA IF EXISTS rb CASCADE");
            s.execute("""
                    SET ROLE %s;
                    TRUNCATE public.hits;
                    DROP SCHEMA IF EXISTS scratch CASCADE;
                    CREATE SCHEMA scratch;
                    CREATE TABLE scratch.a (x int);
                    INSERT INTO scratch.a VALUES (1);
                    CREATE VIEW scratch.b AS SELECT public.writer() AS x;
                    CREATE TABLE scratch.t (x int);
                    CREATE VIEW scratch.v AS SELECT 1 AS x;
                    CREATE SEQUENCE scratch.seq;
                    """.formatted(ProxyFixture.UP_USER));
        }
        // What the catalog knows now is what the direct connection made: read it again before the test.
        live.catalogs.get("ddltx").invalidate();
    }

    static Connection upstream() throws SQLException {
        return fx.direct("ddltx");
    }

    static Connection agent(String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fe.port() + "/ddltx?sslmode=disable"
                + (extra.isEmpty() ? "" : "&" + extra), ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    static long hits() throws SQLException {
        try (Connection c = upstream(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM public.hits")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            // The classification's reasons, for a refusal a test did not expect.
            throw new SQLException(e.getMessage() + " [" + lastDecisionReasons() + "]", e.getSQLState(), e);
        }
    }

    /** Refused by Warden, and the ledger's decision says why ({@code reasonPart} among the statements' reasons). */
    static void refused(Connection c, String sql, String reasonPart) {
        assertThatThrownBy(() -> exec(c, sql)).isInstanceOfSatisfying(SQLException.class,
                e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        assertThat(lastDecisionReasons()).contains(reasonPart);
    }

    /** Sends {@code sql}, which a rule holds for a person, approves it, and returns once it ran. */
    static void approvedWhileHeld(Connection c, String sql) throws Exception {
        Thread held = Thread.ofVirtual().start(() -> {
            try {
                exec(c, sql);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        fx.approvals.decide(fx.approvals.awaitPending(java.time.Duration.ofSeconds(10)).id(), "alice", true, "ok");
        held.join(10_000);
    }

    static String lastDecisionReasons() {
        List<Entry> entries = live.ledger.entries();
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (entries.get(i) instanceof Entry.DecisionEntry d) {
                return d.classification().statements().stream().flatMap(st -> st.reasons().stream())
                        .collect(java.util.stream.Collectors.joining("; "));
            }
        }
        return "";
    }

    /** The control: the view that calls the writer is not a proven read, and is refused. */
    @Test
    void readingTheWritingViewIsRefused() throws Exception {
        try (Connection c = agent("")) {
            refused(c, "SELECT * FROM scratch.b", "runs user code");
        }
        assertThat(hits()).isZero();
    }

    /**
     * Two renames in the open transaction put the writing view in the table's place; the catalog still says
     * {@code scratch.a} is the plain table, so the SELECT was an allowed read and the writer ran.
     */
    @Test
    void aViewRenamedIntoATablesPlaceInTheOpenTransactionIsNotReadAsTheTable() throws Exception {
        try (Connection c = agent("")) {
            c.setAutoCommit(false);
            exec(c, "ALTER TABLE scratch.a RENAME TO a_old");
            exec(c, "ALTER VIEW scratch.b RENAME TO a");
            refused(c, "SELECT * FROM scratch.a", "this transaction changed the schema");
            c.rollback();
        }
        assertThat(hits()).isZero();
    }

    /**
     * The same in one text: as one Query its statements are judged before any of them ran; pgjdbc's extended protocol
     * sends them as one pipeline, where the SELECT is judged before the renames' results arrive.
     */
    @Test
    void aViewRenamedIntoATablesPlaceEarlierInTheSameTextIsNotReadAsTheTable() throws Exception {
        String text = "ALTER TABLE scratch.a RENAME TO a_old; ALTER VIEW scratch.b RENAME TO a; SELECT * FROM scratch.a";
        try (Connection c = agent("preferQueryMode=simple")) {
            refused(c, text, "an earlier statement of this text may change the schema (ALTER RENAME scratch.a)");
        }
        try (Connection c = agent("")) {
            refused(c, text, "this transaction changed the schema (ALTER RENAME scratch.a)");
        }
        assertThat(hits()).isZero();
        assertThat(tableOf("a")).isEqualTo("r");
    }

    /**
     * A trigger created in the open transaction is not in the catalog: the INSERT was judged as a plain write without
     * it, and the trigger wrote. (Its function is on no rule: attaching one that is, is refused at CREATE TRIGGER.)
     */
    @Test
    void aTriggerCreatedInTheOpenTransactionIsNotOverlooked() throws Exception {
        try (Connection c = agent("")) {
            c.setAutoCommit(false);
            exec(c, "CREATE TRIGGER w BEFORE INSERT ON scratch.t FOR EACH ROW EXECUTE FUNCTION public.trg_counter()");
            refused(c, "INSERT INTO scratch.t VALUES (1)", "this transaction changed the schema");
            c.rollback();
        }
        assertThat(hits()).isZero();
        try (Connection c = upstream(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM scratch.t")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    /**
     * A statement that is not proven DDL-free (a function a person approved, which redefines a view) ran outside any
     * transaction block: the wire front end read the catalog again only after DDL and DCL, so the view stayed a plain
     * read for up to the refresh interval, and reading it ran the writer.
     */
    @Test
    void anApprovedStatementThatMayHaveRunDdlHasTheCatalogReadAgain() throws Exception {
        try (Connection c = agent("")) {
            exec(c, "SELECT * FROM scratch.v");
            approvedWhileHeld(c, "SELECT public.remake_view()");
            try (Connection d = upstream(); Statement s = d.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_catalog.pg_get_viewdef('scratch.v'::regclass)")) {
                rs.next();
                assertThat(rs.getString(1)).as("the approved function redefined the view").contains("writer()");
            }
            refused(c, "SELECT * FROM scratch.v", "runs user code");
        }
        assertThat(hits()).isZero();
    }

    /**
     * A function a rule declares a reader runs no DDL, as the rule says: the catalog is not read again after each call
     * (which would make every next statement wait for a reload), and the open transaction's statements stay proven.
     */
    @Test
    void aDeclaredReaderIsNotASchemaChange() throws Exception {
        try (Connection c = agent("")) {
            c.setAutoCommit(false);
            exec(c, "SELECT public.reader()");
            exec(c, "INSERT INTO scratch.t VALUES (7)");
            c.commit();
        }
        try (Connection c = upstream(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM scratch.t")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
    }

    /**
     * A trigger on a temporary table: the catalog never sees the session's temporary objects, so the INSERT was judged
     * as a plain write of scratch.tt without the trigger, and ran it.
     */
    @Test
    void aTriggerOnATemporaryTableIsNotOverlooked() throws Exception {
        try (Connection c = agent("")) {
            exec(c, "SET search_path TO scratch");
            exec(c, "CREATE TEMP TABLE tt (x int)");
            exec(c, "CREATE TRIGGER w BEFORE INSERT ON tt FOR EACH ROW EXECUTE FUNCTION public.trg_counter()");
            refused(c, "INSERT INTO tt VALUES (1)", "this session changed a temporary relation (CREATE TRIGGER");
            // For the rest of the session, also after its transaction ended; PostgreSQL's own catalogs still answer.
            refused(c, "SELECT * FROM tt", "Warden's catalog never sees temporary objects");
            exec(c, "SELECT pg_catalog.count(*) FROM pg_catalog.pg_class");
        }
        // The same with the trigger's table named in the temporary schema.
        try (Connection c = agent("")) {
            exec(c, "SET search_path TO scratch");
            exec(c, "CREATE TEMP TABLE tt (x int)");
            exec(c, "CREATE TRIGGER w BEFORE INSERT ON pg_temp.tt FOR EACH ROW EXECUTE FUNCTION public.trg_counter()");
            refused(c, "INSERT INTO tt VALUES (1)", "this session changed a temporary relation (CREATE TRIGGER pg_temp.tt)");
        }
        assertThat(hits()).isZero();
    }

    /**
     * False denial: once a temporary relation was changed, every later statement of the session was judged without the
     * catalog, even after DISCARD TEMP (or DISCARD ALL) dropped every temporary object. Such a DISCARD, sent alone and
     * from outside a transaction, ends the doubt once it completed; inside a block that rolls back (the objects come
     * back) it does not (and Warden refuses a DISCARD sent along with other statements in one text).
     */
    @Test
    void discardTempEndsTheTemporaryObjectDoubt() throws Exception {
        for (String discard : List.of("DISCARD TEMP", "DISCARD ALL")) {
            for (String mode : List.of("preferQueryMode=simple", "")) {
                try (Connection c = agent(mode)) {
                    exec(c, "CREATE TEMP TABLE tt (x int)");
                    exec(c, "CREATE TRIGGER w BEFORE INSERT ON pg_temp.tt FOR EACH ROW EXECUTE FUNCTION public.trg_counter()");
                    refused(c, "SELECT * FROM scratch.a", "this session changed a temporary relation");
                    c.setAutoCommit(false);
                    exec(c, "DISCARD TEMP");
                    c.rollback();
                    c.setAutoCommit(true);
                    refused(c, "SELECT * FROM scratch.a", "this session changed a temporary relation");
                    exec(c, discard);
                    exec(c, "SELECT * FROM scratch.a");
                    assertThatThrownBy(() -> exec(c, "INSERT INTO pg_temp.tt VALUES (1)")).hasMessageContaining("does not exist");
                }
            }
        }
        assertThat(hits()).isZero();
    }

    /**
     * A temporary domain named like PostgreSQL's own type: the temporary schema is searched for type names before
     * pg_catalog, so {@code 'x'::text} made the domain's value and ran its CHECK (here advancing a sequence) in what
     * Warden judged a read of a constant cast to pg_catalog's text.
     */
    @Test
    void aTemporaryTypeThatShadowsPostgresOwnIsNotOverlooked() throws Exception {
        try (Connection c = agent("")) {
            refused(c, "CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_catalog.nextval('scratch.seq') > 0)",
                    "creates the temporary type text");
            exec(c, "SELECT 'x'::text");
        }
        try (Connection c = upstream(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT is_called FROM scratch.seq")) {
            rs.next();
            assertThat(rs.getBoolean(1)).as("the sequence was never advanced").isFalse();
        }
    }

    /** What a change does not touch still runs: a temporary table that only holds rows, DDL after DDL, PostgreSQL's catalogs. */
    @Test
    void ordinaryWorkAroundSchemaChangesStillRuns() throws Exception {
        try (Connection c = agent("")) {
            exec(c, "SET search_path TO scratch");
            exec(c, "CREATE TEMP TABLE rows_only (x int)");
            exec(c, "INSERT INTO rows_only VALUES (1)");
            exec(c, "SELECT * FROM rows_only");
            exec(c, "DROP TABLE rows_only");
            exec(c, "CREATE TEMP TABLE copied AS SELECT * FROM scratch.t");
            exec(c, "SELECT * FROM copied");
            c.setAutoCommit(false);
            // A migration: DDL statements on named objects, one after the other in one transaction.
            exec(c, "CREATE TABLE scratch.n (x int)");
            exec(c, "CREATE INDEX n_x ON scratch.n (x)");
            exec(c, "ALTER TABLE scratch.n ADD COLUMN y int");
            exec(c, "SELECT 1");
            exec(c, "SHOW search_path");
            exec(c, "SELECT pg_catalog.count(*) FROM pg_catalog.pg_class");
            refused(c, "INSERT INTO scratch.n VALUES (1, 2)", "this transaction changed the schema (CREATE TABLE scratch.n)");
            c.rollback();
            exec(c, "CREATE TABLE scratch.n (x int)");
            c.commit();
            // After COMMIT the catalog is read again: the new table is a table.
            exec(c, "INSERT INTO scratch.n VALUES (1)");
            c.commit();
        }
        try (Connection c = upstream(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM scratch.n")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
    }

    /**
     * A view made outside Warden after the catalog was read: a name the catalog does not have was taken for a plain
     * table (and that judgement cached by its text), so the view's writer ran until the next refresh (60 s). A text
     * that names a relation the catalog does not have now asks the database whether it has one of that name.
     */
    @Test
    void aViewMadeOutsideWardenIsSeenBeforeItIsRead() throws Exception {
        try (Connection c = agent("")) {
            // Judged (a read of a table the catalog does not know) and run: the server has no such relation yet.
            assertThatThrownBy(() -> exec(c, "SELECT * FROM scratch.late"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P01"));
            try (Connection d = upstream(); Statement s = d.createStatement()) {
                s.execute("SET ROLE " + ProxyFixture.UP_USER);
                s.execute("CREATE VIEW scratch.late AS SELECT public.writer() AS x");
                s.execute("CREATE VIEW scratch.later AS SELECT public.writer() AS x");
            }
            refused(c, "SELECT * FROM scratch.late", "runs user code");
            exec(c, "SET search_path TO scratch");
            refused(c, "SELECT * FROM later", "runs user code");
        }
        assertThat(hits()).isZero();
    }

    /**
     * A role change is not a schema change: the transaction that switches roles goes on being judged on the catalog,
     * with a search path that names its schemas (as PostgREST sets one; with {@code "$user"} in it, see
     * {@link #afterARoleChangeTheUserInTheSearchPathIsNotTakenForTheUpstreamUser}).
     */
    @Test
    void aRoleChangeInTheTransactionIsNotASchemaChange() throws Exception {
        try (Connection c = agent("currentSchema=scratch,public")) {
            c.setAutoCommit(false);
            exec(c, "SET LOCAL ROLE " + ProxyFixture.UP_USER);
            exec(c, "INSERT INTO scratch.t VALUES (3)");
            c.commit();
        }
        try (Connection c = upstream(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM scratch.t")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
    }

    /** The kind of {@code scratch.<name>} on a direct connection: {@code r} table, {@code v} view. */
    static String tableOf(String name) throws SQLException {
        try (Connection c = upstream(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT relkind FROM pg_class WHERE oid = 'scratch." + name + "'::regclass")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * {@code "$user"} in the search path stands for the role the session acts as, and Warden's catalog resolves it as
     * the upstream user: after {@code SET ROLE rb} an unqualified {@code rolepath} was judged as the plain table
     * {@code public.rolepath} while the server read the view {@code rb.rolepath}, which ran the writer.
     */
    @Test
    void afterARoleChangeTheUserInTheSearchPathIsNotTakenForTheUpstreamUser() throws Exception {
        roleSchemaWithAWritingView();
        try (Connection c = agent("")) {
            exec(c, "SET ROLE rb");
            refused(c, "SELECT * FROM rolepath", ROLE_VIEW);
            assertThat(hits()).isZero();
        }
        // A statement prepared before the role change and run after it: the server analyses it again, so is it judged.
        try (Connection c = agent("prepareThreshold=1");
             java.sql.PreparedStatement ps = c.prepareStatement("SELECT * FROM rolepath")) {
            ps.executeQuery().close();
            ps.executeQuery().close();
            exec(c, "SET ROLE rb");
            assertThatThrownBy(ps::executeQuery).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
        assertThat(hits()).isZero();
        // In one text (one Query, or pgjdbc's pipeline of its statements), and with "$user" put back after the change.
        for (String mode : List.of("preferQueryMode=simple", "preferQueryMode=extended")) {
            try (Connection c = agent(mode)) {
                refused(c, "SET ROLE rb; SELECT * FROM rolepath", ROLE_VIEW);
            }
            try (Connection c = agent(mode + "&currentSchema=public")) {
                refused(c, "SET ROLE rb; SET search_path TO \"$user\", public; SELECT * FROM rolepath", ROLE_VIEW);
            }
            assertThat(hits()).isZero();
        }
        try (Connection c = agent("")) {
            exec(c, "SET ROLE rb");
            // A path without "$user" is followed as before.
            exec(c, "SET search_path TO public");
            exec(c, "SELECT * FROM rolepath");
        }
        assertThat(hits()).isZero();
    }

    /**
     * A rule on a function matches the statement that attaches it as a trigger: CREATE TRIGGER named no function, so
     * the deny rule on the writers let a trigger that runs one be attached to every later write (lead from the DDL
     * review).
     */
    @Test
    void aRuleOnAFunctionMatchesTheTriggerThatAttachesIt() throws Exception {
        try (Connection c = agent("")) {
            assertThatThrownBy(() -> exec(c, "CREATE TRIGGER w BEFORE INSERT ON scratch.t FOR EACH ROW EXECUTE FUNCTION public.trg_writer()"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("the-writers");
                    });
        }
        try (Connection c = upstream(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_trigger WHERE tgname = 'w'")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
    }

    /**
     * Where no schema is named after the upstream user or a role it may become, {@code "$user"} names nothing before or
     * after a role change: the session goes on being judged on the catalog (no false denial for the usual database).
     */
    @Test
    void aRoleChangeWhereNoSchemaIsNamedAfterARoleKeepsTheCatalog() throws Exception {
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("""
                    DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rb') THEN CREATE ROLE rb; END IF; END $$;
                    GRANT rb TO %1$s;
                    DROP SCHEMA IF EXISTS rb CASCADE;
                    GRANT USAGE ON SCHEMA scratch TO rb;
                    GRANT INSERT ON scratch.t TO rb;
                    """.formatted(ProxyFixture.UP_USER));
        }
        live.catalogs.get("ddltx").invalidate();
        try (Connection c = agent("")) {
            exec(c, "SET ROLE rb");
            exec(c, "INSERT INTO scratch.t VALUES (5)");
        }
        try (Connection c = upstream(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM scratch.t")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
    }

    /** What the classifier says of the writing view in rb's schema, once it resolves "$user" to rb. */
    static final String ROLE_VIEW = "reading rb.rolepath runs user code";

    /** Rows of an unqualified {@code rolepath} read through the proxy: public's plain table has none. */
    static void readsThePlainTable(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as("public.rolepath is empty").isFalse();
        } catch (SQLException e) {
            throw new SQLException(e.getMessage() + " [" + lastDecisionReasons() + "]", e.getSQLState(), e);
        }
    }

    /**
     * False denials: once the session's role was changed by a statement Warden reads, every statement whose path held
     * {@code "$user"} was refused, also where the role was known again (RESET ROLE, SET ROLE NONE, the end of a SET
     * LOCAL ROLE's transaction, DISCARD ALL) and where no name went through the path. {@code "$user"} now stands for
     * the role the session acts as, as on the server: the plain table is read where the server reads it.
     */
    @Test
    void aRoleWardenFollowsResolvesTheUserAsTheServerDoes() throws Exception {
        roleSchemaWithAWritingView();
        try (Connection c = agent("")) {
            exec(c, "SET ROLE rb");
            exec(c, "SELECT * FROM public.rolepath WHERE x = 1");
            exec(c, "SET ROLE NONE");
            readsThePlainTable(c, "SELECT * FROM rolepath");
            exec(c, "SET ROLE rb");
            exec(c, "RESET ROLE");
            readsThePlainTable(c, "SELECT * FROM rolepath");
            c.setAutoCommit(false);
            exec(c, "SET LOCAL ROLE rb");
            refused(c, "SELECT * FROM rolepath", ROLE_VIEW);
            c.rollback();
            exec(c, "SET LOCAL ROLE rb");
            c.commit();
            readsThePlainTable(c, "SELECT * FROM rolepath");
            c.commit();
            c.setAutoCommit(true);
            exec(c, "SET ROLE rb");
            exec(c, "DISCARD ALL");
            readsThePlainTable(c, "SELECT * FROM rolepath");
        }
        assertThat(hits()).isZero();
    }

    /**
     * Red team: the role as the transaction and its savepoints leave it. A rollback to a savepoint taken after SET ROLE
     * rb undoes a later RESET ROLE, so the read runs as rb (the writing view); one taken before SET ROLE undoes it.
     * A RESET ROLE in the same text as the read, and a pipeline, are judged with the role they leave.
     */
    @Test
    void theRoleAfterSavepointsRollbacksAndInTheSameTextIsTheServers() throws Exception {
        roleSchemaWithAWritingView();
        for (String mode : List.of("preferQueryMode=simple", "preferQueryMode=extended")) {
            try (Connection c = agent(mode)) {
                c.setAutoCommit(false);
                exec(c, "SET ROLE rb");
                exec(c, "SAVEPOINT s");
                exec(c, "RESET ROLE");
                exec(c, "ROLLBACK TO SAVEPOINT s");
                refused(c, "SELECT * FROM rolepath", ROLE_VIEW);
                c.rollback();
                readsThePlainTable(c, "SELECT * FROM rolepath");
                exec(c, "SAVEPOINT t");
                exec(c, "SET ROLE rb");
                exec(c, "ROLLBACK TO SAVEPOINT t");
                readsThePlainTable(c, "SELECT * FROM rolepath");
                c.commit();
                c.setAutoCommit(true);
                exec(c, "SET ROLE rb");
                refused(c, "RESET ROLE; SET ROLE rb; SELECT * FROM rolepath", ROLE_VIEW);
                // SET ROLE NONE in one Query: which role that is, the text alone does not say. pgjdbc's extended
                // protocol sends the two as a pipeline, where the session's role is followed statement by statement.
                if (mode.endsWith("simple")) refused(c, "SET ROLE NONE; SELECT * FROM rolepath", "send it separately");
                else exec(c, "SET ROLE NONE; SELECT * FROM rolepath");
            }
        }
        assertThat(hits()).isZero();
    }

    /**
     * After a function a person approved, which may set the role, the role was unknown for the rest of the session:
     * every name that resolves differently by role was refused. Warden asks the server which role the session has
     * (see SettingsRereadTest): {@code rolepath} is judged as rb's writing view, which it is, and qualified names
     * are judged on the catalog as before.
     */
    @Test
    void afterApprovedCodeTheRoleIsTheServersNotAnyRole() throws Exception {
        roleSchemaWithAWritingView();
        try (Connection c = agent("")) {
            approvedWhileHeld(c, "SELECT public.become_rb()");
            exec(c, "SELECT x FROM public.rolepath WHERE x = 1");
            refused(c, "SELECT * FROM rolepath", ROLE_VIEW);
            exec(c, "RESET ROLE");
            readsThePlainTable(c, "SELECT * FROM rolepath");
        }
        assertThat(hits()).isZero();
    }

    /**
     * Red team: PostgreSQL leaves a schema the acting role may not use (no USAGE) out of the search path, and Warden read
     * only the upstream user's privileges. After SET ROLE rc, a role without USAGE on s1, an unqualified {@code shadow}
     * was judged as s1's plain table while the server read scratch's view, which ran the writer. The catalog now reads
     * which schemas each role the user may become may use, where that differs from the user.
     */
    @Test
    void aSchemaTheActingRoleMayNotUseIsNotTakenForOneItSearches() throws Exception {
        roleSchemaWithAWritingView();
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("""
                    DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rc') THEN CREATE ROLE rc; END IF; END $$;
                    GRANT rc TO %1$s;
                    SET ROLE %1$s;
                    DROP SCHEMA IF EXISTS s1 CASCADE;
                    CREATE SCHEMA s1;
                    CREATE TABLE s1.shadow (x int);
                    CREATE VIEW scratch.shadow AS SELECT public.writer() AS x;
                    GRANT USAGE ON SCHEMA scratch TO rc;
                    GRANT SELECT ON scratch.shadow, scratch.a TO rc;
                    GRANT INSERT ON public.hits TO rc;
                    GRANT USAGE ON SCHEMA scratch TO rb;
                    GRANT SELECT ON scratch.a TO rb;
                    """.formatted(ProxyFixture.UP_USER));
        }
        live.catalogs.get("ddltx").invalidate();
        try (Connection c = agent("")) {
            exec(c, "SET search_path = s1, scratch");
            exec(c, "SELECT * FROM shadow");
            exec(c, "SET ROLE rc");
            refused(c, "SELECT * FROM shadow", "reading scratch.shadow runs user code");
            exec(c, "SELECT * FROM a");
            exec(c, "SELECT * FROM scratch.a");
            exec(c, "RESET ROLE");
            exec(c, "SELECT * FROM shadow");
            // After code a person approved (it may set any role), the server says which role it set: rb, without USAGE
            // on s1 either, reads scratch's view; a name one schema holds is still the catalog's.
            approvedWhileHeld(c, "SELECT public.become_rb()");
            refused(c, "SELECT * FROM shadow", "reading scratch.shadow runs user code");
            exec(c, "SELECT * FROM a");
        }
        assertThat(hits()).isZero();
    }

    /**
     * Role {@code rb}, which the upstream user may become, with a schema of its name holding a view
     * {@code rb.rolepath} that runs the writer; {@code public.rolepath} is a plain table.
     */
    static void roleSchemaWithAWritingView() throws SQLException {
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("""
                    DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rb') THEN CREATE ROLE rb; END IF; END $$;
                    GRANT rb TO %1$s;
                    DROP SCHEMA IF EXISTS rb CASCADE;
                    CREATE SCHEMA rb AUTHORIZATION rb;
                    GRANT INSERT ON public.hits TO rb;
                    SET ROLE rb;
                    CREATE VIEW rb.rolepath AS SELECT public.writer() AS x;
                    SET ROLE %1$s;
                    DROP TABLE IF EXISTS public.rolepath;
                    CREATE TABLE public.rolepath (x int);
                    GRANT SELECT ON public.rolepath TO rb;
                    CREATE OR REPLACE FUNCTION public.become_rb() RETURNS int LANGUAGE plpgsql VOLATILE
                        AS 'BEGIN PERFORM pg_catalog.set_config(''role'', ''rb'', false); RETURN 1; END';
                    """.formatted(ProxyFixture.UP_USER));
        }
        live.catalogs.get("ddltx").invalidate();
    }

    /**
     * A session can act as another role from its start (ALTER ROLE … IN DATABASE … SET role), or after a function a
     * person approved set it: {@code "$user"} stood for that role's schema while Warden resolved it as the user's.
     */
    @Test
    void aRoleFromTheStartOrFromApprovedCodeIsFollowedToo() throws Exception {
        roleSchemaWithAWritingView();
        try (Connection c = upstream(); Statement s = c.createStatement()) {
            s.execute("ALTER ROLE " + ProxyFixture.UP_USER + " IN DATABASE ddltx SET role = 'rb'");
        }
        try (Connection c = agent("")) {
            refused(c, "SELECT * FROM rolepath", ROLE_VIEW);
        } finally {
            try (Connection c = upstream(); Statement s = c.createStatement()) {
                s.execute("ALTER ROLE " + ProxyFixture.UP_USER + " IN DATABASE ddltx RESET role");
            }
        }
        try (Connection c = agent("")) {
            exec(c, "SELECT * FROM rolepath");
            approvedWhileHeld(c, "SELECT public.become_rb()");
            // The role it set is asked of the server (SettingsRereadTest), and followed.
            refused(c, "SELECT * FROM rolepath", ROLE_VIEW);
        }
        assertThat(hits()).isZero();
    }
}
