package dev.warden.mcp;

import static dev.warden.mcp.McpHttpTest.call;
import static dev.warden.mcp.McpHttpTest.data;
import static dev.warden.mcp.McpHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * request_approval first asks whether the statement needs approval at all. It asked without enrichment, so without
 * tags: a read that an approve rule on {@code tags} sends to a person ("personal-data" on orders.email) was answered
 * "not_needed: the policy allows this statement without approval; run it with the query tool", and query then
 * opened the request after all (found by the README check, asking for approval of a read of payments under a
 * financial tag).
 */
class McpRequestApprovalTagsTest {
    @Test
    void aReadATagRuleSendsToApprovalGetsARequest() throws Exception {
        try (McpFixture f = McpFixture.start()) {
            McpSyncClient c = f.httpClient(McpFixture.SECRET);
            try {
                String sql = "SELECT email FROM orders WHERE id = 1";
                CallToolResult r = call(c, "request_approval", Map.of("database", "app", "sql", sql, "reason", "support ticket"));
                assertThat(r.isError()).as(text(r)).isFalse();
                assertThat(data(r)).as(text(r)).doesNotContainEntry("status", "not_needed")
                        .containsEntry("rule", "personal-data").containsKey("approval_id");
                String id = (String) data(r).get("approval_id");
                assertThat(f.approvals.get(id)).hasValueSatisfying(a -> assertThat(a.operation().text()).isEqualTo(sql));

                // Approved, the same request_approval says so instead of opening another.
                f.approvals.decide(id, "alice", true, null);
                CallToolResult again = call(c, "request_approval", Map.of("database", "app", "sql", sql, "reason", "again"));
                assertThat(text(again)).contains(id).contains("already approved");
            } finally {
                c.closeGracefully();
            }
        }
    }
}
