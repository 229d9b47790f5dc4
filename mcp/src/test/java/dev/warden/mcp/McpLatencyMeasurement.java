package dev.warden.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Not part of the suite (no Test suffix): wall time of one allowed read through the query tool, SDK client to
 * embedded PostgreSQL and back. Run with
 * {@code ./mvnw -q -pl mcp -am test -Dtest=McpLatencyMeasurement -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class McpLatencyMeasurement {
    @Test
    void allowedReadRoundTrip() throws Exception {
        try (McpFixture f = McpFixture.start()) {
            McpSyncClient client = f.httpClient(McpFixture.SECRET);
            McpSchema.CallToolRequest q = new McpSchema.CallToolRequest("query",
                    Map.of("database", "app", "sql", "SELECT id, item FROM orders WHERE id = 2"));
            for (int i = 0; i < 200; i++) assertThat(client.callTool(q).isError()).isFalse();
            int n = 1000;
            long[] micros = new long[n];
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                long t = System.nanoTime();
                client.callTool(q);
                micros[i] = (System.nanoTime() - t) / 1000;
            }
            long total = (System.nanoTime() - start) / 1_000_000;
            Arrays.sort(micros);
            System.out.printf("MCP query round trip over HTTP, %d calls in %d ms: p50 %d us, p90 %d us, p99 %d us%n",
                    n, total, micros[n / 2], micros[n * 9 / 10], micros[n * 99 / 100]);
            client.closeGracefully();
        }
    }
}
