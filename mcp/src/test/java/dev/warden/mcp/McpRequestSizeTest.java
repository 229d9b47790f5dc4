package dev.warden.mcp;

import static dev.warden.mcp.McpHttpTest.call;
import static dev.warden.mcp.McpHttpTest.data;
import static dev.warden.mcp.McpHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.config.McpConfig;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How much of a request body the endpoint takes in: at most {@code max_request_size} (4 MiB by default), refused with
 * 413 as soon as the limit is known to be passed, never by reading the rest first. Raw sockets, so that a test can
 * declare a body it never sends, and see the answer arrive while the body is still unsent.
 */
class McpRequestSizeTest {
    static McpFixture f;
    static long limit;

    @BeforeAll
    static void start() throws Exception {
        f = McpFixture.start();
        limit = f.config.mcp().orElseThrow().maxRequestBytes();
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    static Socket open() throws IOException {
        Socket s = new Socket(f.server.endpoint().getHost(), f.server.endpoint().getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    static void head(OutputStream out, String token, String length) throws IOException {
        String h = "POST " + McpServer.PATH + " HTTP/1.1\r\nHost: " + f.server.endpoint().getAuthority() + "\r\n"
                + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                + (length == null ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + length + "\r\n") + "\r\n";
        out.write(h.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** The status line and the body (up to the first 4 KiB) of the answer. */
    static String answer(Socket s) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder b = new StringBuilder();
        char[] buf = new char[4096];
        int n;
        try {
            while (b.length() < 4096 && (n = in.read(buf)) > 0) b.append(buf, 0, n);
        } catch (SocketTimeoutException | java.net.SocketException e) {
            if (b.isEmpty()) throw e;
        }
        return b.toString();
    }

    @Test
    void aDeclaredBodyOverTheLimitIsRefusedWithoutReadingIt() throws Exception {
        for (String token : java.util.Arrays.asList(McpFixture.SECRET, null, "wrong-token")) {
            try (Socket s = open()) {
                // 64 MiB declared, not a byte of it sent: the answer can only come from the declared length.
                head(s.getOutputStream(), token, String.valueOf(64L << 20));
                String a = answer(s);
                assertThat(a).as("token " + token).startsWith("HTTP/1.1 413").contains("max_request_size")
                        .contains(String.valueOf(limit));
            }
        }
    }

    @Test
    void aStreamedBodyIsCutAtTheLimit() throws Exception {
        try (Socket s = open()) {
            OutputStream out = s.getOutputStream();
            head(out, McpFixture.SECRET, null);
            // Three times the limit in 64 KiB chunks, no length declared: refused once the limit is passed, not
            // parsed (which would answer 400 for these spaces).
            AtomicLong sent = new AtomicLong();
            Thread writer = Thread.ofPlatform().daemon().start(() -> {
                byte[] chunk = ("10000\r\n" + " ".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                try {
                    while (sent.get() < 3 * limit) {
                        out.write(chunk);
                        sent.addAndGet(0x10000);
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException closed) {
                    // The server closed the connection after its answer.
                }
            });
            String a = answer(s);
            writer.join(10_000);
            assertThat(a).startsWith("HTTP/1.1 413");
        }
    }

    @Test
    void anUnauthenticatedStreamedBodyIsNotWaitedFor() throws Exception {
        try (Socket s = open()) {
            OutputStream out = s.getOutputStream();
            head(out, null, null);
            out.write(("10000\r\n" + " ".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // The body never ends: the answer comes without it.
            assertThat(answer(s)).startsWith("HTTP/1.1 401");
        }
    }

    @Test
    void aLargeButAllowedRequestIsServed() {
        McpSyncClient client = f.httpClient(McpFixture.SECRET);
        try {
            // Three quarters of the limit in one argument (the reason, which the gate cuts to 500 characters).
            String reason = "x".repeat((int) (limit * 3 / 4));
            CallToolResult r = call(client, "query", Map.of("database", "app", "sql", "SELECT 1 AS one", "reason", reason));
            assertThat(r.isError()).as(text(r)).isFalse();
            assertThat(data(r).get("rows")).isEqualTo(java.util.List.of(java.util.List.of("1")));
        } finally {
            client.closeGracefully();
        }
    }

    @Test
    void theDefaultLimitIsAFewMebibytes() {
        assertThat(McpConfig.DEFAULT_MAX_REQUEST_BYTES).isEqualTo(4L << 20);
        assertThat(limit).isEqualTo(McpConfig.DEFAULT_MAX_REQUEST_BYTES);
    }
}
