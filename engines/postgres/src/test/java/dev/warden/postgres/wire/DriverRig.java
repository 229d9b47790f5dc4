package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.TlsConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Real client programs (Python, Node) against Warden: one database {@code drivers} owned by Warden's upstream role, a
 * listener with the live catalog (as {@code warden proxy} runs) and the policy below, and a way to run a driver script
 * as a subprocess with the connection in {@code PG*} variables, which libpq, asyncpg and node-postgres all read.
 *
 * <p>Each driver works in a schema of its own ({@link #schema}): {@code items} may be written, {@code secret} may not,
 * writes on {@code held} wait for a person's approval.
 */
final class DriverRig {
    static final String POLICY = """
            rules:
              - name: reads
                match: {kind: [read]}
                action: allow
              - name: settings
                match: {kind: [session]}
                action: allow
              - name: driver-writes
                match: {kind: [write], objects: ["drv_*.items", "drv_*.held"]}
                action: allow
              - name: secrets-are-read-only
                match: {kind: [write, ddl], objects: ["drv_*.secret"]}
                action: deny
                reason: agents may read the secrets table, never change it
              - name: held-writes
                match: {kind: [write], objects: ["drv_*.held"]}
                action: approve
                approval: {mode: hold, timeout: 120s}
            """;

    /** Where the driver scripts are, relative to the module (Surefire runs in it). */
    static final Path SCRIPTS = Path.of("src/test/drivers");

    private static DriverRig shared;

    final ProxyFixture fx;
    final Listeners live;
    final PgFrontEnd fe;

    static synchronized DriverRig get() throws Exception {
        if (shared == null) shared = new DriverRig();
        return shared;
    }

    private DriverRig() throws Exception {
        fx = ProxyFixture.get();
        fx.freshDatabase("drivers");
        // TLS offered, as a production listener would: libpq and asyncpg take it by default (sslmode prefer).
        DatabaseConfig db = Listeners.db("drivers", fx.pg.getPort(), "drivers",
                ListenerConfig.DEFAULTS.withTls(new TlsConfig(TlsConfig.Mode.OPTIONAL, null, null)));
        live = Listeners.live(fx, POLICY, List.of(db));
        fe = live.start(db);
    }

    /** A fresh schema {@code name} for one driver's case, made by the upstream role as an agent's tables would be. */
    void schema(String name) throws Exception {
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("""
                    SET ROLE %2$s;
                    DROP SCHEMA IF EXISTS %1$s CASCADE;
                    CREATE SCHEMA %1$s;
                    CREATE TYPE %1$s.mood AS ENUM ('calm', 'busy');
                    CREATE TABLE %1$s.items (id int PRIMARY KEY, name text NOT NULL, mood %1$s.mood);
                    INSERT INTO %1$s.items VALUES (1, 'one', 'calm'), (2, 'two', 'busy');
                    CREATE TABLE %1$s.secret (id int PRIMARY KEY, v text);
                    INSERT INTO %1$s.secret VALUES (1, 'the original');
                    CREATE TABLE %1$s.held (id int PRIMARY KEY, v text);
                    """.formatted(name, ProxyFixture.UP_USER));
        }
        live.catalogs.get("drivers").invalidate();
    }

    Connection direct() throws SQLException {
        return fx.direct("drivers");
    }

    /** The rows of a query on a direct connection, each row's columns joined by '|'. */
    List<String> rows(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = direct(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder b = new StringBuilder();
                for (int i = 1; i <= n; i++) b.append(i > 1 ? "|" : "").append(rs.getString(i));
                out.add(b.toString());
            }
        }
        return out;
    }

    record Run(int exit, String out, String err) {
        /** The value a script printed for a step ({@code step: value}), or null. */
        String step(String name) {
            for (String line : out.split("\n")) if (line.startsWith(name + ": ")) return line.substring(name.length() + 2);
            return null;
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** A running driver script, its output going to files so that the test can approve while it waits. */
    final class Script {
        final Process process;
        final Path out;
        final Path err;

        Script(List<String> command, Path workDir, Map<String, String> env) throws IOException {
            out = Files.createTempFile(fx.dir, "driver", ".out");
            err = Files.createTempFile(fx.dir, "driver", ".err");
            ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            // Only the connection given here: no PGSSLMODE, PGOPTIONS or PGSERVICE of the machine's.
            pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
            pb.environment().putAll(Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(fe.port()),
                    "PGDATABASE", "drivers", "PGUSER", ProxyFixture.AGENT, "PGPASSWORD", ProxyFixture.AGENT_SECRET,
                    "PGCONNECT_TIMEOUT", "10"));
            pb.environment().putAll(env);
            process = pb.start();
        }

        Run soFar() throws IOException {
            return new Run(process.isAlive() ? -1 : process.exitValue(), Files.readString(out), Files.readString(err));
        }

        /**
         * Approves the statement the script holds (the one pending request whose text contains {@code fragment}), once
         * it is held; fails if the script ends first or nothing is held within a minute.
         */
        ApprovalRequest approve(String fragment) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (System.nanoTime() < deadline) {
                List<ApprovalRequest> held = fx.approvals.list().stream()
                        .filter(r -> r.status() == ApprovalRequest.Status.PENDING && r.operation().database().equals("drivers")
                                && r.operation().text().contains(fragment)).toList();
                assertThat(held).as("one request held for " + fragment).hasSizeLessThan(2);
                if (held.size() == 1) return fx.approvals.decide(held.getFirst().id(), "alice", true, "looks right");
                if (!process.isAlive()) throw new AssertionError("the script ended before holding " + fragment + ": " + soFar());
                Thread.sleep(20);
            }
            throw new AssertionError("nothing held for " + fragment + " within a minute: " + soFar());
        }

        /** Waits for the script to end (generously: drivers have timeouts of their own) and returns what it printed. */
        Run finish() throws Exception {
            if (!process.waitFor(3, TimeUnit.MINUTES)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new AssertionError("the script did not end within 3 minutes: " + soFar());
            }
            return soFar();
        }
    }

    Script start(List<String> command, Path workDir, Map<String, String> env) throws IOException {
        return new Script(command, workDir, env);
    }

    /** Runs a short command to completion, for checking that a driver is installed. */
    static Run check(Path workDir, String... command) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(workDir.toFile()).start();
        } catch (IOException e) {
            return new Run(127, "", e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return new Run(-1, out, err + "\n(timed out)");
        }
        return new Run(p.exitValue(), out, err);
    }

    /** Debian's Python, which has the python3-* driver packages (a python3 earlier on PATH may not). */
    static final String PYTHON = "/usr/bin/python3";

    /** Fails, naming the package, unless Debian's Python can import {@code module}: a missing driver is an error. */
    static void requirePython(String module, String debianPackage) throws Exception {
        Run r = check(Path.of("."), PYTHON, "-c", "import " + module);
        assertThat(r.exit()).as("%s cannot import %s: install the Debian package %s (./warden test installs the packages"
                + " in WARDEN_TEST_PACKAGES of scripts/lib.sh)\n%s", PYTHON, module, debianPackage, r).isZero();
    }
}
