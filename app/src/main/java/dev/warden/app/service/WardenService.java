package dev.warden.app.service;

import dev.warden.core.Gate;
import dev.warden.mcp.McpServer;
import dev.warden.core.Target;
import dev.warden.console.ConsoleServer;
import dev.warden.console.ConsoleServices;
import dev.warden.core.approval.ApprovalServices;
import dev.warden.core.approval.Approvals;
import dev.warden.core.metrics.Metrics;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.LedgerConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Engine;
import dev.warden.core.engine.Engines;
import dev.warden.core.engine.FrontEnd;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.engine.QueryResult;
import dev.warden.core.engine.UpstreamSession;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.LedgerException;
import dev.warden.core.ledger.FileLedger;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.core.yaml.ConfigException;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The running Warden: configuration, then policy, ledger, approvals, engines (classifier and catalog per database),
 * the gate, and the front ends, one per listen address. The console and the MCP server hang off {@link #gate()},
 * {@link #config()} and {@link #engines()}.
 */
public final class WardenService implements AutoCloseable {
    private final WardenConfig config;
    private final Engines engines;
    private final Ledger ledger;
    private final Approvals approvals;
    private final ApprovalServices approvalServices;
    private final Gate gate;
    private final List<Catalog> catalogs;
    private final List<FrontEnd> frontEnds = new ArrayList<>();
    private final PrintStream log;
    private final String consoleUrl;
    private volatile McpServer mcp;
    private volatile boolean closed;
    private volatile ConsoleServer console;

    private WardenService(WardenConfig config, Engines engines, Ledger ledger, ApprovalServices approvalServices, Gate gate,
                          List<Catalog> catalogs, PrintStream log, String consoleUrl) {
        this.consoleUrl = consoleUrl;
        this.config = config;
        this.engines = engines;
        this.ledger = ledger;
        this.approvalServices = approvalServices;
        this.approvals = approvalServices.approvals();
        this.gate = gate;
        this.catalogs = catalogs;
        this.log = log;
    }

    /**
     * Builds everything but starts nothing. The policy's load is the ledger's first entry of this run.
     *
     * @param consoleUrl where approvers decide (for messages to agents), or {@code null} for the configured console's
     */
    public static WardenService build(WardenConfig config, String consoleUrl, PrintStream log) throws ConfigException, LedgerException {
        Engines engines = Engines.load();
        Policy policy = PolicyLoader.load(config.policy());
        Ledger ledger = new DecisionLog(openLedger(config), log, new dev.warden.core.ledger.Redactor(config.ledger().redactLiterals()));
        ApprovalServices approvalServices = openApprovals(config, ledger);
        if (consoleUrl == null) consoleUrl = approvalServices.consoleUrl();
        Map<String, Target> targets = new LinkedHashMap<>();
        List<Catalog> catalogs = new ArrayList<>();
        for (DatabaseConfig db : config.databases()) {
            Engine e = engines.get(db.engine()).orElse(null);
            if (e == null) {
                log.println("warning: database '" + db.name() + "': the " + db.engine() + " engine is not in this build; it is not served");
                continue;
            }
            Catalog c = e.catalog(db, config.tags());
            catalogs.add(c);
            targets.put(db.name(), new Target(db.name(), db.engine(), e.classifier(c), c));
        }
        Gate gate = new Gate(targets, policy, approvalServices.approvals(), ledger, consoleUrl, approvalServices.agents());
        gate.install(policy);
        warnAboutUnknownNames(config, policy, log);
        return new WardenService(config, engines, ledger, approvalServices, gate, catalogs, log, consoleUrl);
    }

    /** The one place the ledger is chosen: the file ledger under the data directory. */
    static Ledger openLedger(WardenConfig config) throws LedgerException {
        return FileLedger.open(config.dataDir(), config.ledger());
    }

    /** The one place the approval store is chosen: requests under the data directory, approvers, kill switch, webhooks. */
    static ApprovalServices openApprovals(WardenConfig config, Ledger ledger) throws LedgerException {
        try {
            return ApprovalServices.open(config, ledger);
        } catch (IOException e) {
            ledger.close();
            throw new LedgerException("cannot open the approval store under " + config.dataDir() + ": " + e.getMessage(), e);
        }
    }

    /** Starts the approval console when {@code console:} is configured; returns its URL, or {@code null}. */
    public String startConsole() throws IOException {
        if (config.console().isEmpty() || console != null) return console == null ? null : console.url();
        console = ConsoleServer.start(config.console().get(), new ConsoleServices(approvals, approvalServices.approvers(),
                approvalServices.agents(), config.dataDir(), Metrics.shared(), ledger::healthy,
                ConsoleServices.fileLedgerVerifier(config.dataDir(), config.ledger().witnesses().stream()
                        .flatMap(w -> w instanceof LedgerConfig.WitnessConfig.File f ? java.util.stream.Stream.of(f.path())
                                : java.util.stream.Stream.empty()).findFirst()),
                (address, reason) -> gate.authenticationFailed("", "", "console", address, reason)));
        log.println("warden: console on " + console.where());
        return console.url();
    }

    /**
     * Rules that name a tag, agent or database the configuration does not have: the rule never matches on that name,
     * so a typo in a deny rule ({@code tags: [pi]}) silently lets through what it was written to stop.
     */
    public static void warnAboutUnknownNames(WardenConfig config, Policy policy, PrintStream log) {
        for (dev.warden.core.policy.Rule r : policy.rules()) {
            var m = r.match();
            for (String tag : m.tags()) {
                if (!config.tags().containsKey(tag)) {
                    log.println("warning: rule \"" + r.name() + "\" names the tag '" + tag + "', which tags: in "
                            + config.source() + " does not define: no column has it");
                }
            }
            unknown(r, "agent", m.agents(), config.agents().stream().map(dev.warden.core.config.AgentConfig::name).toList(), config, log);
            unknown(r, "database", m.databases(), config.databases().stream().map(DatabaseConfig::name).toList(), config, log);
        }
    }

    private static void unknown(dev.warden.core.policy.Rule r, String key, List<dev.warden.core.policy.Glob> globs,
                                List<String> configured, WardenConfig config, PrintStream log) {
        if (globs.isEmpty() || configured.stream().anyMatch(n -> globs.stream().anyMatch(g -> g.matches(n)))) return;
        log.println("warning: rule \"" + r.name() + "\" matches " + key + " " + globs + ", but " + config.source()
                + " configures no " + key + " of that name: the rule never matches");
    }

    /** Approve rules that nobody could satisfy: no console to approve in, or fewer approvers than a rule asks for. */
    private void warnAboutApprovals() {
        for (dev.warden.core.policy.Rule r : gate.policy().rules()) {
            if (r.action() != dev.warden.core.Action.APPROVE) continue;
            if (config.console().isEmpty()) {
                log.println("warning: rule \"" + r.name() + "\" sends statements to approval, but no console is configured"
                        + " (console: in " + config.source() + "): nobody can approve them (the approvers' commands and the"
                        + " console API need it), so they are denied when they time out");
                return;
            }
            int needed = r.approval() == null ? 1 : r.approval().approvers();
            if (config.approvers().size() < needed) {
                log.println("warning: rule \"" + r.name() + "\" needs " + needed + " approvers, but " + config.source()
                        + " names " + config.approvers().size() + ": its requests can never be approved");
            }
        }
    }

    /** Starts one front end per listen address; returns the addresses. */
    public List<HostPort> start() throws IOException {
        Map<HostPort, List<DatabaseConfig>> byListen = new LinkedHashMap<>();
        for (DatabaseConfig db : config.databases()) {
            if (gate.target(db.name()).isPresent()) byListen.computeIfAbsent(db.listen(), k -> new ArrayList<>()).add(db);
        }
        List<HostPort> started = new ArrayList<>();
        try {
            startConsole();
            warnAboutApprovals();
            for (Map.Entry<HostPort, List<DatabaseConfig>> e : byListen.entrySet()) {
                Engine engine = engines.get(e.getValue().getFirst().engine()).orElseThrow();
                FrontEnd fe;
                try {
                    fe = engine.frontEnd(new FrontEndContext(gate, config, e.getValue()));
                } catch (UnsupportedOperationException u) {
                    log.println("warning: " + e.getKey() + ": " + u.getMessage());
                    continue;
                }
                fe.start();
                frontEnds.add(fe);
                started.add(e.getKey());
            }
            if (config.mcp().isPresent()) {
                // The kill switch refuses a disabled agent's requests at the door; the gate denies its operations anyway.
                mcp = McpServer.start(gate, config, db -> engines.get(db.engine()).orElseThrow(),
                        agent -> gate.agents().map(s -> !s.allows(agent)).orElse(false), consoleUrl);
                log.println("warden: MCP endpoint " + mcp.endpoint());
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
        return started;
    }

    /**
     * Warns about upstream roles with more power than a guarded agent should have: a superuser, a role that can create
     * roles or bypass row security, and privileges no rule of the policy would ever use ({@link PrivilegeCheck}).
     * The doctor grows from this.
     */
    public void checkUpstreams() {
        for (DatabaseConfig db : config.databases()) {
            if (!db.engine().equals("postgres")) continue;
            Engine e = engines.get("postgres").orElse(null);
            if (e == null) continue;
            try (UpstreamSession s = e.connect(db)) {
                QueryResult r = s.run("SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = current_user", true, 1, 1 << 16);
                if (!r.rows().isEmpty()) {
                    List<String> row = r.rows().getFirst();
                    if ("t".equals(row.get(0))) {
                        log.println("warning: database '" + db.name() + "': the upstream role '" + db.upstream().user()
                                + "' is a superuser; give Warden a role with only the privileges the policy allows");
                        continue;
                    }
                    if ("t".equals(row.get(1)) || "t".equals(row.get(2))) {
                        log.println("warning: database '" + db.name() + "': the upstream role '" + db.upstream().user()
                                + "' can create roles or bypass row security");
                    }
                }
                List<String> unused = PrivilegeCheck.unused(PrivilegeCheck.probes(s), gate, db, config.agents());
                if (!unused.isEmpty()) {
                    int shown = Math.min(unused.size(), 10);
                    log.println("warning: database '" + db.name() + "': the upstream role '" + db.upstream().user()
                            + "' can do what the policy never lets an agent do: " + String.join(", ", unused.subList(0, shown))
                            + (unused.size() > shown ? " and " + (unused.size() - shown) + " more" : "")
                            + "; revoke it, so that the database refuses it too");
                }
            } catch (IOException | UpstreamSession.UpstreamException | RuntimeException x) {
                log.println("warning: database '" + db.name() + "': cannot reach the upstream at start (" + x.getMessage()
                        + "); sessions will try again when agents connect");
            }
        }
    }

    /** Loads the policy file again; the old policy stays in force when the new one is invalid. */
    public boolean reloadPolicy() {
        try {
            Policy next = PolicyLoader.load(config.policy());
            gate.install(next);
            warnAboutUnknownNames(config, next, log);
            log.println(java.time.Instant.now() + " INFO policy reloaded from " + config.policy() + " (" + next.rules().size()
                    + " rules, sha256 " + next.hash() + ")");
            return true;
        } catch (ConfigException | LedgerException e) {
            log.println(java.time.Instant.now() + " WARN policy not reloaded, the previous one stays in force: " + e.getMessage());
            return false;
        }
    }

    public Gate gate() {
        return gate;
    }

    public WardenConfig config() {
        return config;
    }

    public Engines engines() {
        return engines;
    }

    public Approvals approvals() {
        return approvals;
    }

    public Ledger ledger() {
        return ledger;
    }

    /** The MCP server's endpoint with the port it bound, when the configuration has an {@code mcp:} section. */
    public java.util.Optional<java.net.URI> mcpEndpoint() {
        McpServer m = mcp;
        return m == null ? java.util.Optional.empty() : java.util.Optional.of(m.endpoint());
    }

    public List<FrontEnd> frontEnds() {
        return List.copyOf(frontEnds);
    }

    /** Stops accepting everywhere at once, lets running statements finish (grace period), closes the ledger last. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        List<Thread> stopping = new ArrayList<>();
        for (FrontEnd fe : frontEnds) stopping.add(Thread.ofVirtual().start(fe::close));
        McpServer m = mcp;
        if (m != null) stopping.add(Thread.ofVirtual().start(m::close));
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (console != null) console.close();
        for (Catalog c : catalogs) {
            try {
                c.close();
            } catch (RuntimeException ignored) {
                // closing anyway
            }
        }
        approvalServices.close();
        // The ledger writes its final checkpoint on close.
        ledger.close();
    }
}
