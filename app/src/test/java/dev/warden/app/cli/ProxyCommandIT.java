package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden proxy} as a real process in front of a real PostgreSQL: decisions logged, SIGHUP, SIGTERM. */
class ProxyCommandIT {
    @TempDir
    Path dir;

    @Test
    void proxyJudgesLogsReloadsAndStopsQuicklyOnSigterm() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            int port = freePort();
            Process p = start(pg, port, List.of());
            List<String> err = stderr(p);
            try {
                waitFor(err, "listening on 127.0.0.1:" + port, Duration.ofSeconds(30));
                waitFor(err, "is a superuser", Duration.ofSeconds(10));
                // assumeMinServerVersion: pgjdbc sends its settings in the startup packet instead of SET statements (judged as kind session)
                String url = "jdbc:postgresql://127.0.0.1:" + port + "/app?assumeMinServerVersion=9.0";
                try (Connection c = DriverManager.getConnection(url, "bot", "bot-secret"); Statement s = c.createStatement()) {
                    assertThatThrownBy(() -> s.execute("DELETE FROM audit_log"))
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
                }
                waitFor(err, "action=deny", Duration.ofSeconds(5));
                assertThat(err).anyMatch(l -> l.contains("INFO decision") && l.contains("DELETE FROM audit_log"));

                Files.writeString(dir.resolve("policy.yaml"), "rules:\n  - name: nothing\n    action: deny\n");
                new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start().waitFor();
                waitFor(err, "policy reloaded", Duration.ofSeconds(5));

                long t0 = System.nanoTime();
                p.destroy(); // SIGTERM
                assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
            } finally {
                p.destroyForcibly();
            }
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
                 var rs = s.executeQuery("SELECT count(*) FROM audit_log")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
        }
    }

    /**
     * Started with SIGHUP ignored (under nohup), the JVM kept it ignored and a reload did nothing, without a word:
     * only the missing "policy reloaded" line showed it.
     */
    @Test
    void aProxyStartedWithSighupIgnoredSaysItCannotReload() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            int port = freePort();
            Process p = start(pg, port, List.of("nohup"));
            List<String> err = stderr(p);
            try {
                waitFor(err, "listening on 127.0.0.1:" + port, Duration.ofSeconds(30));
                waitFor(err, "SIGHUP is ignored in this process", Duration.ofSeconds(5));
            } finally {
                p.destroyForcibly();
            }
        }
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
            return ss.getLocalPort();
        }
    }

    /** {@code warden proxy} in front of {@code pg} on {@code port}, its command line after {@code prefix}. */
    private Process start(EmbeddedPostgres pg, int port, List<String> prefix) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS audit_log (id int)");
            s.execute("INSERT INTO audit_log SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM audit_log)");
        }
        Files.writeString(dir.resolve("policy.yaml"), """
                rules:
                  - name: protect-audit-log
                    match: {kind: [write, ddl], objects: ["public.audit_log"]}
                    action: deny
                    reason: the audit log is append-only
                  - name: reads
                    match: {kind: [read]}
                    action: allow
                """);
        Files.writeString(dir.resolve("warden.yaml"), """
                policy: policy.yaml
                agents:
                  - name: bot
                    secret_env: BOT_SECRET
                databases:
                  - name: app
                    engine: postgres
                    listen: 127.0.0.1:%d
                    tls: {mode: optional}
                    upstream: {host: 127.0.0.1, port: %d, database: postgres, user: postgres, password_env: UP_PW}
                """.formatted(port, pg.getPort()));
        Path target = Path.of("target").toAbsolutePath();
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", target.resolve("warden-app.jar") + ":" + target.resolve("lib") + "/*",
                "dev.warden.app.Main", "proxy", "--config", dir.resolve("warden.yaml").toString()));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("BOT_SECRET", "bot-secret");
        pb.environment().put("UP_PW", "unused-with-trust");
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        return pb.start();
    }

    /** The process's stderr lines as they come. */
    private static List<String> stderr(Process p) {
        List<String> err = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) err.add(line);
            } catch (Exception ignored) {
                // process ended
            }
        });
        return err;
    }

    private static void waitFor(List<String> lines, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (String l : new ArrayList<>(lines)) if (l.contains(text)) return;
            Thread.sleep(50);
        }
        throw new AssertionError("no line containing '" + text + "' in:\n" + String.join("\n", lines));
    }
}
