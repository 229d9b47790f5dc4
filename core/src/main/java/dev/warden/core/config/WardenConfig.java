package dev.warden.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole of {@code warden.yaml}, validated.
 *
 * @param source  the configuration file
 * @param dataDir where the ledger and approvals live
 * @param policy  the policy file, resolved against the configuration file's folder
 * @param tags    sensitivity tag name to column globs ({@code schema.table.column})
 * @param console absent when not configured
 * @param ledger  the {@code ledger:} section, or its defaults
 * @param webhooks where new approval requests are announced
 * @param mcp     the MCP server; absent when not configured
 */
public record WardenConfig(Path source, Path dataDir, Path policy, List<AgentConfig> agents,
                           List<ApproverConfig> approvers, List<DatabaseConfig> databases,
                           Map<String, List<String>> tags, Optional<ConsoleConfig> console,
                           LedgerConfig ledger, List<WebhookConfig> webhooks, Optional<McpConfig> mcp) {
    public WardenConfig {
        mcp = mcp == null ? Optional.empty() : mcp;
        if (ledger == null) ledger = LedgerConfig.DEFAULTS;
        webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
        agents = List.copyOf(agents);
        approvers = List.copyOf(approvers);
        databases = List.copyOf(databases);
        tags = Map.copyOf(tags);
    }

    public WardenConfig(Path source, Path dataDir, Path policy, List<AgentConfig> agents,
                        List<ApproverConfig> approvers, List<DatabaseConfig> databases,
                        Map<String, List<String>> tags, Optional<ConsoleConfig> console) {
        this(source, dataDir, policy, agents, approvers, databases, tags, console, LedgerConfig.DEFAULTS, List.of(), Optional.empty());
    }

    public WardenConfig(Path source, Path dataDir, Path policy, List<AgentConfig> agents,
                        List<ApproverConfig> approvers, List<DatabaseConfig> databases,
                        Map<String, List<String>> tags, Optional<ConsoleConfig> console, LedgerConfig ledger) {
        this(source, dataDir, policy, agents, approvers, databases, tags, console, ledger, List.of(), Optional.empty());
    }

    /** Without an MCP server. */
    public WardenConfig(Path source, Path dataDir, Path policy, List<AgentConfig> agents,
                        List<ApproverConfig> approvers, List<DatabaseConfig> databases,
                        Map<String, List<String>> tags, Optional<ConsoleConfig> console, LedgerConfig ledger,
                        List<WebhookConfig> webhooks) {
        this(source, dataDir, policy, agents, approvers, databases, tags, console, ledger, webhooks, Optional.empty());
    }

    /** With the ledger's defaults and no webhooks. */
    public WardenConfig(Path source, Path dataDir, Path policy, List<AgentConfig> agents,
                        List<ApproverConfig> approvers, List<DatabaseConfig> databases,
                        Map<String, List<String>> tags, Optional<ConsoleConfig> console, Optional<McpConfig> mcp) {
        this(source, dataDir, policy, agents, approvers, databases, tags, console, LedgerConfig.DEFAULTS, List.of(), mcp);
    }

    public Optional<DatabaseConfig> database(String name) {
        return databases.stream().filter(d -> d.name().equals(name)).findFirst();
    }

    public Optional<AgentConfig> agent(String name) {
        return agents.stream().filter(a -> a.name().equals(name)).findFirst();
    }
}
