package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Action;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.ledger.Entry;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

class WireProxyTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    static void eventually(Runnable assertion) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (true) {
            try {
                assertion.run();
                return;
            } catch (AssertionError e) {
                if (System.nanoTime() > deadline) throw e;
                Thread.sleep(20);
            }
        }
    }

    private static long scalar(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended", "preferQueryMode=extendedForPrepared"})
    void allowedReadsReturnTheRightRows(String mode) throws Exception {
        try (Connection c = fx.agent(mode)) {
            assertThat(scalar(c, "SELECT count(*) FROM users")).isEqualTo(100);
            try (PreparedStatement ps = c.prepareStatement("SELECT name, email FROM users WHERE id = ?")) {
                ps.setInt(1, 42);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("user42");
                    assertThat(rs.getString(2)).isEqualTo("u42@example.com");
                    assertThat(rs.next()).isFalse();
                }
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM users ORDER BY id")) {
                int n = 0;
                while (rs.next()) assertThat(rs.getInt(1)).isEqualTo(++n);
                assertThat(n).isEqualTo(100);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void aDeniedStatementIs42501AndChangesNothing(String mode) throws Exception {
        long before = fx.directCount("SELECT count(*) FROM audit_log");
        try (Connection c = fx.agent(mode); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM audit_log"))
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> {
                        assertThat(((SQLException) e).getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("warden: denied by rule \"protect-audit-log\"")
                                .contains("writes on the audit log are forbidden");
                    });
            // the session stays usable
            assertThat(scalar(c, "SELECT count(*) FROM users")).isEqualTo(100);
            assertThatThrownBy(() -> s.execute("UPDATE users SET name = 'x'"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
                    .hasMessageContaining("default deny");
            assertThat(scalar(c, "SELECT count(*) FROM users")).isEqualTo(100);
        }
        assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isEqualTo(before);
        assertThat(fx.directCount("SELECT count(*) FROM users WHERE name = 'x'")).isZero();
    }

    @Test
    void aHiddenWriteThroughTheExtendedProtocolIsDenied() throws Exception {
        long before = fx.directCount("SELECT count(*) FROM audit_log");
        try (Connection c = fx.agent("preferQueryMode=extended");
             PreparedStatement ps = c.prepareStatement("WITH d AS (DELETE FROM audit_log WHERE id > ? RETURNING 1) SELECT count(*) FROM d")) {
            ps.setInt(1, 0);
            assertThatThrownBy(ps::executeQuery).satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            assertThat(scalar(c, "SELECT 1")).isEqualTo(1);
        }
        assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isEqualTo(before);
    }

    @Test
    void preparedStatementsAreReusedPastThePrepareThreshold() throws Exception {
        int before = fx.ledger.entries().size();
        try (Connection c = fx.agent("prepareThreshold=2");
             PreparedStatement ps = c.prepareStatement("SELECT email FROM users WHERE id = ?")) {
            for (int i = 1; i <= 10; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("u" + i + "@example.com");
                }
            }
        }
        // Outcome entries are written just after the response went to the client.
        eventually(() -> assertThat(fx.ledger.entries().subList(before, fx.ledger.entries().size()).stream()
                .filter(e -> e instanceof Entry.OutcomeEntry o && o.outcome().rows() == 1).count()).isGreaterThanOrEqualTo(10));
        List<Entry> mine = fx.ledger.entries().subList(before, fx.ledger.entries().size());
        List<Entry.DecisionEntry> decisions = mine.stream().filter(e -> e instanceof Entry.DecisionEntry d
                && d.operation().text().startsWith("SELECT email")).map(e -> (Entry.DecisionEntry) e).toList();
        // One decision per Execute, each with its own bound parameter, each followed by an outcome.
        assertThat(decisions).hasSize(10);
        assertThat(decisions).extracting(d -> d.operation().parameters().getFirst()).containsExactly("1", "2", "3", "4", "5", "6", "7", "8", "9", "10");
        assertThat(mine.stream().filter(e -> e instanceof Entry.OutcomeEntry o && o.outcome().rows() == 1).count()).isGreaterThanOrEqualTo(10);
    }

    @Test
    void decisionsNameTheClientWithItsPort() throws Exception {
        int before = fx.ledger.entries().size();
        try (Socket s = RawClient.login(fx.port(), "app", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            PgWriter w = new PgWriter();
            w.begin('Q').cstring("SELECT 4711").end();
            assertThat(RawClient.errors(RawClient.exchange(s, w.toByteArray(), 1))).isEmpty();
            String client = "127.0.0.1:" + s.getLocalPort();
            // Before, only the IP: two sessions from one host were one client to an auditor.
            eventually(() -> assertThat(fx.ledger.entries().subList(before, fx.ledger.entries().size()))
                    .anySatisfy(e -> assertThat((Object) e).isInstanceOfSatisfying(Entry.DecisionEntry.class, d -> {
                        assertThat(d.operation().text()).isEqualTo("SELECT 4711");
                        assertThat(d.operation().clientAddress()).isEqualTo(client);
                    })));
        }
    }

    @Test
    void batchesRunWhenAllowedAndStopAtADenial() throws Exception {
        long orders = fx.directCount("SELECT count(*) FROM orders");
        try (Connection c = fx.agent("");
             PreparedStatement ps = c.prepareStatement("INSERT INTO orders (user_id, amount) VALUES (?, ?)")) {
            for (int i = 0; i < 20; i++) {
                ps.setInt(1, i);
                ps.setBigDecimal(2, java.math.BigDecimal.valueOf(i));
                ps.addBatch();
            }
            assertThat(ps.executeBatch()).hasSize(20);
        }
        assertThat(fx.directCount("SELECT count(*) FROM orders")).isEqualTo(orders + 20);
        try (Connection c = fx.agent(""); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.addBatch("INSERT INTO orders (user_id, amount) VALUES (1, 1)");
            s.addBatch("INSERT INTO audit_log (what) VALUES ('sneaky')");
            s.addBatch("INSERT INTO orders (user_id, amount) VALUES (2, 2)");
            assertThatThrownBy(s::executeBatch).isInstanceOf(BatchUpdateException.class);
            c.rollback();
        }
        assertThat(fx.directCount("SELECT count(*) FROM orders")).isEqualTo(orders + 20);
        assertThat(fx.directCount("SELECT count(*) FROM audit_log WHERE what = 'sneaky'")).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void aDenialInsideATransactionAbortsItAsPostgresWould(String mode) throws Exception {
        long orders = fx.directCount("SELECT count(*) FROM orders");
        try (Connection c = fx.agent(mode); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeUpdate("INSERT INTO orders (user_id, amount) VALUES (7, 7)");
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM audit_log"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            assertThatThrownBy(() -> s.executeQuery("SELECT 1"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
            c.rollback();
            c.setAutoCommit(true);
            assertThat(scalar(c, "SELECT count(*) FROM users")).isEqualTo(100);
        }
        assertThat(fx.directCount("SELECT count(*) FROM orders")).isEqualTo(orders);
    }

    @Test
    void copyRunsBothWaysWhenAllowedAndSendsNoDataWhenDenied() throws Exception {
        long orders = fx.directCount("SELECT count(*) FROM orders");
        try (Connection c = fx.agent("")) {
            CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
            StringWriter out = new StringWriter();
            long n = cm.copyOut("COPY users (id, email) TO STDOUT", out);
            assertThat(n).isEqualTo(100);
            assertThat(out.toString()).contains("42\tu42@example.com\n");
            long in = cm.copyIn("COPY orders (user_id, amount) FROM STDIN",
                    new ByteArrayInputStream("1\t10\n2\t20\n3\t30\n".getBytes(StandardCharsets.UTF_8)));
            assertThat(in).isEqualTo(3);
            assertThatThrownBy(() -> cm.copyIn("COPY audit_log (what) FROM STDIN",
                    new ByteArrayInputStream("forged\n".getBytes(StandardCharsets.UTF_8))))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            assertThat(scalar(c, "SELECT 1")).isEqualTo(1);
        }
        assertThat(fx.directCount("SELECT count(*) FROM orders")).isEqualTo(orders + 3);
        assertThat(fx.directCount("SELECT count(*) FROM audit_log WHERE what = 'forged'")).isZero();
    }

    @Test
    void cancelStopsARunningStatement() throws Exception {
        try (Connection c = fx.agent(""); Statement s = c.createStatement()) {
            CompletableFuture.runAsync(() -> {
                try {
                    Thread.sleep(500);
                    s.cancel();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> s.executeQuery("SELECT pg_sleep(20)"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
            assertThat(scalar(c, "SELECT 2")).isEqualTo(2);
        }
    }

    @Test
    void tlsWorks() throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + fx.port() + "/app?sslmode=require";
        try (Connection c = DriverManager.getConnection(url, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            assertThat(scalar(c, "SELECT count(*) FROM users")).isEqualTo(100);
        }
    }

    @Test
    void aWrongSecretFailsAndIsRecorded() throws Exception {
        // Counted with the other denials in warden_decisions_total, as it is one in the ledger (it was not).
        long denials = dev.warden.core.metrics.Metrics.shared().decisions("deny", "postgres");
        assertThatThrownBy(() -> DriverManager.getConnection(fx.url("app", ""), ProxyFixture.AGENT, "wrong"))
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"))
                .hasMessageContaining("password authentication failed");
        assertThatThrownBy(() -> DriverManager.getConnection(fx.url("app", ""), "nobody", "x"))
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
        assertThat(fx.ledger.entries()).anySatisfy(e -> assertThat((Object) e).isInstanceOfSatisfying(Entry.DecisionEntry.class,
                d -> assertThat(d.decision().reasons().getFirst()).contains("password authentication failed for user \"agent\"")));
        assertThat(dev.warden.core.metrics.Metrics.shared().decisions("deny", "postgres")).isGreaterThanOrEqualTo(denials + 2);
    }

    @Test
    void theDatabaseMustBeServedHereAndAllowedForTheAgent() throws Exception {
        assertThatThrownBy(() -> DriverManager.getConnection(fx.url("postgres", ""), ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET))
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("3D000"));
        assertThatThrownBy(() -> DriverManager.getConnection(fx.url("app", ""), "narrow", "narrow-secret"))
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
        // an MD5 upstream, reached with the database's own credentials
        try (Connection c = DriverManager.getConnection(fx.url("md5app", ""), "narrow", "narrow-secret")) {
            assertThat(scalar(c, "SELECT count(*) FROM users")).isEqualTo(100);
            assertThat(scalar(c, "SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid() AND usename = 'warden_md5'")).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"preferQueryMode=simple", "preferQueryMode=extended"})
    void theStatementTimeoutIsSetUpstreamAndCannotBeChanged(String mode) throws Exception {
        try (Connection c = fx.agent(mode); Statement s = c.createStatement()) {
            // even though the policy allows session statements
            assertThatThrownBy(() -> s.execute("SET statement_timeout = 0"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
                    .hasMessageContaining("statement_timeout is set by Warden");
            s.execute("RESET statement_timeout");
            s.execute("SET search_path TO public");
            try (ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("30s");
            }
        }
    }

    @Test
    void malformedInputClosesOnlyThatSession() throws Exception {
        try (Connection bystander = fx.agent("")) {
            // garbage startup packet
            try (Socket s = new Socket("127.0.0.1", fx.port())) {
                s.getOutputStream().write(new byte[] {0, 0, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8});
                assertThat(readAll(s.getInputStream())).contains("08P01");
            }
            // an absurd length
            try (Socket s = new Socket("127.0.0.1", fx.port())) {
                s.getOutputStream().write(new byte[] {0x7f, 0x7f, 0x7f, 0x7f});
                readAll(s.getInputStream());
            }
            // truncated message after a real login: the raw socket goes through SCRAM with the pgjdbc-free client below
            try (Socket s = RawClient.login(fx.port(), "app", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                OutputStream o = s.getOutputStream();
                o.write(new byte[] {'Q', 0, 0, 0, 50, 'S', 'E', 'L'});
                o.flush();
                s.shutdownOutput();
                assertThat(readAll(s.getInputStream())).contains("08P01");
            }
            try (Socket s = RawClient.login(fx.port(), "app", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
                OutputStream o = s.getOutputStream();
                o.write(new byte[] {'B', 0, 0, 0, 6, 0, 0});
                o.flush();
                assertThat(readAll(s.getInputStream())).contains("08P01");
            }
            assertThat(scalar(bystander, "SELECT count(*) FROM users")).isEqualTo(100);
        }
        try (Connection c = fx.agent("")) {
            assertThat(scalar(c, "SELECT 3")).isEqualTo(3);
        }
    }

    static String readAll(InputStream in) throws Exception {
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void anApprovalHoldWaitsForAPersonAndOtherSessionsKeepWorking() throws Exception {
        try (Connection c = fx.agent(""); Statement s = c.createStatement(); Connection other = fx.agent("")) {
            CompletableFuture<Void> ddl = CompletableFuture.runAsync(() -> {
                try {
                    s.execute("CREATE TABLE held_table (id int)");
                } catch (SQLException e) {
                    throw new RuntimeException(e);
                }
            });
            ApprovalRequest r = fx.approvals.awaitPending(Duration.ofSeconds(10));
            assertThat(r.operation().text()).isEqualTo("CREATE TABLE held_table (id int)");
            assertThat(scalar(other, "SELECT count(*) FROM users")).isEqualTo(100);
            assertThat(fx.directCount("SELECT count(*) FROM pg_tables WHERE tablename = 'held_table'")).isZero();
            fx.approvals.decide(r.id(), "alice", true, "ok");
            ddl.get(10, TimeUnit.SECONDS);
            SQLWarning w = s.getWarnings();
            assertThat((Object) w).isNotNull();
            assertThat(w.getMessage()).contains("waiting for approval of request " + r.id());
        }
        assertThat(fx.directCount("SELECT count(*) FROM pg_tables WHERE tablename = 'held_table'")).isEqualTo(1);
    }

    @Test
    void whenTheUpstreamDiesTheSessionEndsClearlyAndNewSessionsWork() throws Exception {
        try (Connection c = fx.agent("")) {
            long pid = scalar(c, "SELECT pg_backend_pid()");
            try (Connection d = fx.direct(); Statement s = d.createStatement()) {
                s.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            assertThatThrownBy(() -> scalar(c, "SELECT 1")).isInstanceOf(SQLException.class);
        }
        try (Connection c = fx.agent("")) {
            assertThat(scalar(c, "SELECT 4")).isEqualTo(4);
        }
    }

    @Test
    void sqlPrepareAndExecuteAreJudgedAsWhatTheyRun() throws Exception {
        try (Connection c = fx.agent("preferQueryMode=simple"); Statement s = c.createStatement()) {
            s.execute("PREPARE wipe AS DELETE FROM audit_log");
            assertThatThrownBy(() -> s.execute("EXECUTE wipe"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            s.execute("PREPARE look (int) AS SELECT email FROM users WHERE id = $1");
            try (ResultSet rs = s.executeQuery("EXECUTE look(5)")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("u5@example.com");
            }
            assertThatThrownBy(() -> s.execute("EXECUTE nothing_prepared"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
        }
        assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void notificationsAndNoticesAreRelayed() throws Exception {
        try (Connection c = fx.agent(""); Statement s = c.createStatement()) {
            s.execute("LISTEN warden_channel");
            try (Connection d = fx.direct(); Statement ds = d.createStatement()) {
                ds.execute("NOTIFY warden_channel, 'hello agent'");
            }
            assertThat(scalar(c, "SELECT 5")).isEqualTo(5);
            org.postgresql.PGNotification[] n = c.unwrap(PGConnection.class).getNotifications(5000);
            assertThat(n).isNotNull();
            assertThat(n[0].getName()).isEqualTo("warden_channel");
            assertThat(n[0].getParameter()).isEqualTo("hello agent");
            s.execute("SET application_name = 'agent-app'");
            assertThat(c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor().getParameterStatus("application_name"))
                    .isEqualTo("agent-app");
        }
    }

    @Test
    void decisionsAndOutcomesAreRecorded() throws Exception {
        int before = fx.ledger.entries().size();
        try (Connection c = fx.agent("preferQueryMode=simple")) {
            assertThat(scalar(c, "SELECT count(*) FROM users WHERE id <= 7")).isEqualTo(7);
        }
        eventually(() -> assertThat(fx.ledger.entries().subList(before, fx.ledger.entries().size()))
                .anySatisfy(e -> assertThat((Object) e).isInstanceOf(Entry.OutcomeEntry.class)));
        List<Entry> mine = fx.ledger.entries().subList(before, fx.ledger.entries().size());
        assertThat(mine).anySatisfy(e -> assertThat((Object) e).isInstanceOfSatisfying(Entry.DecisionEntry.class, d -> {
            assertThat(d.operation().text()).isEqualTo("SELECT count(*) FROM users WHERE id <= 7");
            assertThat(d.decision().action()).isEqualTo(Action.ALLOW);
            assertThat(d.operation().agent()).isEqualTo("agent");
        }));
        assertThat(mine).anySatisfy(e -> assertThat((Object) e).isInstanceOfSatisfying(Entry.OutcomeEntry.class,
                o -> assertThat(o.outcome().status()).isEqualTo("ok")));
    }
}
