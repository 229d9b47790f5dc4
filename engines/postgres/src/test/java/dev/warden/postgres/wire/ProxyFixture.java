package dev.warden.postgres.wire;

import dev.warden.core.Gate;
import dev.warden.core.Target;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.TlsConfig;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyLoader;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One embedded PostgreSQL (with SCRAM required for Warden's upstream role) and one Warden listener in front of it,
 * shared by the tests of a JVM.
 */
final class ProxyFixture {
    static final String AGENT = "agent";
    static final String AGENT_SECRET = "agent-secret-1";
    static final String UP_USER = "warden_up";
    static final String UP_PASSWORD = "up-password-1";

    static final String POLICY = """
            rules:
              - name: reads
                match: {kind: [read]}
                action: allow
              - name: sleeping-is-reading
                match: {functions: ["pg_catalog.pg_sleep"], kind: [read]}
                action: allow
              - name: session-settings
                match: {kind: [session]}
                action: allow
              - name: order-writes
                match: {kind: [write], objects: ["public.orders"]}
                action: allow
              - name: protect-audit-log
                match: {kind: [write, ddl], objects: ["public.audit_log"]}
                action: deny
                reason: writes on the audit log are forbidden
              - name: ddl-needs-approval
                match: {kind: [ddl]}
                action: approve
                approval: {mode: hold, timeout: 20s}
            """;

    private static ProxyFixture shared;

    final EmbeddedPostgres pg;
    final Path dir;
    final MemoryLedger ledger = new MemoryLedger();
    final TestApprovals approvals = new TestApprovals();
    final Gate gate;
    final PgFrontEnd frontEnd;
    final DatabaseConfig database;

    static synchronized ProxyFixture get() throws Exception {
        if (shared == null) shared = new ProxyFixture();
        return shared;
    }

    private ProxyFixture() throws Exception {
        dir = Files.createTempDirectory("warden-wire-test");
        pg = EmbeddedPostgres.builder().setDataDirectory(dir.resolve("pgdata")).setCleanDataDirectory(true).start();
        try (Connection c = direct(); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE " + UP_USER + " LOGIN PASSWORD '" + UP_PASSWORD + "'");
            s.execute("CREATE ROLE warden_md5 LOGIN PASSWORD 'md5-password'");
            s.execute("CREATE TABLE users (id int PRIMARY KEY, name text, email text)");
            s.execute("CREATE TABLE orders (id serial PRIMARY KEY, user_id int, amount numeric)");
            s.execute("CREATE TABLE audit_log (id serial PRIMARY KEY, what text)");
            s.execute("INSERT INTO users SELECT i, 'user' || i, 'u' || i || '@example.com' FROM generate_series(1, 100) i");
            s.execute("INSERT INTO audit_log (what) VALUES ('created')");
            s.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO " + UP_USER + ", warden_md5");
            s.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + UP_USER + ", warden_md5");
            s.execute("GRANT CREATE ON SCHEMA public TO " + UP_USER);
            Files.writeString(dir.resolve("pgdata/pg_hba.conf"), """
                    local all all trust
                    host all postgres 127.0.0.1/32 trust
                    host all postgres ::1/128 trust
                    host all warden_md5 127.0.0.1/32 md5
                    host all all 127.0.0.1/32 scram-sha-256
                    host all all ::1/128 scram-sha-256
                    """);
            s.execute("SELECT pg_reload_conf()");
        }
        Path policyFile = dir.resolve("policy.yaml");
        Files.writeString(policyFile, POLICY);
        Policy policy = PolicyLoader.parse(policyFile, POLICY.getBytes(StandardCharsets.UTF_8));
        ListenerConfig listener = new ListenerConfig(new TlsConfig(TlsConfig.Mode.OPTIONAL, null, null), 1 << 20,
                Duration.ofSeconds(5), Duration.ofMinutes(10), 30);
        database = new DatabaseConfig("app", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", pg.getPort(), "postgres", UP_USER, new Secret(UP_PASSWORD)),
                Duration.ofSeconds(30), listener);
        DatabaseConfig md5db = new DatabaseConfig("md5app", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", pg.getPort(), "postgres", "warden_md5", new Secret("md5-password")),
                Duration.ofSeconds(30), listener);
        WardenConfig config = new WardenConfig(dir.resolve("warden.yaml"), dir.resolve("data"), policyFile,
                List.of(new AgentConfig(AGENT, new Secret(AGENT_SECRET), List.of()),
                        new AgentConfig("narrow", new Secret("narrow-secret"), List.of("md5app"))),
                List.of(), List.of(database, md5db), Map.of(), Optional.empty());
        dev.warden.core.engine.Classifier classifier = new dev.warden.postgres.PostgresEngine().classifier(Catalog.NONE);
        gate = new Gate(Map.of("app", new Target("app", "postgres", classifier, Catalog.NONE),
                "md5app", new Target("md5app", "postgres", classifier, Catalog.NONE)), policy, approvals, ledger, null);
        frontEnd = new PgFrontEnd(new FrontEndContext(gate, config, List.of(database, md5db)),
                TlsMaterial.context(listener.tls(), config.dataDir()), line -> System.err.println(line));
        frontEnd.start();
    }

    /** Another listener on the same gate, for databases configured differently. */
    PgFrontEnd frontEnd(DatabaseConfig... dbs) throws Exception {
        Map<String, Target> targets = new java.util.HashMap<>();
        dev.warden.core.engine.Classifier classifier = new dev.warden.postgres.PostgresEngine().classifier(Catalog.NONE);
        for (DatabaseConfig d : dbs) targets.put(d.name(), new Target(d.name(), "postgres", classifier, Catalog.NONE));
        Gate g = new Gate(targets, gate.policy(), approvals, ledger, null);
        WardenConfig config = new WardenConfig(dir.resolve("warden.yaml"), dir.resolve("data"), dir.resolve("policy.yaml"),
                List.of(new AgentConfig(AGENT, new Secret(AGENT_SECRET), List.of())), List.of(), List.of(dbs), Map.of(), Optional.empty());
        PgFrontEnd fe = new PgFrontEnd(new FrontEndContext(g, config, List.of(dbs)),
                TlsMaterial.context(dbs[0].listener().tls(), config.dataDir()), line -> System.err.println(line));
        fe.start();
        return fe;
    }

    int port() {
        return frontEnd.port();
    }

    String url(String database, String extra) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database + "?sslmode=disable" + (extra.isEmpty() ? "" : "&" + extra);
    }

    Connection agent(String extra) throws Exception {
        return DriverManager.getConnection(url("app", extra), AGENT, AGENT_SECRET);
    }

    Connection direct() throws Exception {
        return direct("postgres");
    }

    /** A superuser connection to {@code database}, straight to the server. */
    Connection direct(String database) throws java.sql.SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + database, "postgres", "");
    }

    /** The rows of {@code table} in {@code database}, read straight from the server (as the superuser, whatever role the database's sessions start as). */
    long count(String database, String table) throws java.sql.SQLException {
        try (Connection c = direct(database); java.sql.Statement s = c.createStatement()) {
            s.execute("SET ROLE NONE");
            try (java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** A new, empty {@code database} owned by the upstream user (one a previous run left is dropped first). */
    void freshDatabase(String database) throws Exception {
        try (Connection c = direct(); java.sql.Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database);
            s.execute("CREATE DATABASE " + database + " OWNER " + UP_USER);
        }
    }

    long directCount(String sql) throws Exception {
        try (Connection c = direct(); Statement s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
