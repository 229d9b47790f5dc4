package dev.warden.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.config.HostPort;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.config.WebOrigin;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * DNS rebinding (MCP, Streamable HTTP transport: servers MUST validate the Origin header): a page on an attacker's
 * domain that resolves to the loopback address reaches the endpoint from the victim's browser. A request whose
 * Origin is not allowed is refused with 403 before anything else, the bearer token included, so the refusal says
 * nothing about the token; a request without Origin (a program, not a browser) is served as before.
 */
class McpOriginTest {
    static McpFixture f;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String INIT = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
            + "\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"origin-test\",\"version\":\"1\"}}}";

    @BeforeAll
    static void start() throws Exception {
        f = McpFixture.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    static HttpResponse<String> post(McpServer server, String origin, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.endpoint()).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(INIT));
        if (origin != null) b.header("Origin", origin);
        if (token != null) b.header("Authorization", "Bearer " + token);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aForeignOriginIsRefusedEvenWithTheRightToken() throws Exception {
        int port = f.server.endpoint().getPort();
        for (String origin : List.of("http://attacker.example:" + port, "https://attacker.example", "null",
                "http://127.0.0.1.attacker.example", "http://localhost.attacker.example:" + port, "file://", "not an origin")) {
            HttpResponse<String> r = post(f.server, origin, McpFixture.SECRET);
            assertThat(r.statusCode()).as(origin + ": " + r.body()).isEqualTo(403);
            assertThat(r.headers().firstValue("Mcp-Session-Id")).as(origin).isEmpty();
            assertThat(r.body()).contains("origin");
        }
    }

    @Test
    void theRefusalComesBeforeTheTokenIsLookedAt() throws Exception {
        // Same answer with no token, a wrong one and the right one: a foreign page learns nothing about tokens.
        for (String token : java.util.Arrays.asList(null, "wrong-token", McpFixture.SECRET)) {
            HttpResponse<String> r = post(f.server, "http://attacker.example", token);
            assertThat(r.statusCode()).as("token " + token).isEqualTo(403);
            assertThat(r.headers().firstValue("WWW-Authenticate")).as("token " + token).isEmpty();
        }
    }

    @Test
    void everyMethodIsChecked() throws Exception {
        for (String method : List.of("GET", "DELETE")) {
            HttpRequest r = HttpRequest.newBuilder(f.server.endpoint()).header("Origin", "http://attacker.example")
                    .header("Accept", "text/event-stream").header("Authorization", "Bearer " + McpFixture.SECRET)
                    .header("Mcp-Session-Id", "x").method(method, HttpRequest.BodyPublishers.noBody()).build();
            assertThat(HTTP.send(r, HttpResponse.BodyHandlers.ofString()).statusCode()).as(method).isEqualTo(403);
        }
    }

    @Test
    void programsWithoutOriginAndLocalPagesAreServed() throws Exception {
        assertThat(post(f.server, null, McpFixture.SECRET).statusCode()).isEqualTo(200);
        assertThat(post(f.server, null, "wrong-token").statusCode()).isEqualTo(401);
        for (String origin : List.of("http://127.0.0.1:6274", "http://localhost:6274", "http://LOCALHOST", "http://[::1]:3000",
                "https://127.0.0.1", "http://127.1.2.3:80")) {
            HttpResponse<String> r = post(f.server, origin, McpFixture.SECRET);
            assertThat(r.statusCode()).as(origin + ": " + r.body()).isEqualTo(200);
        }
        // Past the origin check, the token decides as before.
        assertThat(post(f.server, "http://localhost:6274", "wrong-token").statusCode()).isEqualTo(401);
    }

    @Test
    void configuredOriginsAreServedAndOnlyThoseExactly() throws Exception {
        McpConfig base = f.config.mcp().orElseThrow();
        McpConfig mc = new McpConfig(base.listen(), base.tls(), base.maxRows(), base.maxBytes(),
                List.of(WebOrigin.parse("https://inspector.example.com")), McpConfig.DEFAULT_MAX_REQUEST_BYTES);
        WardenConfig config = new WardenConfig(f.config.source(), f.config.dataDir(), f.config.policy(), f.config.agents(),
                f.config.approvers(), f.config.databases(), f.config.tags(), f.config.console(), f.config.ledger(),
                f.config.webhooks(), Optional.of(mc));
        try (McpServer other = McpServer.start(f.gate, config, d -> new McpFixture.StandInEngine(), n -> false, null)) {
            assertThat(post(other, "https://inspector.example.com", McpFixture.SECRET).statusCode()).isEqualTo(200);
            assertThat(post(other, "https://INSPECTOR.example.com:443", McpFixture.SECRET).statusCode()).isEqualTo(200);
            assertThat(post(other, "http://inspector.example.com", McpFixture.SECRET).statusCode()).isEqualTo(403);
            assertThat(post(other, "https://inspector.example.com:8443", McpFixture.SECRET).statusCode()).isEqualTo(403);
            assertThat(post(other, "https://evil.inspector.example.com", McpFixture.SECRET).statusCode()).isEqualTo(403);
            assertThat(post(other, "http://localhost:6274", McpFixture.SECRET).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void theBoundHostIsAnAllowedOriginHostAndWildcardsAreNot() {
        AllowedOrigins bound = AllowedOrigins.of(new McpConfig(new HostPort("10.1.2.3", 8081), Optional.empty(), 1000, 1 << 20));
        assertThat(bound.allows("http://10.1.2.3:8081")).isTrue();
        assertThat(bound.allows("https://10.1.2.3")).isTrue();
        assertThat(bound.allows("http://10.1.2.4:8081")).isFalse();
        assertThat(bound.allows("http://localhost:8081")).isTrue();
        AllowedOrigins any = AllowedOrigins.of(new McpConfig(new HostPort("0.0.0.0", 8081), Optional.empty(), 1000, 1 << 20));
        assertThat(any.allows("http://0.0.0.0:8081")).isFalse();
        assertThat(any.allows("http://10.1.2.3:8081")).isFalse();
        assertThat(any.allows("http://127.0.0.1:8081")).isTrue();
        AllowedOrigins v6 = AllowedOrigins.of(new McpConfig(new HostPort("fd00::1", 8081), Optional.empty(), 1000, 1 << 20));
        assertThat(v6.allows("http://[fd00::1]:8081")).isTrue();
        assertThat(v6.allows("http://[FD00:0::1]:8081")).isTrue();
    }
}
