package dev.warden.app.cli;

import dev.warden.app.config.ConfigLoader;
import dev.warden.app.service.WardenService;
import dev.warden.core.config.WardenConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start an embedded PostgreSQL with a small shop schema and Warden in front of it on 127.0.0.1:6432, "
                + "with a demo policy: reads allowed, DDL and bulk writes held for approval, the audit log protected, "
                + "everything else denied. Ctrl-C stops it all.",
        footer = {"", "Example:", "  warden demo", "  (then, in another terminal, the psql command it prints)"})
final class DemoCommand implements Callable<Integer> {
    static final String AGENT = "demo-agent";
    static final String AGENT_SECRET = "demo-agent-secret";
    static final String UPSTREAM_PASSWORD = "warden-upstream-demo";
    static final String APPROVER = "demo-approver";
    static final String APPROVER_TOKEN = "demo-approver-token";

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "warden-demo",
            description = "where the demo keeps its configuration, policy, certificate and ledger (default: ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "6432", description = "Warden's port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--console-port", paramLabel = "PORT", defaultValue = "8080",
            description = "the approval console's port on 127.0.0.1 (default: ${DEFAULT-VALUE})")
    int consolePort;

    static final String POLICY = """
            # The demo policy. Edit it and send SIGHUP (or restart) to reload.
            # Precedence is fixed: deny beats approve beats allow; no matching rule means deny.
            rules:
              - name: protect-audit-log
                match: {kind: [write, ddl], objects: ["*.audit_log"]}
                action: deny
                reason: destructive or write access to the audit log is never allowed to agents
              - name: reads
                match: {kind: [read]}
                action: allow
                reason: agents may read
              - name: session-settings
                match: {kind: [session]}
                action: allow
                reason: drivers set client options (extra_float_digits, application_name); Warden keeps statement_timeout and tracks search_path
              - name: ddl-needs-approval
                match: {kind: [ddl]}
                action: approve
                reason: schema changes need a person
                approval: {mode: hold, timeout: 5m}
              - name: bulk-writes-need-approval
                match: {kind: [write], rows_over: 100}
                action: approve
                reason: writes that may touch more than 100 rows need a person
                approval: {mode: hold, timeout: 5m}
            """;

    @Override
    public Integer call() throws Exception {
        Path dir = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        // Held until the process ends: a second demo on the same folder would wipe the running one's database
        // (the embedded server starts from a clean data directory).
        java.nio.channels.FileChannel lockFile = java.nio.channels.FileChannel.open(dir.resolve("demo.lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
        if (lockFile.tryLock() == null) {
            lockFile.close();
            throw new WardenCommand.UsageException("another warden demo is running in " + dir
                    + "; stop it first, or give this one --data-dir");
        }
        System.err.println("warden: starting the embedded PostgreSQL ...");
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(dir.resolve("postgres"))
                .setCleanDataDirectory(true)
                .start();
        try {
            seed(pg);
            Files.writeString(dir.resolve("policy.yaml"), POLICY);
            Files.writeString(dir.resolve("warden.yaml"), """
                    # Written by `warden demo`. Inline secrets are for the demo only; use secret_env / password_env.
                    data_dir: data
                    policy: policy.yaml
                    agents:
                      - name: %s
                        secret: %s
                    approvers:
                      - name: %s
                        token: %s
                    console:
                      listen: 127.0.0.1:%d
                    databases:
                      - name: shop
                        engine: postgres
                        listen: 127.0.0.1:%d
                        tls: {mode: optional}
                        statement_timeout: 30s
                        upstream:
                          host: 127.0.0.1
                          port: %d
                          database: postgres
                          user: warden_demo
                          password: %s
                    """.formatted(AGENT, AGENT_SECRET, APPROVER, APPROVER_TOKEN, consolePort, port, pg.getPort(), UPSTREAM_PASSWORD));
            WardenConfig cfg = new ConfigLoader(System::getenv, w -> { }).load(dir.resolve("warden.yaml"));
            WardenService service = WardenService.build(cfg, null, System.err);
            service.start();
            service.checkUpstreams();
            System.out.print(banner(pg.getPort(), port, consolePort, dir, System.getProperty("warden.command", "warden")));
            System.out.flush();
            ProxyCommand.runUntilStopped(() -> {
                service.close();
                pg.close();
            });
        } catch (Exception e) {
            pg.close();
            throw e;
        }
        return WardenCommand.OK;
    }

    /**
     * What the demo prints once it runs. {@code command} is how the user started Warden ({@code ./warden} from the
     * launcher, which passes {@code -Dwarden.command}): the approval commands are meant to be pasted, and a bare
     * {@code warden} is not on the PATH of someone who just cloned the repository.
     */
    static String banner(int pgPort, int port, int consolePort, Path dir, String command) {
        return """

                    Warden demo is running.
                      embedded PostgreSQL : 127.0.0.1:%d (schema: users, orders, payments, audit_log)
                      Warden (PostgreSQL) : 127.0.0.1:%d, database "shop", TLS offered (self-signed)
                      configuration       : %s
                      policy              : %s

                    Connect as the agent (it never sees the database's own password):
                      PGPASSWORD=%s psql "host=127.0.0.1 port=%d dbname=shop user=%s"

                    Then try:
                      SELECT name, email FROM users LIMIT 5;      -- allowed: reads are allowed
                      DELETE FROM audit_log;                      -- denied by rule "protect-audit-log" (SQLSTATE 42501)
                      UPDATE orders SET status = 'shipped';       -- held: bulk writes need a person
                      CREATE INDEX ON orders (user_id);           -- held: schema changes need a person
                      DROP TABLE users;                           -- held for approval too; nothing runs until approved

                    Held statements wait for a person: psql shows a NOTICE naming the approval request.
                    Approve or deny it in the console: http://127.0.0.1:%d (log in with the token %s), or:
                      WARDEN_TOKEN=%s %s approvals list --console http://127.0.0.1:%d
                      WARDEN_TOKEN=%s %s approvals approve ID --console http://127.0.0.1:%d

                    Every decision is logged below and recorded in the ledger. Ctrl-C stops it all.

                    """.formatted(pgPort, port, dir.resolve("warden.yaml"), dir.resolve("policy.yaml"),
                AGENT_SECRET, port, AGENT, consolePort, APPROVER_TOKEN, APPROVER_TOKEN, command, consolePort,
                APPROVER_TOKEN, command, consolePort);
    }

    static void seed(EmbeddedPostgres pg) throws Exception {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("SET password_encryption = 'scram-sha-256'");
            s.execute("CREATE ROLE warden_demo LOGIN PASSWORD '" + UPSTREAM_PASSWORD + "'");
            s.execute("""
                    CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL, phone text,
                                        created_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users,
                                         status text NOT NULL DEFAULT 'new', total numeric(10,2) NOT NULL,
                                         created_at timestamptz NOT NULL DEFAULT now());
                    CREATE TABLE payments (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders,
                                           amount numeric(10,2) NOT NULL, card_last4 text, paid_at timestamptz);
                    CREATE TABLE audit_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),
                                            actor text NOT NULL, action text NOT NULL);
                    INSERT INTO users (name, email, phone)
                      SELECT 'User ' || i, 'user' || i || '@example.com', '+1-555-' || lpad(i::text, 4, '0')
                      FROM generate_series(1, 500) i;
                    INSERT INTO orders (user_id, status, total)
                      SELECT 1 + (i * 7) % 500, (ARRAY['new','paid','shipped'])[1 + i % 3], round((random() * 200)::numeric, 2)
                      FROM generate_series(1, 2000) i;
                    INSERT INTO payments (order_id, amount, card_last4, paid_at)
                      SELECT id, total, lpad((id % 10000)::text, 4, '0'), now() FROM orders WHERE status <> 'new';
                    INSERT INTO audit_log (actor, action) VALUES ('setup', 'demo schema created');
                    ANALYZE;
                    -- Warden's upstream role owns the tables, so DDL an approver lets through can run; the audit
                    -- log stays the superuser's, and the database itself refuses to change it: a second fence (and
                    -- the least-privilege check at start finds nothing the policy never uses).
                    ALTER TABLE users OWNER TO warden_demo;
                    ALTER TABLE orders OWNER TO warden_demo;
                    ALTER TABLE payments OWNER TO warden_demo;
                    GRANT SELECT ON audit_log TO warden_demo;
                    GRANT CREATE ON SCHEMA public TO warden_demo;
                    """);
        }
    }
}
