package dev.warden.mcp;

import static dev.warden.mcp.McpHttpTest.call;
import static dev.warden.mcp.McpHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Gate;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyLoader;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * describe shows only the tables the policy would let the agent read. The preview of {@code SELECT * FROM t} was
 * decided without enrichment, so it carried no sensitivity tags: a deny rule on {@code tags} never matched, and a
 * table whose reading the policy denies for its tagged columns was described in full, column names and tags
 * included (found by the README check: a report agent denied PII saw the users table).
 */
class McpDescribeTagDenyTest {
    static final String POLICY = """
            rules:
              - name: reads
                match: { kind: [read] }
                action: allow
              - name: no-personal-data
                match: { tags: [pii] }
                action: deny
                reason: this agent must not see personal data
            """;

    @Test
    void aTableATagDenyRuleForbidsIsNotDescribed() throws Exception {
        try (McpFixture f = McpFixture.start()) {
            Policy policy = PolicyLoader.parse(Path.of("policy.yaml"), POLICY.getBytes(StandardCharsets.UTF_8));
            Gate gate = new Gate(Map.of("app", f.gate.target("app").orElseThrow()), policy, f.approvals, f.ledger, null);
            McpFixture.StandInEngine engine = new McpFixture.StandInEngine();
            try (McpServer server = McpServer.start(gate, f.config, d -> engine, n -> false, null)) {
                McpSyncClient c = RedTeamMcpTest.TwoAgents.client(server, McpFixture.SECRET);
                try {
                    // What the policy says about reading the table: denied, for its tagged column email.
                    CallToolResult q = call(c, "query", Map.of("database", "app", "sql", "SELECT * FROM orders"));
                    assertThat(q.isError()).as(text(q)).isTrue();
                    assertThat(text(q)).contains("no-personal-data");

                    CallToolResult r = call(c, "describe", Map.of("database", "app"));
                    assertThat(r.isError()).as(text(r)).isFalse();
                    assertThat(text(r)).doesNotContain("public.orders").doesNotContain("email")
                            .contains("public.audit_log");
                } finally {
                    c.closeGracefully();
                }
            }
        }
    }
}
