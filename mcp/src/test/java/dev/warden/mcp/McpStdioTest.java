package dev.warden.mcp;

import static dev.warden.mcp.McpHttpTest.call;
import static dev.warden.mcp.McpHttpTest.data;
import static dev.warden.mcp.McpHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SDK's own client over stdio, through the bridge process ({@code StdioBridge}, the code behind
 * {@code warden mcp}), to the MCP server over HTTP, on a real PostgreSQL. The bridge process gets the endpoint, the
 * agent name and the secret in its environment, and nothing else.
 */
class McpStdioTest {
    static McpFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = McpFixture.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    static McpSyncClient stdioClient(String agent, String secret) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ServerParameters params = ServerParameters.builder(java)
                .args("-cp", System.getProperty("java.class.path"), StdioBridge.class.getName(),
                        "--url", f.server.endpoint().toString(), "--agent", agent)
                .addEnvVar(StdioBridge.SECRET_ENV, secret)
                .build();
        StdioClientTransport transport = new StdioClientTransport(params, new JacksonMcpJsonMapper(new ObjectMapper()));
        McpSyncClient client = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(30))
                .initializationTimeout(Duration.ofSeconds(30))
                .clientInfo(new McpSchema.Implementation("warden-stdio-test", "1")).build();
        client.initialize();
        return client;
    }

    @Test
    void throughTheBridgeReadsRunDenialsRefuseAndApprovalsRunOnce() throws Exception {
        McpSyncClient client = stdioClient("coding-agent", McpFixture.SECRET);
        try {
            assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name)
                    .contains("query", "explain", "run_approved");

            CallToolResult read = call(client, "query", Map.of("database", "app", "sql", "SELECT item FROM orders WHERE id = 2"));
            assertThat(read.isError()).as(text(read)).isFalse();
            assertThat(data(read).get("rows")).isEqualTo(List.of(List.of("pear")));

            CallToolResult denied = call(client, "query", Map.of("database", "app", "sql", "DELETE FROM audit_log"));
            assertThat(denied.isError()).isTrue();
            assertThat(text(denied)).contains("protect-audit-log");
            assertThat(f.count("SELECT count(*) FROM audit_log")).isEqualTo(2);

            String sql = "INSERT INTO orders VALUES (300, 'via-stdio', NULL)";
            String id = (String) data(call(client, "query", Map.of("database", "app", "sql", sql))).get("approval_id");
            assertThat(id).isNotBlank();
            f.approvals.decide(id, "alice", true, null);
            assertThat(call(client, "run_approved", Map.of("id", id)).isError()).isFalse();
            assertThat(call(client, "run_approved", Map.of("id", id)).isError()).isTrue();
            assertThat(f.count("SELECT count(*) FROM orders WHERE id = 300")).isEqualTo(1);

            CallToolResult big = call(client, "query", Map.of("database", "app", "sql", "SELECT g FROM generate_series(1, 1500) g"));
            assertThat(data(big)).containsEntry("truncated", true);
        } finally {
            client.closeGracefully();
        }
    }

    @Test
    void aWrongSecretIsRefusedThroughTheBridge() {
        assertThatThrownBy(() -> stdioClient("coding-agent", "wrong-secret")).hasStackTraceContaining("credentials");
    }

    @Test
    void theBridgeRefusesASecretOfAnotherAgent() {
        assertThatThrownBy(() -> stdioClient("coding-agent", McpFixture.OTHER_SECRET)).hasStackTraceContaining("credentials");
    }
}
