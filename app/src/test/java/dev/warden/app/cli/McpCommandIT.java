package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.Gate;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.mcp.McpServer;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code warden mcp} as a real process: an MCP client that launches it over stdio reaches the MCP server over HTTP
 * with the agent's secret from the environment, and nothing but that.
 */
class McpCommandIT {
    static final String SECRET = "agent-secret-for-the-bridge-test";
    static MemoryLedger ledger = new MemoryLedger();
    static McpServer server;

    @BeforeAll
    static void start() throws Exception {
        DatabaseConfig app = new DatabaseConfig("app", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", 1, "app", "nobody", null), Duration.ofSeconds(5));
        WardenConfig config = new WardenConfig(Path.of("warden.yaml").toAbsolutePath(), Path.of("data"), Path.of("policy.yaml"),
                List.of(new AgentConfig("coding-agent", new Secret(SECRET), List.of())), List.of(), List.of(app), Map.of(),
                Optional.empty(), Optional.of(new McpConfig(new HostPort("127.0.0.1", 0), Optional.empty(), 1000, 1 << 20)));
        // No targets: every statement is unknown to the gate and so denied, without a database.
        Gate gate = new Gate(Map.of(), PolicyLoader.parse(Path.of("policy.yaml"), """
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                """.getBytes(StandardCharsets.UTF_8)), null, ledger, null);
        server = McpServer.start(gate, config, d -> null, a -> false, null);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static List<String> command(String... args) {
        Path target = Path.of("target").toAbsolutePath();
        List<String> cmd = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-cp",
                target.resolve("warden-app.jar") + ":" + target.resolve("lib") + "/*", "dev.warden.app.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static McpSyncClient client(String secret) {
        ServerParameters params = ServerParameters.builder(Path.of(System.getProperty("java.home"), "bin", "java").toString())
                .args(command("mcp", "--url", server.endpoint().toString(), "--agent", "coding-agent"))
                .addEnvVar("WARDEN_AGENT_SECRET", secret)
                .build();
        McpSyncClient c = McpClient.sync(new StdioClientTransport(params, new JacksonMcpJsonMapper(new ObjectMapper())))
                .requestTimeout(Duration.ofSeconds(30)).initializationTimeout(Duration.ofSeconds(30))
                .clientInfo(new McpSchema.Implementation("bridge-it", "1")).build();
        c.initialize();
        return c;
    }

    @Test
    void anMcpClientReachesTheServerThroughWardenMcp() {
        McpSyncClient c = client(SECRET);
        try {
            assertThat(c.listTools().tools()).extracting(McpSchema.Tool::name).containsExactlyInAnyOrder(
                    "list_databases", "describe", "query", "explain", "request_approval", "approval_status", "run_approved");
            McpSchema.CallToolResult dbs = c.callTool(new McpSchema.CallToolRequest("list_databases", Map.of()));
            assertThat(((McpSchema.TextContent) dbs.content().getFirst()).text()).contains("\"name\":\"app\"");
            McpSchema.CallToolResult q = c.callTool(new McpSchema.CallToolRequest("query", Map.of("database", "app", "sql", "SELECT 1")));
            assertThat(q.isError()).isTrue();
            assertThat(((McpSchema.TextContent) q.content().getFirst()).text()).contains("denied");
            assertThat(ledger.entries()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Entry.DecisionEntry.class,
                    d -> assertThat(d.operation().agent()).isEqualTo("coding-agent")));
        } finally {
            c.closeGracefully();
        }
    }

    @Test
    void aWrongSecretIsRefused() {
        assertThatThrownBy(() -> client("wrong")).hasStackTraceContaining("credentials");
    }

    @Test
    void withoutTheSecretInTheEnvironmentItIsAUsageError() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(command("mcp", "--url", server.endpoint().toString(), "--agent", "coding-agent"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("WARDEN_AGENT_SECRET");
        Process p = pb.start();
        p.getOutputStream().close();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        p.getErrorStream().transferTo(err);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("WARDEN_AGENT_SECRET");
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEmpty();
    }
}
