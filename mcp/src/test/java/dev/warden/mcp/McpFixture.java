package dev.warden.mcp;

import dev.warden.core.Gate;
import dev.warden.core.Target;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Classifier;
import dev.warden.core.engine.DoctorCheck;
import dev.warden.core.engine.Engine;
import dev.warden.core.engine.FrontEnd;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.engine.UpstreamSession;
import dev.warden.core.approval.FileApprovals;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyLoader;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * A real embedded PostgreSQL, the real gate and policy engine, and the MCP server on an ephemeral port.
 * Everything between the MCP client and the database is the production code, the approvals store included (in a
 * fresh folder); the ledger is the in-memory one.
 */
final class McpFixture implements AutoCloseable {
    static final String SECRET = "coding-agent-secret-0123456789";
    static final String OTHER_SECRET = "reporting-agent-secret-0123456789";
    static final String POLICY = """
            rules:
              - name: reads
                match: { kind: [read] }
                action: allow
              - name: order-changes
                match: { kind: [write], objects: ["public.orders"] }
                action: approve
                reason: changes to orders need a person
              - name: personal-data
                match: { kind: [read], tags: [pii] }
                action: approve
                reason: reading personal data needs a person
                approval: { mode: ticket }
              - name: settings-for-the-session-test
                match: { kind: [session], functions: ["*set_config"] }
                action: allow
              - name: sleeps-for-the-timeout-test
                match: { kind: [read], functions: ["pg_catalog.pg_sleep"] }
                action: allow
              - name: protect-audit-log
                match: { objects: ["public.audit_log"], kind: [write, ddl] }
                action: deny
                reason: the audit log is append-only
            """;

    final EmbeddedPostgres pg;
    final MemoryLedger ledger;
    final FileApprovals approvals;
    final Gate gate;
    final WardenConfig config;
    final McpServer server;
    final java.util.Set<String> disabled;

    /** With the live PostgreSQL catalog (enrichment: tags, row estimates), as the service runs it. */
    static McpFixture start() throws Exception {
        return start(true);
    }

    /** @param liveCatalog false: classification offline, as the classifier's bypass suite states its cases */
    static McpFixture start(boolean liveCatalog) throws Exception {
        EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL, email text)");
            s.execute("INSERT INTO orders VALUES (1, 'apple', 'a@example.com'), (2, 'pear', 'p@example.com'), (3, 'plum', NULL)");
            s.execute("CREATE TABLE audit_log (id serial PRIMARY KEY, note text)");
            s.execute("INSERT INTO audit_log (note) VALUES ('first'), ('second')");
            s.execute("CREATE INDEX orders_item ON orders (item)");
        }
        DatabaseConfig app = new DatabaseConfig("app", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", pg.getPort(), "postgres", "postgres", null), Duration.ofSeconds(2));
        WardenConfig config = new WardenConfig(Path.of("warden.yaml").toAbsolutePath(), Path.of("data"), Path.of("policy.yaml"),
                List.of(new AgentConfig("coding-agent", new Secret(SECRET), List.of()),
                        new AgentConfig("reporting-agent", new Secret(OTHER_SECRET), List.of("nothing-here"))),
                List.of(), List.of(app), Map.of("pii", List.of("*.email")), Optional.empty(),
                Optional.of(new McpConfig(new HostPort("127.0.0.1", 0), Optional.empty(), 1000, 1024 * 1024)));
        Policy policy = PolicyLoader.parse(Path.of("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8));
        Engine engine = new StandInEngine();
        MemoryLedger ledger = new MemoryLedger();
        FileApprovals approvals = approvals(ledger);
        Catalog catalog = liveCatalog ? engine.catalog(app, config.tags()) : Catalog.NONE;
        Gate gate = new Gate(Map.of("app", new Target("app", "postgres", engine.classifier(catalog), catalog)),
                policy, approvals, ledger, "http://127.0.0.1:8080");
        java.util.Set<String> disabled = new CopyOnWriteArraySet<>();
        McpServer server = McpServer.start(gate, config, d -> engine, disabled::contains, "http://127.0.0.1:8080");
        return new McpFixture(pg, gate, config, server, ledger, approvals, disabled);
    }

    private McpFixture(EmbeddedPostgres pg, Gate gate, WardenConfig config, McpServer server, MemoryLedger ledger,
                       FileApprovals approvals, java.util.Set<String> disabled) {
        this.pg = pg;
        this.gate = gate;
        this.config = config;
        this.server = server;
        this.ledger = ledger;
        this.approvals = approvals;
        this.disabled = disabled;
    }

    /** The real approvals store in a fresh folder, with one approver, alice. */
    static FileApprovals approvals(dev.warden.core.ledger.Ledger ledger) throws IOException {
        return FileApprovals.open(java.nio.file.Files.createTempDirectory("warden-mcp-approvals"), ledger,
                dev.warden.core.approval.Approvers.of(List.of(new dev.warden.core.config.ApproverConfig("alice",
                        new Secret("alice-token-0123456789"))), List.of()));
    }

    /** The SDK's own client over streamable HTTP with a bearer token. */
    McpSyncClient httpClient(String token) {
        URI e = server.endpoint();
        HttpClientStreamableHttpTransport t = HttpClientStreamableHttpTransport.builder(e.getScheme() + "://" + e.getAuthority())
                .endpoint(e.getPath())
                .requestBuilder(java.net.http.HttpRequest.newBuilder().header("Authorization", "Bearer " + token))
                .build();
        McpSyncClient client = McpClient.sync(t).requestTimeout(Duration.ofSeconds(30))
                .clientInfo(new McpSchema.Implementation("warden-test", "1")).build();
        client.initialize();
        return client;
    }

    /** A direct connection, to check what the database holds. */
    long count(String sql) throws SQLException {
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        approvals.close();
        gate.target("app").ifPresent(t -> t.catalog().close());
        pg.close();
    }

    /**
     * The postgres engine as the MCP server reaches it, through the Engine SPI: the real classifier, live catalog and
     * upstream session ({@code PgUpstreamSession}: the simple query protocol, no JDBC). Only the wire front end is left
     * out, which the MCP server never uses.
     */
    static final class StandInEngine implements Engine {
        static final dev.warden.postgres.PostgresEngine REAL = new dev.warden.postgres.PostgresEngine();
        public String name() { return "postgres"; }
        public Classifier classifier(Catalog catalog) { return REAL.classifier(catalog); }
        public Catalog catalog(DatabaseConfig database, Map<String, List<String>> tags) { return REAL.catalog(database, tags); }
        public FrontEnd frontEnd(FrontEndContext context) { throw new UnsupportedOperationException(); }
        public UpstreamSession connect(DatabaseConfig database) throws IOException { return REAL.connect(database); }
        public List<DoctorCheck> doctor(DatabaseConfig database) { return List.of(); }
    }
}
