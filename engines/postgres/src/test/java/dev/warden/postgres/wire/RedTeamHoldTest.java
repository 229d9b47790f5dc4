package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Gate;
import dev.warden.core.Target;
import dev.warden.core.approval.AgentSwitch;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvers;
import dev.warden.core.approval.FileApprovals;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.metrics.Metrics;
import dev.warden.core.policy.PolicyLoader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Red team: the approval hold on the wire, where it meets the rest of the protocol (transactions, pipelines, cancel,
 * the client or the server going away, the kill switch, shutdown, COPY, SQL PREPARE, two sessions). Each test checks
 * what the server holds afterwards on a direct connection, and the approval's events in the ledger.
 *
 * <p>Writes on {@code rh.t} are held (30 s), on {@code rh.q} held briefly (2 s), on {@code rh.free} allowed.
 */
class RedTeamHoldTest {
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
              - name: free-writes
                match: {kind: [write], objects: ["rh.free"]}
                action: allow
              - name: held-writes
                match: {kind: [write], objects: ["rh.t"]}
                action: approve
                approval: {mode: hold, timeout: 30s}
              - name: quick-holds
                match: {kind: [write], objects: ["rh.q"]}
                action: approve
                approval: {mode: hold, timeout: 2s}
            """;

    static ProxyFixture fx;
    static MemoryLedger ledger;
    static FileApprovals approvals;
    static AgentSwitch killSwitch;
    static Gate gate;
    static WardenConfig config;
    static DatabaseConfig db;
    static PgFrontEnd fe;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS rh");
            s.execute("CREATE TABLE IF NOT EXISTS rh.t (id int, v text)");
            s.execute("CREATE TABLE IF NOT EXISTS rh.q (id int)");
            s.execute("CREATE TABLE IF NOT EXISTS rh.free (id int)");
            s.execute("GRANT USAGE ON SCHEMA rh TO " + ProxyFixture.UP_USER);
            s.execute("GRANT ALL ON ALL TABLES IN SCHEMA rh TO " + ProxyFixture.UP_USER);
        }
        Path dir = Files.createTempDirectory(fx.dir, "hold");
        ledger = new MemoryLedger();
        List<AgentConfig> agents = List.of(new AgentConfig(ProxyFixture.AGENT, new Secret(ProxyFixture.AGENT_SECRET), List.of()));
        approvals = FileApprovals.open(dir, ledger, Approvers.of(List.of(new ApproverConfig("alice", new Secret("t"))), agents),
                java.time.Clock.systemUTC(), new Metrics());
        killSwitch = AgentSwitch.open(dir.resolve("switch"), ledger, Set.of(ProxyFixture.AGENT));
        db = Listeners.db(fx, "rhold", ListenerConfig.DEFAULTS);
        Path policyFile = dir.resolve("policy.yaml");
        Files.writeString(policyFile, POLICY);
        dev.warden.core.engine.Classifier classifier = new dev.warden.postgres.PostgresEngine().classifier(Catalog.NONE);
        gate = new Gate(Map.of("rhold", new Target("rhold", "postgres", classifier, Catalog.NONE)),
                PolicyLoader.parse(policyFile, POLICY.getBytes(StandardCharsets.UTF_8)), approvals, ledger, null, killSwitch);
        config = new WardenConfig(dir.resolve("warden.yaml"), dir.resolve("data"), policyFile, agents, List.of(), List.of(db),
                Map.of(), Optional.empty());
        fe = frontEnd();
    }

    static PgFrontEnd frontEnd() throws Exception {
        PgFrontEnd f = new PgFrontEnd(new FrontEndContext(gate, config, List.of(db)),
                TlsMaterial.context(db.listener().tls(), config.dataDir()), line -> System.err.println(line));
        f.start();
        return f;
    }

    @AfterAll
    static void stop() {
        if (fe != null) fe.close();
        if (approvals != null) approvals.close();
    }

    @BeforeEach
    void clean() throws Exception {
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("TRUNCATE rh.t, rh.q, rh.free");
        }
        if (!killSwitch.allows(ProxyFixture.AGENT)) killSwitch.enable(ProxyFixture.AGENT, "alice", null);
        // Nothing a previous test left may be decided by this one.
        for (ApprovalRequest r : approvals.list()) {
            if (r.status() == ApprovalRequest.Status.PENDING) approvals.decide(r.id(), "alice", false, "cleanup");
        }
    }

    // ---- helpers

    static Connection agent(String extra) throws SQLException {
        return agent(fe, extra);
    }

    static Connection agent(PgFrontEnd f, String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + f.port() + "/rhold?sslmode=disable"
                + (extra.isEmpty() ? "" : "&" + extra), ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    static Socket raw() throws Exception {
        return RawClient.login(fe.port(), "rhold", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
    }

    /** The one pending request whose statement contains {@code text}, once it is open. */
    static ApprovalRequest pending(String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            List<ApprovalRequest> found = approvals.list().stream()
                    .filter(r -> r.status() == ApprovalRequest.Status.PENDING && r.operation().text().contains(text)).toList();
            if (found.size() == 1) return found.getFirst();
            assertThat(found).as("more than one request pending for " + text).hasSizeLessThan(2);
            Thread.sleep(10);
        }
        throw new AssertionError("no request was opened for " + text);
    }

    static List<ApprovalRequest> requests(String text) {
        return approvals.list().stream().filter(r -> r.operation().text().contains(text)).toList();
    }

    static ApprovalRequest.Status status(String id) {
        return approvals.get(id).orElseThrow().status();
    }

    /** The verdicts recorded for a request, in order: requested, approved, used, denied, expired. */
    static List<String> events(String requestId) {
        List<String> out = new ArrayList<>();
        for (Entry e : ledger.entries()) {
            if (e instanceof Entry.ApprovalEntry a && requestId.equals(a.requestId())) out.add(a.verdict());
        }
        return out;
    }

    static List<Long> decisionSeqs(String requestId) {
        List<Entry> all = ledger.entries();
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i) instanceof Entry.DecisionEntry d && requestId.equals(d.approvalId())) out.add((long) i);
        }
        return out;
    }

    static long outcomes(long decisionSeq) {
        return ledger.entries().stream().filter(e -> e instanceof Entry.OutcomeEntry o && o.decisionSeq() == decisionSeq).count();
    }

    /** Waits for the outcome entry, written after the reply is on its way. */
    static long outcomesSoon(long decisionSeq) throws InterruptedException {
        for (int i = 0; i < 200 && outcomes(decisionSeq) == 0; i++) Thread.sleep(10);
        return outcomes(decisionSeq);
    }

    static long count(String sql) throws Exception {
        return fx.directCount(sql);
    }

    interface SqlCall {
        void run() throws Exception;
    }

    static CompletableFuture<Void> async(SqlCall call) {
        return CompletableFuture.runAsync(() -> {
            try {
                call.run();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
            // A thread of its own: the common pool may have a single thread, which one held call would take.
        }, r -> Thread.ofPlatform().daemon().start(r));
    }

    static String sqlState(Throwable t) {
        while (t != null && !(t instanceof SQLException)) t = t.getCause();
        return t == null ? null : ((SQLException) t).getSQLState();
    }

    static void waitFor(java.util.function.BooleanSupplier what, String description) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            if (what.getAsBoolean()) return;
            Thread.sleep(10);
        }
        throw new AssertionError("timed out waiting until " + description);
    }

    static PgWriter unnamed(PgWriter w, String sql, String... params) {
        new QueryMessage.Parse("", sql, new int[0]).write(w);
        byte[][] v = new byte[params.length][];
        for (int i = 0; i < params.length; i++) v[i] = params[i].getBytes(StandardCharsets.UTF_8);
        new QueryMessage.Bind("", "", new int[0], v, new int[0]).write(w);
        new QueryMessage.Execute("", 0).write(w);
        return w;
    }

    static void send(Socket s, PgWriter w) throws Exception {
        s.getOutputStream().write(w.toByteArray());
        s.getOutputStream().flush();
    }

    static List<Frame> readUntilReady(Socket s, int readyCount) throws Exception {
        return RawClient.exchange(s, new byte[0], readyCount);
    }

    // ---- (0) the end-to-end hold through pgjdbc

    /**
     * pgjdbc's extended protocol, past prepareThreshold (a named server statement from the second execution on): each
     * execution is held at Execute, runs once on its approval, and the next execution of the same prepared statement
     * asks again. The Parse opens nothing.
     */
    @Test
    void aPreparedStatementIsHeldAtEachExecuteAndRunsOncePerApproval() throws Exception {
        String sql = "INSERT INTO rh.t VALUES (?, 'jdbc')";
        try (Connection c = agent("prepareThreshold=2"); PreparedStatement ps = c.prepareStatement(sql)) {
            List<String> ids = new ArrayList<>();
            for (int run = 1; run <= 3; run++) {
                ps.setInt(1, 7);
                CompletableFuture<Void> done = async(ps::executeUpdate);
                ApprovalRequest r = pending("'jdbc'");
                assertThat(r.operation().parameters()).containsExactly("7");
                assertThat(ids).doesNotContain(r.id());
                ids.add(r.id());
                assertThat(count("SELECT count(*) FROM rh.t")).as("held, not run").isEqualTo(run - 1);
                if (run < 3) {
                    approvals.decide(r.id(), "alice", true, "ok");
                    done.get(10, TimeUnit.SECONDS);
                    assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(run);
                } else {
                    approvals.decide(r.id(), "alice", false, "no");
                    assertThatThrownBy(() -> done.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
                }
                assertThat(events(r.id())).containsExactly(run < 3 ? new String[] {"requested", "approved", "used"}
                        : new String[] {"requested", "denied"});
                List<Long> decisions = decisionSeqs(r.id());
                assertThat(decisions).as("one decision entry per execution").hasSize(1);
                assertThat(outcomesSoon(decisions.getFirst())).isEqualTo(run < 3 ? 1 : 0);
            }
            // The session goes on.
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM rh.t")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(2);
            }
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(2);
        assertThat(requests("'jdbc'")).hasSize(3);
        // Parse judged nothing on its own: every decision entry for the text belongs to one of the three requests.
        long decisions = ledger.entries().stream().filter(e -> e instanceof Entry.DecisionEntry d
                && d.operation().text().contains("'jdbc'")).count();
        assertThat(decisions).isEqualTo(3);
    }

    // ---- (1) transactions

    @ParameterizedTest
    @ValueSource(strings = {"", "preferQueryMode=simple"})
    void aDeniedHoldInsideATransactionAbortsItAndCommitRollsBack(String mode) throws Exception {
        try (Connection c = agent(mode)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO rh.free VALUES (1)");
                CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'tx-deny')"));
                ApprovalRequest r = pending("tx-deny");
                assertThat(r.inTransaction()).isTrue();
                approvals.decide(r.id(), "alice", false, "no");
                assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
                assertThatThrownBy(() -> s.executeQuery("SELECT 1")).satisfies(e -> assertThat(sqlState(e)).isEqualTo("25P02"));
            }
            c.commit();
        }
        assertThat(count("SELECT count(*) FROM rh.free")).isZero();
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "preferQueryMode=simple"})
    void aTimedOutHoldInsideATransactionAbortsIt(String mode) throws Exception {
        try (Connection c = agent(mode)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO rh.free VALUES (1)");
                assertThatThrownBy(() -> s.executeUpdate("INSERT INTO rh.q VALUES (1)"))
                        .satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"))
                        .hasMessageContaining("expired");
                assertThatThrownBy(() -> s.executeQuery("SELECT 1")).satisfies(e -> assertThat(sqlState(e)).isEqualTo("25P02"));
            }
            c.commit();
        }
        assertThat(count("SELECT count(*) FROM rh.free")).isZero();
        assertThat(count("SELECT count(*) FROM rh.q")).isZero();
        ApprovalRequest r = requests("rh.q VALUES (1)").getFirst(); // the newest
        assertThat(events(r.id())).containsExactly("requested", "expired");
    }

    @Test
    void anApprovedHoldInsideATransactionCommitsWithIt() throws Exception {
        try (Connection c = agent("")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO rh.free VALUES (1)");
                CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'tx-ok')"));
                approvals.decide(pending("tx-ok").id(), "alice", true, "ok");
                held.get(10, TimeUnit.SECONDS);
            }
            assertThat(count("SELECT count(*) FROM rh.t")).as("not committed yet").isZero();
            c.commit();
        }
        assertThat(count("SELECT count(*) FROM rh.free")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(1);
    }

    /** A COMMIT the client pipelined behind the held write waits for it, and after a denial commits nothing. */
    @Test
    void aCommitPipelinedBehindAHeldWriteCannotSlipItThrough() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            new QueryMessage.Query("BEGIN").write(w);
            unnamed(w, "INSERT INTO rh.free VALUES (1)");
            unnamed(w, "INSERT INTO rh.t VALUES (1, 'pipelined-commit')");
            QueryMessage.sync(w);
            new QueryMessage.Query("COMMIT").write(w);
            send(s, w);
            ApprovalRequest r = pending("pipelined-commit");
            Thread.sleep(200);
            assertThat(count("SELECT count(*) FROM rh.free")).isZero();
            approvals.decide(r.id(), "alice", false, "no");
            List<Frame> got = readUntilReady(s, 3);
            // The held statement's Parse and Bind succeed; its Execute is refused, the rest of the block skipped. The
            // hold's notice may come before or after BEGIN's answer (a notice may come at any time; it answers nothing).
            String types = RawClient.types(got);
            assertThat(types.replaceFirst("N", "")).isEqualTo("CZ12C12EZCZ");
            assertThat(types).containsOnlyOnce("N");
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501");
            assertThat(new String(got.get(got.size() - 2).body(), StandardCharsets.UTF_8)).startsWith("ROLLBACK");
        }
        assertThat(count("SELECT count(*) FROM rh.free")).isZero();
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    // ---- (2) pipelining

    @Test
    void whatIsPipelinedBehindAHeldExecuteWaitsAndNeverRunsAfterADenial() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            unnamed(w, "INSERT INTO rh.free VALUES (1)");
            unnamed(w, "INSERT INTO rh.t VALUES (2, 'pipe-deny')");
            unnamed(w, "INSERT INTO rh.free VALUES (3)");
            QueryMessage.sync(w);
            unnamed(w, "INSERT INTO rh.free VALUES (4)");
            QueryMessage.sync(w);
            send(s, w);
            ApprovalRequest r = pending("pipe-deny");
            Thread.sleep(200);
            try (Connection d = fx.direct(); Statement st = d.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'INSERT INTO rh.free VALUES (3)%'")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the third statement reached the server").isZero();
            }
            approvals.decide(r.id(), "alice", false, "no");
            List<Frame> got = readUntilReady(s, 2);
            assertThat(RawClient.types(got)).isEqualTo("N12C12EZ12CZ");
        }
        // The implicit transaction of the first Sync is rolled back as a whole; the second pipeline is its own.
        assertThat(count("SELECT count(*) FROM rh.free WHERE id IN (1, 3)")).isZero();
        assertThat(count("SELECT count(*) FROM rh.free WHERE id = 4")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    @Test
    void aPipelineWithAnApprovedHoldRunsInOrderOnce() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            unnamed(w, "INSERT INTO rh.free VALUES (1)");
            unnamed(w, "INSERT INTO rh.t VALUES (2, 'pipe-ok')");
            unnamed(w, "INSERT INTO rh.free VALUES (3)");
            unnamed(w, "INSERT INTO rh.t VALUES (4, 'pipe-ok-2')");
            QueryMessage.sync(w);
            send(s, w);
            approvals.decide(pending("pipe-ok'").id(), "alice", true, "ok");
            approvals.decide(pending("pipe-ok-2").id(), "alice", true, "ok");
            List<Frame> got = readUntilReady(s, 1);
            assertThat(RawClient.types(got).replace("N", "")).isEqualTo("12C12C12C12CZ");
        }
        assertThat(count("SELECT count(*) FROM rh.free")).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(2);
    }

    @Test
    void aSimpleQueryWithSeveralStatementsIsHeldAsAWhole() throws Exception {
        try (Connection c = agent("preferQueryMode=simple"); Statement s = c.createStatement()) {
            CompletableFuture<Void> held = async(() -> s.execute("INSERT INTO rh.free VALUES (1); INSERT INTO rh.t VALUES (1, 'multi')"));
            ApprovalRequest r = pending("multi");
            assertThat(count("SELECT count(*) FROM rh.free")).isZero();
            approvals.decide(r.id(), "alice", false, "no");
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
            held.exceptionally(e -> null);
            CompletableFuture<Void> again = async(() -> s.execute("INSERT INTO rh.free VALUES (2); INSERT INTO rh.t VALUES (2, 'multi')"));
            approvals.decide(pending("multi").id(), "alice", true, "ok");
            again.get(10, TimeUnit.SECONDS);
        }
        assertThat(count("SELECT count(*) FROM rh.free")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(1);
    }

    // ---- (3) the hold ends without the client: cancel, Terminate, a dropped connection, the kill switch,
    //          the upstream's end, shutdown. The statement must never run, whatever an approver does later.

    /** An approval given after the session gave up: refused by the store, or at least never run. */
    static void approveTooLate(ApprovalRequest r) throws Exception {
        Thread.sleep(300);
        try {
            approvals.decide(r.id(), "alice", true, "too late");
        } catch (IllegalStateException expectedWhenAlreadyEnded) {
            // the request was ended with the session
        }
        Thread.sleep(500);
    }

    static void neverRan(ApprovalRequest r, String table) throws Exception {
        assertThat(count("SELECT count(*) FROM " + table)).as("the held statement ran").isZero();
        assertThat(status(r.id())).as("request %s", r.id()).isIn(ApprovalRequest.Status.EXPIRED, ApprovalRequest.Status.DENIED);
        assertThat(events(r.id())).as("events of the request").doesNotContain("used").hasSize(2).startsWith("requested");
    }

    @Test
    void aCancelEndsTheHoldAndTheSessionGoesOn() throws Exception {
        try (Connection c = agent(""); Statement s = c.createStatement()) {
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'cancelled')"));
            ApprovalRequest r = pending("cancelled");
            s.cancel();
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"))
                    .hasMessageContaining("approval request " + r.id() + " abandoned: the client cancelled the wait");
            approveTooLate(r);
            neverRan(r, "rh.t");
            try (ResultSet rs = s.executeQuery("SELECT 42")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
    }

    @Test
    void aClientThatDropsItsConnectionWhileHeldNeverRunsTheStatement() throws Exception {
        ApprovalRequest r;
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            unnamed(w, "INSERT INTO rh.t VALUES (1, 'dropped')");
            QueryMessage.sync(w);
            send(s, w);
            r = pending("dropped");
        }
        approveTooLate(r);
        neverRan(r, "rh.t");
    }

    @Test
    void aTerminateSentWhileHeldEndsTheHold() throws Exception {
        ApprovalRequest r;
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            unnamed(w, "INSERT INTO rh.t VALUES (1, 'terminated')");
            QueryMessage.sync(w);
            send(s, w);
            r = pending("terminated");
            w = new PgWriter();
            w.begin('X').end();
            send(s, w);
            approveTooLate(r);
        }
        neverRan(r, "rh.t");
    }

    @Test
    void aTerminatePipelinedBehindTheHeldStatementEndsTheHold() throws Exception {
        ApprovalRequest r;
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            unnamed(w, "INSERT INTO rh.t VALUES (1, 'terminated-at-once')");
            QueryMessage.sync(w);
            w.begin('X').end();
            send(s, w);
            // Its request may be over before anyone sees it pending: the client had already said goodbye.
            waitFor(() -> requests("terminated-at-once").size() == 1, "the request is opened");
            r = requests("terminated-at-once").getFirst();
            approveTooLate(r);
        }
        neverRan(r, "rh.t");
    }

    @Test
    void theKillSwitchEndsTheHold() throws Exception {
        try (Connection c = agent(""); Statement s = c.createStatement()) {
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'killed')"));
            ApprovalRequest r = pending("killed");
            killSwitch.disable(ProxyFixture.AGENT, "alice", "stop");
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isNotNull());
            approveTooLate(r);
            neverRan(r, "rh.t");
        } finally {
            killSwitch.enable(ProxyFixture.AGENT, "alice", null);
        }
    }

    @Test
    void anUpstreamThatDiesWhileHeldEndsTheHold() throws Exception {
        try (Connection c = agent(""); Statement s = c.createStatement()) {
            long pid;
            try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getLong(1);
            }
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'upstream-gone')"));
            ApprovalRequest r = pending("upstream-gone");
            try (Connection d = fx.direct(); Statement ds = d.createStatement()) {
                ds.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            // The server's own FATAL (57P01 from pg_terminate_backend) or Warden's 08006.
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isIn("57P01", "08006"));
            approveTooLate(r);
            neverRan(r, "rh.t");
        }
    }

    /** A ledger whose fsync of one kind of approval event takes a while, as a real one may under load. */
    static final class SlowLedger implements dev.warden.core.ledger.Ledger {
        final MemoryLedger entries = new MemoryLedger();
        final String slowVerdict;
        final long millis;

        SlowLedger(String slowVerdict, long millis) {
            this.slowVerdict = slowVerdict;
            this.millis = millis;
        }

        @Override
        public long append(Entry entry, dev.warden.core.ledger.Durability durability) {
            if (entry instanceof Entry.ApprovalEntry a && a.verdict().equals(slowVerdict)) {
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return entries.append(entry, durability);
        }

        @Override
        public void writeStaged(long seq) {}

        @Override
        public void afterSync(long seq, java.util.function.Consumer<dev.warden.core.ledger.LedgerException> then) {
            then.accept(null);
        }

        @Override
        public boolean healthy() {
            return true;
        }

        @Override
        public void close() {}
    }

    static FileApprovals store(dev.warden.core.ledger.Ledger l) throws Exception {
        List<AgentConfig> agents = List.of(new AgentConfig(ProxyFixture.AGENT, new Secret(ProxyFixture.AGENT_SECRET), List.of()));
        return FileApprovals.open(Files.createTempDirectory(fx.dir, "hold-store"), l,
                Approvers.of(List.of(new ApproverConfig("alice", new Secret("t"))), agents), java.time.Clock.systemUTC(), new Metrics());
    }

    /** A listener on a gate of its own, with this approval store and ledger. */
    static PgFrontEnd frontEnd(FileApprovals store, dev.warden.core.ledger.Ledger l) throws Exception {
        Gate g = new Gate(Map.of("rhold", gate.target("rhold").orElseThrow()), gate.policy(), store, l, null);
        PgFrontEnd f = new PgFrontEnd(new FrontEndContext(g, config, List.of(db)),
                TlsMaterial.context(db.listener().tls(), config.dataDir()), line -> System.err.println(line));
        f.start();
        return f;
    }

    /**
     * A CancelRequest that comes while the held statement's request is still being opened (its ledger entry takes a
     * while): the hold ends as soon as it begins, instead of the cancel finding no wait to end and being lost.
     */
    @Test
    void aCancelBeforeTheWaitBeginsEndsTheHold() throws Exception {
        SlowLedger slow = new SlowLedger("requested", 1000);
        try (FileApprovals store = store(slow)) {
            PgFrontEnd other = frontEnd(store, slow);
            try (Connection c = agent(other, ""); Statement s = c.createStatement()) {
                CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'early-cancel')"));
                Thread.sleep(300);
                // (Not store.list(): it waits for the store's lock, which the opening holds.)
                assertThat(slow.entries.entries()).as("the request is still being opened")
                        .noneMatch(e -> e instanceof Entry.ApprovalEntry);
                s.cancel();
                assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
                ApprovalRequest r = store.list().getFirst();
                assertThat(r.status()).isEqualTo(ApprovalRequest.Status.EXPIRED);
                assertThatThrownBy(() -> store.decide(r.id(), "alice", true, "too late")).isInstanceOf(IllegalStateException.class);
                try (ResultSet rs = s.executeQuery("SELECT 42")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(42);
                }
            } finally {
                other.close();
            }
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    /**
     * SIGTERM while a statement is held: the session ends at once (a held statement has not started, so it is not
     * waited for through the grace), the request's expiry is in the ledger before close returns (the service closes
     * the ledger right after), and an approval given later runs nothing.
     */
    @Test
    void shutdownEndsAHoldAtOnceAndRecordsItsExpiryBeforeTheLedgerCloses() throws Exception {
        SlowLedger slow = new SlowLedger("expired", 500);
        try (FileApprovals store = store(slow)) {
            PgFrontEnd other = frontEnd(store, slow);
            // A grace far beyond what closing takes on a loaded machine: waiting it out is told apart without doubt.
            other.grace(Duration.ofSeconds(60));
            try (Connection c = agent(other, ""); Statement s = c.createStatement()) {
                CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'shutdown')"));
                waitFor(() -> store.list().stream().anyMatch(r -> r.status() == ApprovalRequest.Status.PENDING), "it is held");
                ApprovalRequest r = store.list().getFirst();
                long t0 = System.nanoTime();
                other.close();
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("a held statement is not a running one")
                        .isLessThan(Duration.ofSeconds(30));
                assertThat(slow.entries.entries()).filteredOn(e -> e instanceof Entry.ApprovalEntry a && a.requestId().equals(r.id()))
                        .extracting(e -> ((Entry.ApprovalEntry) e).verdict()).containsExactly("requested", "expired");
                assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isNotNull());
                Thread.sleep(300);
                assertThatThrownBy(() -> store.decide(r.id(), "alice", true, "too late")).isInstanceOf(IllegalStateException.class);
                Thread.sleep(300);
                assertThat(count("SELECT count(*) FROM rh.t")).isZero();
            } finally {
                other.close();
            }
        }
    }

    // ---- (4) what the approval binds

    /** Bind the same named statement with other parameters: each Execute is a request of its own. */
    @Test
    void otherParametersForTheSameStatementAskAgain() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("s1", "INSERT INTO rh.t VALUES ($1::int, 'bind')", new int[0]).write(w);
            new QueryMessage.Bind("", "s1", new int[0], new byte[][] {"1".getBytes()}, new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            new QueryMessage.Bind("", "s1", new int[0], new byte[][] {"2".getBytes()}, new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            send(s, w);
            ApprovalRequest first = pending("'bind'");
            assertThat(first.operation().parameters()).containsExactly("1");
            approvals.decide(first.id(), "alice", true, "ok");
            waitFor(() -> requests("'bind'").size() == 2, "the second Execute asks");
            ApprovalRequest second = pending("'bind'");
            assertThat(second.operation().parameters()).containsExactly("2");
            assertThat(second.hash()).isNotEqualTo(first.hash());
            approvals.decide(second.id(), "alice", false, "no");
            assertThat(RawClient.types(readUntilReady(s, 2)).replace("N", "")).isEqualTo("12CZ2EZ");
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM rh.t WHERE id = 1")).isEqualTo(1);
    }

    /** A Close and a Parse of the same name pipelined behind the held Execute: the held one runs its own text, once. */
    @Test
    void aNameClosedAndReusedBehindAHeldExecuteDoesNotChangeWhatRuns() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("s2", "INSERT INTO rh.t VALUES (1, 'reuse')", new int[0]).write(w);
            new QueryMessage.Bind("", "s2", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            w.begin('C').byte1('S').cstring("s2").end();
            new QueryMessage.Parse("s2", "INSERT INTO rh.free VALUES (9)", new int[0]).write(w);
            new QueryMessage.Bind("", "s2", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            send(s, w);
            ApprovalRequest r = pending("'reuse'");
            approvals.decide(r.id(), "alice", true, "ok");
            assertThat(RawClient.types(readUntilReady(s, 1)).replace("N", "")).isEqualTo("12C312CZ");
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM rh.free WHERE id = 9")).isEqualTo(1);
    }

    /** A portal fetched in parts: the approval covers its one execution, the rest of its rows are fetched without asking. */
    @Test
    void aPortalFetchedInPartsIsApprovedOnceAndRunsOnce() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            new QueryMessage.Query("BEGIN").write(w);
            new QueryMessage.Parse("", "INSERT INTO rh.t SELECT g, 'parts' FROM generate_series(1, 3) g RETURNING id", new int[0]).write(w);
            new QueryMessage.Bind("c1", "", new int[0], new byte[0][], new int[0]).write(w);
            new QueryMessage.Execute("c1", 1).write(w);
            QueryMessage.sync(w);
            new QueryMessage.Execute("c1", 1).write(w);
            QueryMessage.sync(w);
            new QueryMessage.Execute("c1", 0).write(w);
            QueryMessage.sync(w);
            new QueryMessage.Query("COMMIT").write(w);
            send(s, w);
            approvals.decide(pending("'parts'").id(), "alice", true, "ok");
            assertThat(RawClient.types(readUntilReady(s, 5)).replace("N", "")).isEqualTo("CZ" + "12DsZ" + "DsZ" + "DCZ" + "CZ");
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(3);
        assertThat(requests("'parts'")).hasSize(1);
    }

    /** Two sessions of the agent hold the identical statement: one approval runs one of them, once. */
    @Test
    void oneApprovalRunsOneOfTwoIdenticalHeldStatements() throws Exception {
        String sql = "INSERT INTO rh.t VALUES (5, 'twins')";
        try (Connection a = agent(""); Statement sa = a.createStatement(); Connection b = agent(""); Statement sb = b.createStatement()) {
            CompletableFuture<Void> first = async(() -> sa.executeUpdate(sql));
            ApprovalRequest ra = pending("twins");
            CompletableFuture<Void> second = async(() -> sb.executeUpdate(sql));
            waitFor(() -> requests("twins").size() == 2, "both are held");
            assertThat(requests("twins")).extracting(ApprovalRequest::hash).containsOnly(ra.hash());
            approvals.decide(ra.id(), "alice", true, "ok");
            first.get(10, TimeUnit.SECONDS);
            Thread.sleep(300);
            assertThat(second).isNotDone();
            assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(1);
            ApprovalRequest rb = pending("twins");
            approvals.decide(rb.id(), "alice", false, "no");
            assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(1);
    }

    // ---- (5) COPY and SQL PREPARE

    /** COPY data pipelined behind a held COPY: nothing reaches the server while held, and a denial swallows it. */
    @Test
    void copyDataBehindADeniedHeldCopyIsSwallowed() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            new QueryMessage.Query("COPY rh.t FROM STDIN").write(w);
            w.begin('d').bytes("1\tcopied\n".getBytes(StandardCharsets.UTF_8)).end();
            w.begin('c').end();
            new QueryMessage.Query("SELECT 42").write(w);
            send(s, w);
            ApprovalRequest r = pending("COPY rh.t");
            Thread.sleep(200);
            assertThat(count("SELECT count(*) FROM rh.t")).isZero();
            approvals.decide(r.id(), "alice", false, "no");
            List<Frame> got = readUntilReady(s, 2);
            assertThat(RawClient.types(got).replace("N", "")).isEqualTo("EZTDCZ");
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    @Test
    void anApprovedHeldCopyTakesItsData() throws Exception {
        try (Connection c = agent("")) {
            org.postgresql.copy.CopyManager copy = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI();
            CompletableFuture<Void> held = async(() -> copy.copyIn("COPY rh.t FROM STDIN",
                    new java.io.StringReader("1\tcopied\n2\tcopied\n")));
            approvals.decide(pending("COPY rh.t").id(), "alice", true, "ok");
            held.get(10, TimeUnit.SECONDS);
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(2);
    }

    /** SQL PREPARE of a held write, then EXECUTE: each EXECUTE (and its parameters) is a request of its own. */
    @Test
    void sqlExecuteOfAPreparedHeldWriteAsksEachTime() throws Exception {
        try (Connection c = agent("preferQueryMode=simple"); Statement s = c.createStatement()) {
            CompletableFuture<Void> prep = async(() -> s.execute("PREPARE hw(int) AS INSERT INTO rh.t VALUES ($1, 'sqlprep')"));
            // PREPARE itself runs nothing; if Warden holds it, approve it.
            try {
                prep.get(2, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException held) {
                approvals.decide(pending("PREPARE hw").id(), "alice", true, "ok");
                prep.get(10, TimeUnit.SECONDS);
            }
            assertThat(count("SELECT count(*) FROM rh.t")).isZero();
            CompletableFuture<Void> one = async(() -> s.execute("EXECUTE hw(1)"));
            approvals.decide(pending("EXECUTE hw(1)").id(), "alice", true, "ok");
            one.get(10, TimeUnit.SECONDS);
            CompletableFuture<Void> two = async(() -> s.execute("EXECUTE hw(2)"));
            ApprovalRequest r2 = pending("EXECUTE hw(2)");
            approvals.decide(r2.id(), "alice", false, "no");
            assertThatThrownBy(() -> two.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
            CompletableFuture<Void> again = async(() -> s.execute("EXECUTE hw(1)"));
            ApprovalRequest r3 = pending("EXECUTE hw(1)");
            approvals.decide(r3.id(), "alice", false, "no");
            assertThatThrownBy(() -> again.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(1);
        assertThat(count("SELECT count(*) FROM rh.t WHERE id = 1")).isEqualTo(1);
    }

    /** A statement made by SQL PREPARE, bound and executed through the protocol: held (or refused), never run unjudged. */
    @Test
    void aProtocolExecuteOfASqlPreparedHeldWriteIsHeld() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            new QueryMessage.Query("PREPARE hw2(int) AS INSERT INTO rh.t VALUES ($1, 'sqlprep2')").write(w);
            assertThat(RawClient.errors(RawClient.exchange(s, w.toByteArray(), 1))).isEmpty();
            w = new PgWriter();
            new QueryMessage.Bind("", "hw2", new int[0], new byte[][] {"3".getBytes()}, new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            send(s, w);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (requests("sqlprep2").isEmpty() && System.nanoTime() < deadline) Thread.sleep(10);
            if (!requests("sqlprep2").isEmpty()) {
                ApprovalRequest r = pending("sqlprep2");
                assertThat(count("SELECT count(*) FROM rh.t")).isZero();
                approvals.decide(r.id(), "alice", false, "no");
            }
            List<Frame> got = readUntilReady(s, 1);
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501");
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    /**
     * A Flush sent the held statement's Parse and Bind upstream before its Execute came: the server has planned it, in
     * an implicit transaction, and holds its locks while a person decides. The approver is told, as for a statement
     * held inside a transaction block.
     */
    @Test
    void aStatementWhoseBindAFlushSentAheadIsMarkedAsHoldingLocks() throws Exception {
        try (Socket s = raw()) {
            long pid = backendPid(s);
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("", "INSERT INTO rh.t VALUES (1, 'flushed')", new int[0]).write(w);
            new QueryMessage.Bind("", "", new int[0], new byte[0][], new int[0]).write(w);
            QueryMessage.flush(w);
            send(s, w);
            FrameReader replies = new FrameReader(s.getInputStream(), 1 << 20);
            assertThat((char) replies.read().type()).isEqualTo('1');
            assertThat((char) replies.read().type()).isEqualTo('2');
            w = new PgWriter();
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            send(s, w);
            ApprovalRequest r = pending("'flushed'");
            assertThat(count("SELECT count(*) FROM pg_locks WHERE pid = " + pid + " AND relation = 'rh.t'::regclass"))
                    .as("the server holds the held statement's locks").isPositive();
            assertThat(r.inTransaction()).as("the request says its locks are held").isTrue();
            approvals.decide(r.id(), "alice", false, "no");
            StringBuilder types = new StringBuilder();
            for (Frame f = replies.read(); ; f = replies.read()) {
                types.append((char) f.type());
                if (f.type() == 'Z') break;
            }
            assertThat(types.toString().replace("N", "")).isEqualTo("EZ");
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    /**
     * An earlier statement of the pipeline fails upstream while the next one is held: the server skips the held one
     * whatever is decided. Approved, it does not run; its outcome says so; the replies stay matched (the session goes on).
     */
    @Test
    void anApprovedHoldBehindAFailedStatementOfItsPipelineDoesNotRun() throws Exception {
        try (Socket s = raw()) {
            PgWriter w = new PgWriter();
            // Fails at Execute (a subquery is not folded at Bind).
            unnamed(w, "SELECT 1/(SELECT 0)");
            unnamed(w, "INSERT INTO rh.t VALUES (1, 'after-error')");
            QueryMessage.sync(w);
            unnamed(w, "SELECT 7");
            QueryMessage.sync(w);
            send(s, w);
            // The error may be back before the Execute is judged (the portal is then gone, and the Execute refused
            // without a request); otherwise the statement is held, and approved here.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (requests("after-error").isEmpty() && System.nanoTime() < deadline) Thread.sleep(10);
            ApprovalRequest r = requests("after-error").isEmpty() ? null : pending("after-error");
            if (r != null) approvals.decide(r.id(), "alice", true, "ok");
            List<Frame> got = readUntilReady(s, 2);
            assertThat(RawClient.types(got).replace("N", "")).isEqualTo("12EZ" + "12DCZ");
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("22012");
            if (r != null) {
                long decision = decisionSeqs(r.id()).getFirst();
                assertThat(outcomesSoon(decision)).isEqualTo(1);
                assertThat(ledger.entries()).filteredOn(e -> e instanceof Entry.OutcomeEntry o && o.decisionSeq() == decision)
                        .singleElement().satisfies(e -> assertThat(((Entry.OutcomeEntry) e).outcome().error()).contains("not executed"));
            }
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    /** Over TLS the client is read while held too: pgjdbc's close (a Terminate, then close_notify) ends the hold. */
    @Test
    void aTlsClientThatClosesWhileHeldNeverRunsTheStatement() throws Exception {
        ListenerConfig tls = new ListenerConfig(new dev.warden.core.config.TlsConfig(dev.warden.core.config.TlsConfig.Mode.REQUIRED, null, null),
                1 << 20, Duration.ofSeconds(5), Duration.ofMinutes(10), 30);
        DatabaseConfig tlsDb = Listeners.db(fx, "rhold", tls);
        PgFrontEnd other = new PgFrontEnd(new FrontEndContext(gate, config, List.of(tlsDb)),
                TlsMaterial.context(tls.tls(), config.dataDir()), line -> System.err.println(line));
        other.start();
        ApprovalRequest r;
        try {
            Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + other.port() + "/rhold?sslmode=require",
                    ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET);
            Statement s = c.createStatement();
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'tls-closed')"));
            r = pending("tls-closed");
            c.close();
            held.exceptionally(e -> null);
            approveTooLate(r);
        } finally {
            other.close();
        }
        neverRan(r, "rh.t");
    }

    /**
     * The server's idle_in_transaction_session_timeout ends the upstream session under a statement held inside a
     * transaction block (the server is idle in it while a person decides): the hold ends with the session, and a later
     * approval runs nothing. (In the middle of an extended-protocol pipeline the server arms no such timeout.)
     */
    @Test
    void theServersIdleInTransactionTimeoutEndsAHoldWithItsSession() throws Exception {
        try (Connection c = agent("preferQueryMode=simple"); Statement s = c.createStatement()) {
            s.execute("SET idle_in_transaction_session_timeout = 1000");
            c.setAutoCommit(false);
            s.executeUpdate("INSERT INTO rh.free VALUES (1)");
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'idle-in-tx')"));
            ApprovalRequest r = pending("idle-in-tx");
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isIn("25P03", "08006"));
            approveTooLate(r);
            neverRan(r, "rh.t");
        }
        assertThat(count("SELECT count(*) FROM rh.free")).isZero();
    }

    /**
     * A cancel while a statement is held behind one still running upstream (pgjdbc pipelines the statements of one
     * string before one Sync): as PostgreSQL would, the running one is cancelled too, not only the wait.
     */
    @Test
    void aCancelWhileHeldAlsoCancelsWhatRunsUpstreamBeforeIt() throws Exception {
        try (Connection c = agent(""); Statement s = c.createStatement()) {
            CompletableFuture<Void> held = async(() -> s.execute("SELECT count(*) FROM generate_series(1, 200000000); INSERT INTO rh.t VALUES (1, 'behind-sleep')"));
            ApprovalRequest r = pending("behind-sleep");
            // The count runs first, and the INSERT's Parse and Bind wait behind it on the server.
            assertThat(r.inTransaction()).as("the request says its locks are held").isTrue();
            s.cancel();
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isIn("57014", "42501"));
            // Uncancelled, the count runs on upstream for many seconds after the client got its answer.
            assertThat(count("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                    + " AND query LIKE 'SELECT count(*) FROM generate_series(1, 200000000)%'")).as("the running count was cancelled").isZero();
            assertThat(status(r.id())).isEqualTo(ApprovalRequest.Status.EXPIRED);
            try (ResultSet rs = s.executeQuery("SELECT 42")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isZero();
    }

    // ---- (6) what the server holds while a person decides

    static long backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static long backendPid(Socket s) throws Exception {
        PgWriter w = new PgWriter();
        new QueryMessage.Query("SELECT pg_backend_pid()").write(w);
        for (Frame f : RawClient.exchange(s, w.toByteArray(), 1)) {
            if (f.type() != 'D') continue;
            PgReader r = f.reader();
            r.int16();
            return Long.parseLong(new String(r.bytes(r.int32()), StandardCharsets.US_ASCII));
        }
        throw new AssertionError("no backend pid");
    }

    /**
     * While a statement is held: nothing of it reached the server (the session's backend is idle, with no lock on the
     * table), a migration's ALTER TABLE gets its lock at once instead of queueing (and every later query behind it),
     * and the request says that no locks are held.
     */
    static void heldWithoutLocks(ApprovalRequest r, long pid, String table) throws Exception {
        try (Connection d = fx.direct(); Statement s = d.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT a.state, (SELECT count(*) FROM pg_locks l WHERE l.pid = a.pid"
                    + " AND l.relation = '" + table + "'::regclass) FROM pg_stat_activity a WHERE a.pid = " + pid)) {
                assertThat(rs.next()).as("the held session's backend").isTrue();
                assertThat(rs.getLong(2)).as("its locks on " + table).isZero();
                assertThat(rs.getString(1)).as("its state").isEqualTo("idle");
            }
            s.execute("SET lock_timeout = '1s'");
            s.execute("ALTER TABLE " + table + " ADD COLUMN during_hold int");
            s.execute("ALTER TABLE " + table + " DROP COLUMN during_hold");
        }
        assertThat(r.inTransaction()).as("the request says locks are held").isFalse();
    }

    static void ranOnce(ApprovalRequest r) throws Exception {
        assertThat(events(r.id())).containsExactly("requested", "approved", "used");
        assertThat(outcomesSoon(decisionSeqs(r.id()).getFirst())).as("its outcome").isEqualTo(1);
    }

    /**
     * pgjdbc past prepareThreshold: the first execution sends Parse, Bind, Describe and Execute of a named statement,
     * the next ones Bind and Execute. Held, none of it reaches the server before the decision; approved, it runs once;
     * denied, the named statement is still there for the next execution.
     */
    @Test
    void aHeldJdbcInsertKeepsNoLockWhileItWaits() throws Exception {
        try (Connection c = agent("prepareThreshold=1"); PreparedStatement ps = c.prepareStatement("INSERT INTO rh.t VALUES (?, 'unlocked-jdbc')")) {
            long pid = backendPid(c);
            for (int run = 1; run <= 3; run++) {
                ps.setInt(1, run);
                CompletableFuture<Void> held = async(ps::executeUpdate);
                ApprovalRequest r = pending("unlocked-jdbc");
                heldWithoutLocks(r, pid, "rh.t");
                boolean approve = run != 2;
                approvals.decide(r.id(), "alice", approve, approve ? "ok" : "no");
                if (approve) {
                    held.get(10, TimeUnit.SECONDS);
                    ranOnce(r);
                } else {
                    assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
                    assertThat(backendPid(c)).as("the session goes on").isEqualTo(pid);
                }
            }
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM rh.t WHERE id IN (1, 3)")).isEqualTo(2);
    }

    /**
     * The same in plain extended protocol: a denial gets the replies it got when the Parse and Bind went first
     * (ParseComplete, BindComplete, NoData, the 42501, ReadyForQuery), and the named statement exists afterwards.
     */
    @Test
    void aHeldExtendedProtocolInsertKeepsNoLockWhileItWaits() throws Exception {
        try (Socket s = raw()) {
            long pid = backendPid(s);
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("ins", "INSERT INTO rh.t VALUES ($1::int, 'unlocked-raw')", new int[0]).write(w);
            new QueryMessage.Bind("", "ins", new int[0], new byte[][] {"1".getBytes()}, new int[0]).write(w);
            w.begin('D').byte1('P').cstring("").end();
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            send(s, w);
            ApprovalRequest denied = pending("unlocked-raw");
            heldWithoutLocks(denied, pid, "rh.t");
            approvals.decide(denied.id(), "alice", false, "no");
            List<Frame> got = readUntilReady(s, 1);
            assertThat(RawClient.types(got).replace("N", "")).isEqualTo("12nEZ");
            assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501");

            w = new PgWriter();
            new QueryMessage.Bind("", "ins", new int[0], new byte[][] {"2".getBytes()}, new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            send(s, w);
            ApprovalRequest named = pending("unlocked-raw");
            heldWithoutLocks(named, pid, "rh.t");
            approvals.decide(named.id(), "alice", true, "ok");
            assertThat(RawClient.types(readUntilReady(s, 1)).replace("N", "")).isEqualTo("2CZ");
            ranOnce(named);

            w = new PgWriter();
            unnamed(w, "INSERT INTO rh.t VALUES (3, 'unlocked-raw')");
            QueryMessage.sync(w);
            send(s, w);
            ApprovalRequest unnamed = pending("unlocked-raw");
            heldWithoutLocks(unnamed, pid, "rh.t");
            approvals.decide(unnamed.id(), "alice", true, "ok");
            assertThat(RawClient.types(readUntilReady(s, 1)).replace("N", "")).isEqualTo("12CZ");
            ranOnce(unnamed);
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(2);
        assertThat(count("SELECT count(*) FROM rh.t WHERE id IN (2, 3)")).isEqualTo(2);
    }

    @Test
    void anExpiredHoldKeptNoLockWhileItWaited() throws Exception {
        try (Connection c = agent(""); PreparedStatement ps = c.prepareStatement("INSERT INTO rh.q VALUES (?)")) {
            long pid = backendPid(c);
            ps.setInt(1, 1);
            CompletableFuture<Void> held = async(ps::executeUpdate);
            ApprovalRequest r = pending("rh.q VALUES");
            heldWithoutLocks(r, pid, "rh.q");
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"))
                    .hasMessageContaining("expired");
            assertThat(events(r.id())).containsExactly("requested", "expired");
            assertThat(backendPid(c)).as("the session goes on").isEqualTo(pid);
        }
        assertThat(count("SELECT count(*) FROM rh.q")).isZero();
    }

    @Test
    void aCancelledHoldKeptNoLockWhileItWaited() throws Exception {
        try (Connection c = agent(""); Statement s = c.createStatement()) {
            long pid = backendPid(c);
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'unlocked-cancel')"));
            ApprovalRequest r = pending("unlocked-cancel");
            heldWithoutLocks(r, pid, "rh.t");
            s.cancel();
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isEqualTo("42501"));
            approveTooLate(r);
            neverRan(r, "rh.t");
            assertThat(backendPid(c)).as("the session goes on").isEqualTo(pid);
        }
    }

    /**
     * The client goes away while its statement is held: nothing of it is sent, not even the Parse and Bind that waited
     * for the decision. Seen on the server: with the table locked on a direct connection, the held session's backend
     * ends at once; a Parse of the INSERT would have waited for the lock.
     */
    @Test
    void aClientThatLeavesWhileHeldSendsNothingOfTheStatement() throws Exception {
        ApprovalRequest r;
        long pid;
        try (Connection d = fx.direct(); Statement ds = d.createStatement()) {
            try (Socket s = raw()) {
                pid = backendPid(s);
                PgWriter w = new PgWriter();
                unnamed(w, "INSERT INTO rh.t VALUES (1, 'unlocked-left')");
                QueryMessage.sync(w);
                send(s, w);
                r = pending("unlocked-left");
                heldWithoutLocks(r, pid, "rh.t");
                d.setAutoCommit(false);
                ds.execute("SET lock_timeout = '1s'");
                ds.execute("LOCK TABLE rh.t IN ACCESS EXCLUSIVE MODE");
            }
            waitFor(() -> status(r.id()) != ApprovalRequest.Status.PENDING, "the hold ends");
            waitFor(() -> {
                try {
                    return count("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid) == 0;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "the held session's backend ends without waiting for the table");
            d.rollback();
        }
        approveTooLate(r);
        neverRan(r, "rh.t");
    }

    /**
     * Nothing of the held statement's transaction is on the server, so the server's session is idle while a person
     * decides, as for a held simple Query: a server-side idle_session_timeout ends it, and the hold with it.
     */
    @Test
    void theServersIdleSessionTimeoutEndsAHoldThatKeepsNothingOnTheServer() throws Exception {
        try (Connection c = agent(""); Statement s = c.createStatement()) {
            s.execute("SET idle_session_timeout = 1000");
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'idle-session')"));
            ApprovalRequest r = pending("idle-session");
            assertThatThrownBy(() -> held.get(10, TimeUnit.SECONDS)).satisfies(e -> assertThat(sqlState(e)).isIn("57P05", "08006"));
            approveTooLate(r);
            neverRan(r, "rh.t");
        }
    }

    /** A text longer than what Warden collects before it sends (64 KiB) is kept back too. */
    @Test
    void aHeldLongInsertKeepsNoLockWhileItWaits() throws Exception {
        String text = "long-" + "x".repeat(100_000);
        try (Connection c = agent(""); Statement s = c.createStatement()) {
            long pid = backendPid(c);
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, '" + text + "')"));
            ApprovalRequest r = pending("'long-x");
            heldWithoutLocks(r, pid, "rh.t");
            approvals.decide(r.id(), "alice", true, "ok");
            held.get(10, TimeUnit.SECONDS);
            ranOnce(r);
        }
        assertThat(count("SELECT count(*) FROM rh.t WHERE length(v) = " + text.length())).isEqualTo(1);
    }

    /** The simple protocol never sent a held Query ahead of its decision: nothing changes, no lock is held. */
    @Test
    void aHeldSimpleQueryKeepsNoLockWhileItWaits() throws Exception {
        try (Connection c = agent("preferQueryMode=simple"); Statement s = c.createStatement()) {
            long pid = backendPid(c);
            CompletableFuture<Void> held = async(() -> s.executeUpdate("INSERT INTO rh.t VALUES (1, 'unlocked-simple')"));
            ApprovalRequest r = pending("unlocked-simple");
            heldWithoutLocks(r, pid, "rh.t");
            approvals.decide(r.id(), "alice", true, "ok");
            held.get(10, TimeUnit.SECONDS);
            ranOnce(r);
        }
        assertThat(count("SELECT count(*) FROM rh.t")).isEqualTo(1);
    }
}
