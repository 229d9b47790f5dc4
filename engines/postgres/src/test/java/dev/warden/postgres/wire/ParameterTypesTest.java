package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Gate;
import dev.warden.core.Target;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.PostgresEngine;
import dev.warden.postgres.catalog.PostgresCatalog;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Parse message may declare its parameters' types: at Bind the server makes each value of its type, which for a
 * domain runs the domain's CHECK. {@code SELECT $1::text} with {@code $1} declared as such a domain runs user code
 * that the text does not show; with the live catalog Warden sees the declared type.
 */
class ParameterTypesTest {
    static ProxyFixture fx;
    static Catalog catalog;
    static PgFrontEnd fe;
    static long domainOid;
    static final MemoryLedger ledger = new MemoryLedger();
    static final String DB = "usercode_params";

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
        try (Connection c = fx.direct(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + DB);
            s.execute("CREATE DATABASE " + DB + " OWNER " + ProxyFixture.UP_USER);
        }
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fx.pg.getPort() + "/" + DB,
                ProxyFixture.UP_USER, ProxyFixture.UP_PASSWORD); Statement s = c.createStatement()) {
            s.execute("""
                    CREATE TABLE public.audit (what text);
                    CREATE FUNCTION public.chk(text) RETURNS bool LANGUAGE plpgsql
                        AS 'BEGIN INSERT INTO public.audit VALUES (''chk''); RETURN true; END';
                    CREATE DOMAIN public.d AS text CHECK (public.chk(VALUE));
                    """);
            try (ResultSet rs = s.executeQuery("SELECT 'public.d'::regtype::oid")) {
                rs.next();
                domainOid = rs.getLong(1);
            }
        }
        DatabaseConfig db = new DatabaseConfig(DB, "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", fx.pg.getPort(), DB, ProxyFixture.UP_USER, new Secret(ProxyFixture.UP_PASSWORD)),
                Duration.ofSeconds(30), ListenerConfig.DEFAULTS);
        PostgresEngine engine = new PostgresEngine();
        catalog = engine.catalog(db, Map.of());
        assertThat(((PostgresCatalog) catalog).refresh()).isTrue();
        String policy = """
                rules:
                  - name: reads
                    match: {kind: [read]}
                    action: allow
                """;
        Gate gate = new Gate(Map.of(DB, new Target(DB, "postgres", engine.classifier(catalog), catalog)),
                PolicyLoader.parse(Path.of("policy.yaml"), policy.getBytes(StandardCharsets.UTF_8)), fx.approvals,
                ledger, null);
        WardenConfig config = new WardenConfig(fx.dir.resolve("warden.yaml"), fx.dir.resolve("data"), Path.of("policy.yaml"),
                List.of(new AgentConfig(ProxyFixture.AGENT, new Secret(ProxyFixture.AGENT_SECRET), List.of())),
                List.of(), List.of(db), Map.of(), Optional.empty());
        fe = new PgFrontEnd(new FrontEndContext(gate, config, List.of(db)),
                TlsMaterial.context(db.listener().tls(), config.dataDir()), line -> System.err.println(line));
        fe.start();
    }

    @AfterAll
    static void stop() {
        if (fe != null) fe.close();
        if (catalog != null) catalog.close();
    }

    static long audit() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fx.pg.getPort() + "/" + DB,
                ProxyFixture.UP_USER, ProxyFixture.UP_PASSWORD); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM public.audit")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Parse with the declared type, Bind 'x', Execute, Sync: the frames that came back. */
    static List<Frame> run(int type) throws Exception {
        try (Socket s = RawClient.login(fe.port(), DB, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            PgWriter w = new PgWriter();
            new QueryMessage.Parse("", "SELECT $1::text", new int[] {type}).write(w);
            new QueryMessage.Bind("", "", new int[0], new byte[][] {"x".getBytes(StandardCharsets.UTF_8)}, new int[0]).write(w);
            new QueryMessage.Execute("", 0).write(w);
            QueryMessage.sync(w);
            return RawClient.exchange(s, w.toByteArray(), 1);
        }
    }

    @Test
    void aParameterDeclaredAsADomainWithAUserCheckIsNotARead() throws Exception {
        // The server runs the CHECK for such a parameter (proved on a direct connection, as the proxy refuses it).
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + fx.pg.getPort() + "/" + DB,
                ProxyFixture.UP_USER, ProxyFixture.UP_PASSWORD)) {
            var ps = c.prepareStatement("SELECT ?::text");
            ps.setObject(1, new org.postgresql.util.PGobject() {
                {
                    setType("d");
                    setValue("direct");
                }
            });
            long before = audit();
            ps.executeQuery().close();
            assertThat(audit()).as("the domain's CHECK ran").isGreaterThan(before);
        }
        long before = audit();
        List<Frame> got = run((int) domainOid);
        assertThat(RawClient.errors(got)).singleElement().asString().startsWith("42501");
        var decision = (dev.warden.core.ledger.Entry.DecisionEntry) ledger.entries().stream()
                .filter(e -> e instanceof dev.warden.core.ledger.Entry.DecisionEntry).reduce((a, b) -> b).orElseThrow();
        assertThat(decision.classification().statements().getFirst().unproven()).contains("public.chk");
        assertThat(audit()).as("nothing ran").isEqualTo(before);
    }

    @Test
    void aParameterOfAPlainTypeStaysARead() throws Exception {
        List<Frame> got = run(25); // text
        assertThat(RawClient.errors(got)).isEmpty();
        assertThat(RawClient.types(got)).contains("D");
    }
}
