package dev.warden.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Gate;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.policy.PolicyLoader;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** With {@code tls:} the MCP endpoint speaks HTTPS from PEM files, and the SDK client works over it. */
class McpTlsTest {
    @TempDir
    Path dir;

    @Test
    void servesHttpsFromPemFiles() throws Exception {
        Path p12 = dir.resolve("mcp.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "mcp", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", p12.toString(),
                "-storepass", "changeit").redirectErrorStream(true).start();
        assertThat(keytool.waitFor()).isZero();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, "changeit".toCharArray());
        }
        Certificate cert = ks.getCertificate("mcp");
        Path certPem = dir.resolve("mcp.crt");
        Path keyPem = dir.resolve("mcp.key");
        Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
        Files.writeString(keyPem, pem("PRIVATE KEY", ks.getKey("mcp", "changeit".toCharArray()).getEncoded()));

        WardenConfig config = new WardenConfig(dir.resolve("warden.yaml"), dir, dir.resolve("policy.yaml"),
                List.of(new AgentConfig("coding-agent", new Secret(McpFixture.SECRET), List.of())), List.of(), List.of(),
                Map.of(), Optional.empty(), Optional.of(new McpConfig(new HostPort("127.0.0.1", 0),
                        Optional.of(new McpConfig.Tls(certPem, keyPem)), 1000, 1 << 20)));
        Gate gate = new Gate(Map.of(), PolicyLoader.parse(Path.of("p.yaml"),
                McpFixture.POLICY.getBytes(StandardCharsets.UTF_8)), null, new MemoryLedger(), null);
        try (McpServer server = McpServer.start(gate, config, d -> null, a -> false, null)) {
            URI e = server.endpoint();
            assertThat(e.getScheme()).isEqualTo("https");

            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("mcp", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);

            HttpClientStreamableHttpTransport t = HttpClientStreamableHttpTransport.builder("https://" + e.getAuthority())
                    .endpoint(e.getPath())
                    .clientBuilder(HttpClient.newBuilder().sslContext(ssl))
                    .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + McpFixture.SECRET))
                    .build();
            McpSyncClient client = McpClient.sync(t).requestTimeout(Duration.ofSeconds(20))
                    .clientInfo(new McpSchema.Implementation("tls-test", "1")).build();
            try {
                client.initialize();
                McpSchema.CallToolResult r = client.callTool(new McpSchema.CallToolRequest("list_databases", Map.of()));
                assertThat(r.isError()).isFalse();
            } finally {
                client.closeGracefully();
            }
            // A client that does not trust the certificate does not get in.
            HttpClient untrusting = HttpClient.newHttpClient();
            assertThatThrownBy(() -> untrusting.send(HttpRequest.newBuilder(e).GET().build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding())).isInstanceOf(javax.net.ssl.SSLException.class);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
