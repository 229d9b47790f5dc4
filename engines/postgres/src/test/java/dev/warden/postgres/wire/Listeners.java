package dev.warden.postgres.wire;

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
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Listeners on a gate of the test's own (its policy, its ledger), in front of the shared embedded PostgreSQL. */
final class Listeners {
    /** Reads and session settings allowed, everything else denied. */
    static final String READS_AND_SETTINGS = """
            rules:
              - name: reads
                match: {kind: [read]}
                action: allow
              - name: settings
                match: {kind: [session]}
                action: allow
            """;

    final ProxyFixture fx;
    final MemoryLedger ledger = new MemoryLedger();
    final Gate gate;
    final dev.warden.core.approval.AgentSwitch killSwitch;
    final WardenConfig config;

    Listeners(ProxyFixture fx, String policyYaml, List<DatabaseConfig> dbs) throws Exception {
        this(fx, policyYaml, dbs, null);
    }

    /** @param record the gate's ledger, or {@code null} for {@link #ledger} */
    Listeners(ProxyFixture fx, String policyYaml, List<DatabaseConfig> dbs, dev.warden.core.ledger.Ledger record) throws Exception {
        this(fx, policyYaml, dbs, record, false);
    }

    /** Listeners whose gate has each database's live catalog (the engine's, as {@code warden proxy} has it). */
    static Listeners live(ProxyFixture fx, String policyYaml, List<DatabaseConfig> dbs) throws Exception {
        return new Listeners(fx, policyYaml, dbs, null, true);
    }

    /** The live catalogs, by database (empty unless {@link #live}). */
    final Map<String, Catalog> catalogs = new HashMap<>();

    private Listeners(ProxyFixture fx, String policyYaml, List<DatabaseConfig> dbs, dev.warden.core.ledger.Ledger record,
                      boolean live) throws Exception {
        this.fx = fx;
        dev.warden.core.ledger.Ledger gateLedger = record != null ? record : ledger;
        Path policyFile = Files.createTempFile(fx.dir, "policy", ".yaml");
        Files.writeString(policyFile, policyYaml);
        Policy policy = PolicyLoader.parse(policyFile, policyYaml.getBytes(StandardCharsets.UTF_8));
        Map<String, Target> targets = new HashMap<>();
        var engine = new dev.warden.postgres.PostgresEngine();
        dev.warden.core.engine.Classifier offline = engine.classifier(Catalog.NONE);
        for (DatabaseConfig d : dbs) {
            Catalog catalog = live ? engine.catalog(d, Map.of()) : Catalog.NONE;
            if (live) catalogs.put(d.name(), catalog);
            targets.put(d.name(), new Target(d.name(), "postgres", live ? engine.classifier(catalog) : offline, catalog));
        }
        killSwitch = dev.warden.core.approval.AgentSwitch.open(Files.createTempDirectory(fx.dir, "switch"), gateLedger,
                java.util.Set.of(ProxyFixture.AGENT));
        gate = new Gate(targets, policy, fx.approvals, gateLedger, null, killSwitch);
        config = new WardenConfig(fx.dir.resolve("warden.yaml"), fx.dir.resolve("data"), policyFile,
                List.of(new AgentConfig(ProxyFixture.AGENT, new Secret(ProxyFixture.AGENT_SECRET), List.of())),
                List.of(), dbs, Map.of(), Optional.empty());
    }

    /** A started listener for the given databases (all must be among this gate's). */
    PgFrontEnd start(DatabaseConfig... dbs) throws Exception {
        PgFrontEnd fe = new PgFrontEnd(new FrontEndContext(gate, config, List.of(dbs)),
                TlsMaterial.context(dbs[0].listener().tls(), config.dataDir()), line -> System.err.println(line));
        fe.start();
        return fe;
    }

    static DatabaseConfig db(ProxyFixture fx, String name, ListenerConfig listener) {
        return db(name, fx.pg.getPort(), listener);
    }

    static DatabaseConfig db(String name, int upstreamPort, ListenerConfig listener) {
        return db(name, upstreamPort, "postgres", listener);
    }

    /** A database {@code name} in front of the upstream database {@code upstreamDatabase}, as the upstream user. */
    static DatabaseConfig db(String name, int upstreamPort, String upstreamDatabase, ListenerConfig listener) {
        return new DatabaseConfig(name, "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", upstreamPort, upstreamDatabase, ProxyFixture.UP_USER, new Secret(ProxyFixture.UP_PASSWORD)),
                Duration.ofSeconds(30), listener);
    }

    /**
     * A database {@code name} in front of the upstream database {@code upstreamDatabase}, as the embedded server's
     * superuser {@code postgres} (the fixture's pg_hba trusts it from localhost): only a superuser may SET SESSION
     * AUTHORIZATION to another role.
     */
    static DatabaseConfig superuserDb(String name, int upstreamPort, String upstreamDatabase, ListenerConfig listener) {
        return new DatabaseConfig(name, "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", upstreamPort, upstreamDatabase, "postgres", new Secret("trusted")),
                Duration.ofSeconds(30), listener);
    }

    /** Closes the live catalogs. */
    void closeCatalogs() {
        catalogs.values().forEach(Catalog::close);
    }
}
