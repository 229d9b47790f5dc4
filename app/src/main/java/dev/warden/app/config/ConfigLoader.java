package dev.warden.app.config;

import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.ConsoleConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.TlsConfig;
import dev.warden.core.config.LedgerConfig;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.UpstreamTlsConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.config.WebOrigin;
import dev.warden.core.engine.Engines;
import dev.warden.core.yaml.ConfigException;
import dev.warden.core.yaml.YamlNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Reads {@code warden.yaml} strictly into a {@link WardenConfig}. Every error names the file, the line and the key;
 * warnings (inline secrets) go to the given sink. Secrets are never part of a message.
 */
public final class ConfigLoader {
    private static final List<String> TOP_KEYS = List.of("data_dir", "policy", "agents", "approvers", "databases", "tags", "console", "ledger", "webhooks", "mcp");
    private static final List<String> AGENT_KEYS = List.of("name", "secret", "secret_env", "databases");
    private static final List<String> APPROVER_KEYS = List.of("name", "token", "token_env");
    private static final List<String> DATABASE_KEYS = List.of("name", "engine", "listen", "upstream", "statement_timeout",
            "tls", "max_message_size", "startup_timeout", "idle_timeout", "max_connections_per_agent", "agent_auth");
    private static final List<String> TLS_KEYS = List.of("mode", "cert", "key");
    private static final List<String> UPSTREAM_KEYS = List.of("host", "port", "database", "user", "password", "password_env", "tls");
    private static final List<String> UPSTREAM_TLS_KEYS = List.of("mode", "ca");
    private static final List<String> CONSOLE_KEYS = List.of("listen", "tls", "url");
    private static final List<String> CONSOLE_TLS_KEYS = List.of("cert", "key");
    private static final List<String> WEBHOOK_KEYS = List.of("url", "format", "secret", "secret_env");
    private static final List<String> LEDGER_KEYS = List.of("sync", "segment_size", "checkpoint_interval", "fsync_interval",
            "signing_key", "origin", "witnesses", "redact_literals");
    private static final List<String> WITNESS_KEYS = List.of("file", "url");
    private static final List<String> MCP_KEYS = List.of("listen", "tls", "max_rows", "max_bytes", "allowed_origins",
            "max_request_size");
    private static final List<String> MCP_TLS_KEYS = List.of("cert", "key");

    private final Function<String, String> env;
    private final Consumer<String> warnings;
    private final boolean secretsNeeded;
    private final boolean policyChecked;

    public ConfigLoader(Function<String, String> env, Consumer<String> warnings) {
        this(env, warnings, true, false);
    }

    private ConfigLoader(Function<String, String> env, Consumer<String> warnings, boolean secretsNeeded, boolean policyChecked) {
        this.env = env;
        this.warnings = warnings;
        this.secretsNeeded = secretsNeeded;
        this.policyChecked = policyChecked;
    }

    /** For commands that run with the configuration: every secret set, the policy file there (named at its key). */
    public static ConfigLoader standard() {
        return new ConfigLoader(System::getenv, w -> System.err.println("warning: " + w), true, true);
    }

    /**
     * For commands that read the configuration for where things are (the console's address, the data directory),
     * run by approvers and auditors who hold none of the agents' or databases' secrets: a secret whose variable is
     * not set is {@link #UNSET} instead of an error, and nothing is warned about. Everything else is checked as ever.
     */
    public static ConfigLoader withoutSecrets(Function<String, String> env) {
        return new ConfigLoader(env, w -> { }, false, false);
    }

    /** What a secret is when {@link #withoutSecrets} read a configuration whose variable is not set here. */
    public static final Secret UNSET = new Secret("");

    public WardenConfig load(Path file) throws ConfigException {
        Path abs = file.toAbsolutePath().normalize();
        YamlNode root = YamlNode.read(file);
        Map<String, YamlNode> top = root.map(TOP_KEYS);
        Path base = abs.getParent();

        Path dataDir = base.resolve(top.containsKey("data_dir") ? nonBlank(top.get("data_dir")) : "warden-data").normalize();
        if (!top.containsKey("policy")) throw root.error("missing key 'policy'");
        Path policy = base.resolve(nonBlank(top.get("policy"))).normalize();
        if (policyChecked && !Files.isRegularFile(policy)) {
            throw top.get("policy").error("the policy file " + policy + " does not exist or is not a file");
        }

        List<AgentConfig> agents = new ArrayList<>();
        Set<String> agentNames = new HashSet<>();
        for (YamlNode n : listOf(top.get("agents"))) {
            AgentConfig a = agent(n);
            if (!agentNames.add(a.name())) throw n.error("duplicate agent name '" + a.name() + "'");
            agents.add(a);
        }
        List<ApproverConfig> approvers = new ArrayList<>();
        Set<String> approverNames = new HashSet<>();
        for (YamlNode n : listOf(top.get("approvers"))) {
            ApproverConfig a = approver(n);
            if (!approverNames.add(a.name())) throw n.error("duplicate approver name '" + a.name() + "'");
            if (agentNames.contains(a.name())) throw n.error("'" + a.name() + "' is an agent; an agent identity can never approve");
            approvers.add(a);
        }
        List<DatabaseConfig> databases = new ArrayList<>();
        Map<String, YamlNode> databaseNodes = new LinkedHashMap<>();
        for (YamlNode n : listOf(top.get("databases"))) {
            DatabaseConfig d = database(n);
            if (databaseNodes.containsKey(d.name())) throw n.error("duplicate database name '" + d.name() + "'");
            databaseNodes.put(d.name(), n);
            databases.add(d);
        }
        checkListeners(databases, databaseNodes);
        for (int i = 0; i < agents.size(); i++) {
            if (agents.get(i).databases().isEmpty()) continue;
            // The name itself is pointed at (its line, agents[i].databases[j]), as every other error does.
            for (YamlNode n : top.get("agents").list().get(i).map(null).get("databases").oneOrList()) {
                if (!databaseNodes.containsKey(n.string())) {
                    throw n.error("no configured database is named '" + n.string() + "'");
                }
            }
        }
        Map<String, List<String>> tags = new LinkedHashMap<>();
        if (top.containsKey("tags") && !top.get("tags").isNull()) {
            YamlNode t = top.get("tags");
            if (!t.isMap()) throw t.error("expected a mapping of tag name to column patterns");
            for (Map.Entry<String, YamlNode> e : t.map(null).entrySet()) {
                List<String> globs = e.getValue().strings();
                if (globs.isEmpty()) throw e.getValue().error("the list is empty");
                tags.put(e.getKey(), List.copyOf(globs));
            }
        }
        Optional<ConsoleConfig> console = Optional.empty();
        if (top.containsKey("console") && !top.get("console").isNull()) {
            Map<String, YamlNode> c = top.get("console").map(CONSOLE_KEYS);
            HostPort listen = c.containsKey("listen") ? hostPort(c.get("listen")) : new HostPort("127.0.0.1", 8080);
            Optional<dev.warden.core.config.ConsoleTlsConfig> tls = Optional.empty();
            if (c.containsKey("tls") && !c.get("tls").isNull()) {
                YamlNode t = c.get("tls");
                Map<String, YamlNode> tm = t.map(CONSOLE_TLS_KEYS);
                tls = Optional.of(new dev.warden.core.config.ConsoleTlsConfig(existingFile(base, required(t, tm, "cert")), existingFile(base, required(t, tm, "key"))));
            }
            Optional<String> url = Optional.empty();
            if (c.containsKey("url")) url = Optional.of(httpUrl(c.get("url")).toString().replaceAll("/+$", ""));
            console = Optional.of(new ConsoleConfig(listen, tls, url));
        }
        LedgerConfig ledger = top.containsKey("ledger") && !top.get("ledger").isNull()
                ? ledger(top.get("ledger"), base, dataDir) : LedgerConfig.DEFAULTS;
        List<dev.warden.core.config.WebhookConfig> webhooks = new ArrayList<>();
        for (YamlNode n : listOf(top.get("webhooks"))) webhooks.add(webhook(n));
        Optional<McpConfig> mcp = Optional.empty();
        if (top.containsKey("mcp") && !top.get("mcp").isNull()) {
            mcp = Optional.of(mcp(top.get("mcp"), base));
            HostPort listen = mcp.get().listen();
            YamlNode at = top.get("mcp").map(MCP_KEYS).getOrDefault("listen", top.get("mcp"));
            if (listen.port() != 0 && console.isPresent() && console.get().listen().equals(listen)) {
                throw at.error("listen: " + listen + " is also the console's address");
            }
            for (DatabaseConfig d : databases) {
                if (listen.port() != 0 && d.listen().equals(listen)) throw at.error("listen: " + listen + " is also where database '" + d.name() + "' listens");
            }
        }
        return new WardenConfig(abs, dataDir, policy, agents, approvers, databases, tags, console, ledger, webhooks, mcp);
    }

    private dev.warden.core.config.WebhookConfig webhook(YamlNode n) throws ConfigException {
        Map<String, YamlNode> m = n.map(WEBHOOK_KEYS);
        java.net.URI url = httpUrl(required(n, m, "url"));
        dev.warden.core.config.WebhookConfig.Format format = dev.warden.core.config.WebhookConfig.Format.JSON;
        if (m.containsKey("format")) {
            String f = m.get("format").string();
            format = switch (f) {
                case "json" -> dev.warden.core.config.WebhookConfig.Format.JSON;
                case "slack" -> dev.warden.core.config.WebhookConfig.Format.SLACK;
                default -> throw m.get("format").error("unknown format '" + f + "' (expected json or slack)");
            };
        }
        Secret secret = m.containsKey("secret") || m.containsKey("secret_env")
                ? secret(n, m, "secret", "secret_env", "webhook " + url.getHost()) : null;
        return new dev.warden.core.config.WebhookConfig(url, format, secret);
    }

    private static java.net.URI httpUrl(YamlNode n) throws ConfigException {
        String s = nonBlank(n);
        try {
            java.net.URI u = new java.net.URI(s);
            if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                throw n.error("expected an http:// or https:// URL, got '" + s + "'");
            }
            return u;
        } catch (java.net.URISyntaxException e) {
            throw n.error("not a valid URL: " + e.getMessage());
        }
    }

    private static Path existingFile(Path base, YamlNode n) throws ConfigException {
        Path p = base.resolve(nonBlank(n)).normalize();
        if (!java.nio.file.Files.isReadable(p)) throw n.error("cannot read " + p);
        return p;
    }

    private static McpConfig mcp(YamlNode n, Path base) throws ConfigException {
        Map<String, YamlNode> m = n.map(MCP_KEYS);
        HostPort listen = m.containsKey("listen") ? hostPort(m.get("listen")) : new HostPort("127.0.0.1", 8081);
        Optional<McpConfig.Tls> tls = Optional.empty();
        if (m.containsKey("tls") && !m.get("tls").isNull()) {
            YamlNode t = m.get("tls");
            Map<String, YamlNode> tm = t.map(MCP_TLS_KEYS);
            Path cert = base.resolve(nonBlank(required(t, tm, "cert"))).normalize();
            Path key = base.resolve(nonBlank(required(t, tm, "key"))).normalize();
            if (!java.nio.file.Files.isReadable(cert)) throw tm.get("cert").error("cannot read " + cert);
            if (!java.nio.file.Files.isReadable(key)) throw tm.get("key").error("cannot read " + key);
            tls = Optional.of(new McpConfig.Tls(cert, key));
        }
        int maxRows = McpConfig.DEFAULT_MAX_ROWS;
        if (m.containsKey("max_rows")) {
            long r = m.get("max_rows").integer();
            if (r < 1 || r > 1_000_000) throw m.get("max_rows").error("must be between 1 and 1000000");
            maxRows = (int) r;
        }
        long maxBytes = m.containsKey("max_bytes") ? mcpBytes(m.get("max_bytes")) : McpConfig.DEFAULT_MAX_BYTES;
        List<WebOrigin> origins = new ArrayList<>();
        for (YamlNode o : listOf(m.get("allowed_origins"))) {
            try {
                origins.add(WebOrigin.parse(nonBlank(o)));
            } catch (IllegalArgumentException e) {
                throw o.error(e.getMessage() + ", got '" + o.string() + "'");
            }
        }
        long maxRequest = McpConfig.DEFAULT_MAX_REQUEST_BYTES;
        if (m.containsKey("max_request_size")) {
            maxRequest = size(m.get("max_request_size"));
            if (maxRequest < McpConfig.MIN_REQUEST_BYTES || maxRequest > McpConfig.MAX_REQUEST_BYTES) {
                throw m.get("max_request_size").error("must be between 64KiB and 64MiB");
            }
        }
        return new McpConfig(listen, tls, maxRows, maxBytes, origins, maxRequest);
    }

    /** The MCP result cap in bytes: a number, or one with a unit (the ledger's sizes: KB, KiB, MB, MiB). */
    private static long mcpBytes(YamlNode n) throws ConfigException {
        long v = size(n);
        if (v < 1024 || v > 256L * 1024 * 1024) throw n.error("must be between 1KiB and 256MiB");
        return v;
    }

    private static LedgerConfig ledger(YamlNode n, Path base, Path dataDir) throws ConfigException {
        Map<String, YamlNode> m = n.map(LEDGER_KEYS);
        LedgerConfig d = LedgerConfig.DEFAULTS;
        boolean syncAll = d.syncAll();
        if (m.containsKey("sync")) {
            String v = m.get("sync").string();
            syncAll = switch (v) {
                case "all" -> true;
                case "default" -> false;
                default -> throw m.get("sync").error("expected 'default' or 'all', got '" + v + "'");
            };
        }
        long segmentSize = m.containsKey("segment_size") ? size(m.get("segment_size")) : d.segmentSize();
        if (segmentSize < 4096) throw m.get("segment_size").error("must be at least 4096 bytes");
        if (segmentSize > 1L << 30) throw m.get("segment_size").error("must be at most 1GiB (the verifier reads a segment whole)");
        Duration checkpoint = m.containsKey("checkpoint_interval") ? positive(m.get("checkpoint_interval")) : d.checkpointInterval();
        Duration fsync = m.containsKey("fsync_interval") ? positive(m.get("fsync_interval")) : d.fsyncInterval();
        Optional<Path> key = m.containsKey("signing_key") ? Optional.of(base.resolve(nonBlank(m.get("signing_key"))).normalize()) : Optional.empty();
        Optional<String> origin = Optional.empty();
        if (m.containsKey("origin")) {
            String o = nonBlank(m.get("origin"));
            if (o.contains("\n") || o.chars().anyMatch(Character::isWhitespace)) throw m.get("origin").error("must be one word without spaces");
            origin = Optional.of(o);
        }
        List<LedgerConfig.WitnessConfig> witnesses = new ArrayList<>();
        for (YamlNode w : listOf(m.get("witnesses"))) {
            Map<String, YamlNode> wm = w.map(WITNESS_KEYS);
            if (wm.size() != 1) throw w.error("give exactly one of 'file' or 'url'");
            if (wm.containsKey("file")) {
                Path f = base.resolve(nonBlank(wm.get("file"))).normalize();
                if (f.startsWith(dataDir)) throw wm.get("file").error("a witness file must be outside the data directory " + dataDir);
                witnesses.add(new LedgerConfig.WitnessConfig.File(f));
            } else {
                String u = nonBlank(wm.get("url"));
                try {
                    URI uri = new URI(u);
                    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
                        throw wm.get("url").error("expected an http or https URL, got '" + u + "'");
                    }
                    witnesses.add(new LedgerConfig.WitnessConfig.Url(uri));
                } catch (URISyntaxException e) {
                    throw wm.get("url").error("not a URL: " + e.getMessage());
                }
            }
        }
        boolean redact = m.containsKey("redact_literals") ? m.get("redact_literals").bool() : d.redactLiterals();
        return new LedgerConfig(syncAll, segmentSize, checkpoint, fsync, key, origin, witnesses, redact);
    }

    private static Duration positive(YamlNode n) throws ConfigException {
        Duration d = n.duration();
        if (d.isZero()) throw n.error("must be more than zero");
        return d;
    }

    /** Bytes: an integer, or a number with KB, MB, GB (powers of 1024; KiB, MiB, GiB too). */
    private static long size(YamlNode n) throws ConfigException {
        if (!n.isMap() && !n.isList()) {
            try {
                return n.integer();
            } catch (ConfigException notInteger) {
                // a string with a unit
            }
        }
        String v = n.string().trim();
        java.util.regex.Matcher mm = java.util.regex.Pattern.compile("(?i)(\\d+)\\s*(k|m|g)i?b").matcher(v);
        if (!mm.matches()) throw n.error("expected a size such as 64MB or 1048576, got '" + v + "'");
        long base = Long.parseLong(mm.group(1));
        return switch (mm.group(2).toLowerCase(java.util.Locale.ROOT)) {
            case "k" -> base << 10;
            case "m" -> base << 20;
            default -> base << 30;
        };
    }

    private static void checkListeners(List<DatabaseConfig> databases, Map<String, YamlNode> nodes) throws ConfigException {
        Map<HostPort, String> engineByListen = new LinkedHashMap<>();
        for (DatabaseConfig d : databases) {
            String other = engineByListen.putIfAbsent(d.listen(), d.engine());
            if (other != null && !other.equals(d.engine())) {
                throw nodes.get(d.name()).error("listen: " + d.listen() + " already serves a " + other + " database; one listener speaks one protocol");
            }
        }
    }

    private static List<YamlNode> listOf(YamlNode n) throws ConfigException {
        return n == null || n.isNull() ? List.of() : n.list();
    }

    private AgentConfig agent(YamlNode n) throws ConfigException {
        Map<String, YamlNode> m = n.map(AGENT_KEYS);
        String name = name(n, m);
        Secret secret = secret(n, m, "secret", "secret_env", "agent '" + name + "'");
        List<String> dbs = m.containsKey("databases") ? m.get("databases").strings() : List.of();
        return new AgentConfig(name, secret, dbs);
    }

    private ApproverConfig approver(YamlNode n) throws ConfigException {
        Map<String, YamlNode> m = n.map(APPROVER_KEYS);
        String name = name(n, m);
        return new ApproverConfig(name, secret(n, m, "token", "token_env", "approver '" + name + "'"));
    }

    private DatabaseConfig database(YamlNode n) throws ConfigException {
        Map<String, YamlNode> m = n.map(DATABASE_KEYS);
        String name = name(n, m);
        YamlNode engineNode = required(n, m, "engine");
        String engine = engineNode.string();
        if (!Engines.KNOWN.contains(engine)) throw engineNode.error("unknown engine '" + engine + "' (expected one of " + Engines.KNOWN + ")");
        HostPort listen = hostPort(required(n, m, "listen"));
        YamlNode up = required(n, m, "upstream");
        Map<String, YamlNode> u = up.map(UPSTREAM_KEYS);
        String host = nonBlank(required(up, u, "host"));
        int port = u.containsKey("port") ? port(u.get("port")) : defaultPort(engine);
        String database = nonBlank(required(up, u, "database"));
        String user = u.containsKey("user") ? nonBlank(u.get("user")) : null;
        Secret password = u.containsKey("password") || u.containsKey("password_env")
                ? secret(up, u, "password", "password_env", "database '" + name + "'") : null;
        if (user == null && !"mongodb".equals(engine)) throw up.error("missing key 'user'");
        Duration timeout = m.containsKey("statement_timeout") ? m.get("statement_timeout").duration() : Duration.ofSeconds(30);
        if (timeout.isZero()) {
            YamlNode t = m.get("statement_timeout");
            // PostgreSQL reads 0 as no limit: an agent's runaway query then runs until someone kills it.
            warnings.accept(t.file() + ":" + t.line() + ": " + t.key() + ": 0 turns the server's statement timeout off"
                    + " for every agent session of database '" + name + "'; an agent's runaway query runs until it is killed");
        }
        UpstreamTlsConfig upTls = UpstreamTlsConfig.DISABLE;
        if (u.containsKey("tls") && !u.get("tls").isNull()) {
            Map<String, YamlNode> t = u.get("tls").map(UPSTREAM_TLS_KEYS);
            UpstreamTlsConfig.Mode mode = UpstreamTlsConfig.Mode.REQUIRE;
            if (t.containsKey("mode")) {
                YamlNode mn = t.get("mode");
                mode = switch (mn.string()) {
                    case "disable" -> UpstreamTlsConfig.Mode.DISABLE;
                    case "require" -> UpstreamTlsConfig.Mode.REQUIRE;
                    case "verify-full" -> UpstreamTlsConfig.Mode.VERIFY_FULL;
                    default -> throw mn.error("unknown upstream TLS mode '" + mn.string() + "' (expected disable, require or verify-full)");
                };
            }
            java.nio.file.Path ca = t.containsKey("ca") ? n.file().toAbsolutePath().getParent().resolve(nonBlank(t.get("ca"))).normalize() : null;
            upTls = new UpstreamTlsConfig(mode, ca);
        }
        ListenerConfig listener = listener(m, n.file().toAbsolutePath().getParent());
        if (m.containsKey("agent_auth")) listener = listener.withAgentAuth(agentAuth(m.get("agent_auth"), engine, listener));
        return new DatabaseConfig(name, engine, listen, new UpstreamConfig(host, port, database, user, password, upTls), timeout,
                listener);
    }

    private static ListenerConfig listener(Map<String, YamlNode> m, Path base) throws ConfigException {
        ListenerConfig d = ListenerConfig.DEFAULTS;
        TlsConfig tls = TlsConfig.OFF;
        if (m.containsKey("tls") && !m.get("tls").isNull()) {
            YamlNode t = m.get("tls");
            Map<String, YamlNode> tm = t.map(TLS_KEYS);
            Path cert = tm.containsKey("cert") ? base.resolve(nonBlank(tm.get("cert"))).normalize() : null;
            Path key = tm.containsKey("key") ? base.resolve(nonBlank(tm.get("key"))).normalize() : null;
            if ((cert == null) != (key == null)) throw t.error("give both 'cert' and 'key', or neither (a self-signed certificate is generated)");
            TlsConfig.Mode mode = TlsConfig.Mode.OPTIONAL;
            if (tm.containsKey("mode")) {
                YamlNode mn = tm.get("mode");
                mode = switch (mn.string()) {
                    case "off" -> TlsConfig.Mode.OFF;
                    case "optional" -> TlsConfig.Mode.OPTIONAL;
                    case "required" -> TlsConfig.Mode.REQUIRED;
                    default -> throw mn.error("unknown TLS mode '" + mn.string() + "' (expected off, optional or required)");
                };
            }
            tls = new TlsConfig(mode, cert, key);
        }
        int maxMessage = d.maxMessageBytes();
        if (m.containsKey("max_message_size")) {
            long v = size(m.get("max_message_size"));
            if (v < 1024 || v > 1L << 30) throw m.get("max_message_size").error("must be between 1KiB and 1GiB");
            maxMessage = (int) v;
        }
        Duration startup = m.containsKey("startup_timeout") ? positive(m.get("startup_timeout")) : d.startupTimeout();
        Duration idle = m.containsKey("idle_timeout") ? m.get("idle_timeout").duration() : d.idleTimeout();
        int maxConn = d.maxConnectionsPerAgent();
        if (m.containsKey("max_connections_per_agent")) {
            long v = m.get("max_connections_per_agent").integer();
            if (v < 1 || v > 100_000) throw m.get("max_connections_per_agent").error("must be between 1 and 100000");
            maxConn = (int) v;
        }
        return new ListenerConfig(tls, maxMessage, startup, idle, maxConn);
    }

    /**
     * {@code agent_auth: [scram-sha-256, md5, password]}: the methods agents may authenticate with on this database.
     * Agents' secrets are kept in clear (or in the environment), so MD5 can be checked for every agent. Cleartext
     * passwords only ever travel inside TLS: {@code password} needs {@code tls: {mode: required}}.
     */
    private static List<dev.warden.core.config.AgentAuth> agentAuth(YamlNode n, String engine, ListenerConfig listener)
            throws ConfigException {
        if (!"postgres".equals(engine)) throw n.error("agent_auth applies to postgres databases only");
        List<dev.warden.core.config.AgentAuth> out = new ArrayList<>();
        for (YamlNode item : n.list()) {
            String v = item.string();
            dev.warden.core.config.AgentAuth a = dev.warden.core.config.AgentAuth.fromYaml(v);
            if (a == null) throw item.error("unknown authentication method '" + v + "' (expected scram-sha-256, md5 or password)");
            if (out.contains(a)) throw item.error("'" + v + "' is listed twice");
            out.add(a);
        }
        if (out.isEmpty()) throw n.error("must list at least one method (scram-sha-256, md5 or password)");
        if (out.contains(dev.warden.core.config.AgentAuth.PASSWORD) && listener.tls().mode() != TlsConfig.Mode.REQUIRED) {
            throw n.error("'password' sends the agent's secret in clear text: it needs 'tls: {mode: required}' on this database");
        }
        return out;
    }

    private static int defaultPort(String engine) {
        return switch (engine) {
            case "mysql" -> 3306;
            case "mongodb" -> 27017;
            default -> 5432;
        };
    }

    private static String name(YamlNode n, Map<String, YamlNode> m) throws ConfigException {
        return nonBlank(required(n, m, "name"));
    }

    private static YamlNode required(YamlNode parent, Map<String, YamlNode> m, String key) throws ConfigException {
        YamlNode v = m.get(key);
        if (v == null || v.isNull()) throw parent.error("missing key '" + key + "'");
        return v;
    }

    private static String nonBlank(YamlNode n) throws ConfigException {
        String s = n.string();
        if (s.isBlank()) throw n.error("must not be empty");
        return s;
    }

    private static int port(YamlNode n) throws ConfigException {
        long p = n.integer();
        if (p < 1 || p > 65535) throw n.error("port must be between 1 and 65535");
        return (int) p;
    }

    private static HostPort hostPort(YamlNode n) throws ConfigException {
        try {
            return HostPort.parse(n.string());
        } catch (IllegalArgumentException e) {
            throw n.error(e.getMessage());
        }
    }

    /** Exactly one of the inline key (with a warning) or the environment key; the variable must be set and non-empty. */
    private Secret secret(YamlNode parent, Map<String, YamlNode> m, String inline, String envKey, String owner) throws ConfigException {
        boolean hasInline = m.containsKey(inline);
        boolean hasEnv = m.containsKey(envKey);
        if (hasInline && hasEnv) throw m.get(inline).error("give either '" + inline + "' or '" + envKey + "', not both");
        if (!hasInline && !hasEnv) throw parent.error("missing key '" + envKey + "' (or '" + inline + "')");
        if (hasInline) {
            String v = m.get(inline).string();
            if (v.isEmpty()) throw m.get(inline).error("must not be empty");
            warnings.accept(m.get(inline).file() + ":" + m.get(inline).line() + ": " + m.get(inline).key()
                    + ": the " + owner + " has an inline secret; use '" + envKey + "' outside demos and tests");
            return new Secret(v);
        }
        String var = nonBlank(m.get(envKey));
        String v = env.apply(var);
        if (v == null || v.isEmpty()) {
            if (!secretsNeeded) return UNSET;
            throw m.get(envKey).error("the environment variable " + var + " is not set");
        }
        return new Secret(v);
    }
}
