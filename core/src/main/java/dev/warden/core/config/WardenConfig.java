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
 * @param mcp     the MCP server; absent when not configured
 */
public record WardenConfig(Path source, Path dataDir, Path policy, List<AgentConfig> agents,
                           List<ApproverConfig> approvers, List<DatabaseConfig> databases,
                           Map<String, List<String>> tags, Optional<ConsoleConfig> console,
                           Optional<McpConfig> mcp) {
    public WardenConfig {
        agents = List.copyOf(agents);
        approvers = List.copyOf(approvers);
        databases = List.copyOf(databases);
        tags = Map.copyOf(tags);
        mcp = mcp == null ? Optional.empty() : mcp;
    }

    /** Without an MCP server. */
    public WardenConfig(Path source, Path dataDir, Path policy, List<AgentConfig> agents,
                        List<ApproverConfig> approvers, List<DatabaseConfig> databases,
                        Map<String, List<String>> tags, Optional<ConsoleConfig> console) {
        this(source, dataDir, policy, agents, approvers, databases, tags, console, Optional.empty());
    }

    public Optional<DatabaseConfig> database(String name) {
        return databases.stream().filter(d -> d.name().equals(name)).findFirst();
    }

    public Optional<AgentConfig> agent(String name) {
        return agents.stream().filter(a -> a.name().equals(name)).findFirst();
    }
}
