package dev.warden.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.HostPort;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.yaml.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code mcp:} section of warden.yaml: defaults, limits, TLS files, and errors that name file, line and key. */
class McpConfigLoaderTest {
    @TempDir
    Path dir;

    static final String BASE = """
            policy: policy.yaml
            agents:
              - name: coding-agent
                secret_env: CODING_AGENT_SECRET
            databases:
              - name: app
                engine: postgres
                listen: 127.0.0.1:6432
                upstream: { host: 127.0.0.1, database: app, user: warden_agent, password_env: APP_DB_PASSWORD }
            console:
              listen: 127.0.0.1:8080
            """;

    WardenConfig load(String yaml) throws Exception {
        Path f = dir.resolve("warden.yaml");
        Files.writeString(f, yaml);
        return new ConfigLoader(Map.of("CODING_AGENT_SECRET", "s", "APP_DB_PASSWORD", "p")::get, w -> {}).load(f);
    }

    @Test
    void absentMeansNoMcpServer() throws Exception {
        assertThat(load(BASE).mcp()).isEmpty();
    }

    @Test
    void defaults() throws Exception {
        McpConfig m = load(BASE + "mcp: {}\n").mcp().orElseThrow();
        assertThat(m.listen()).isEqualTo(new HostPort("127.0.0.1", 8081));
        assertThat(m.tls()).isEmpty();
        assertThat(m.maxRows()).isEqualTo(1000);
        assertThat(m.maxBytes()).isEqualTo(1024 * 1024);
        assertThat(m.allowedOrigins()).isEmpty();
        assertThat(m.maxRequestBytes()).isEqualTo(4 * 1024 * 1024);
    }

    @Test
    void everyKey() throws Exception {
        Files.writeString(dir.resolve("mcp.crt"), "x");
        Files.writeString(dir.resolve("mcp.key"), "x");
        McpConfig m = load(BASE + """
                mcp:
                  listen: 0.0.0.0:9443
                  tls: { cert: mcp.crt, key: mcp.key }
                  max_rows: 200
                  max_bytes: 256KiB
                  allowed_origins: ["https://Inspector.example.com", "http://10.0.0.5:6274"]
                  max_request_size: 2MiB
                """).mcp().orElseThrow();
        assertThat(m.listen()).isEqualTo(new HostPort("0.0.0.0", 9443));
        assertThat(m.tls()).hasValueSatisfying(t -> {
            assertThat(t.cert()).isEqualTo(dir.resolve("mcp.crt"));
            assertThat(t.key()).isEqualTo(dir.resolve("mcp.key"));
        });
        assertThat(m.maxRows()).isEqualTo(200);
        assertThat(m.maxBytes()).isEqualTo(256 * 1024);
        assertThat(m.allowedOrigins()).extracting(Object::toString)
                .containsExactly("https://inspector.example.com", "http://10.0.0.5:6274");
        assertThat(m.maxRequestBytes()).isEqualTo(2 * 1024 * 1024);
        assertThat(load(BASE + "mcp: { max_bytes: 2000000 }\n").mcp().orElseThrow().maxBytes()).isEqualTo(2_000_000);
    }

    @Test
    void errorsNameFileLineAndKey() {
        assertThatThrownBy(() -> load(BASE + "mcp:\n  listen: 127.0.0.1:8081\n  port: 8081\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("warden.yaml:14").hasMessageContaining("port");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  max_rows: 0\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("warden.yaml:13").hasMessageContaining("max_rows");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  max_rows: many\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max_rows").hasMessageContaining("integer");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  max_bytes: 1 GB\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max_bytes");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  listen: nowhere\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("listen");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  tls: { cert: missing.crt, key: missing.key }\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cert").hasMessageContaining("cannot read");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  tls: { cert: a.crt }\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("key");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  listen: 127.0.0.1:8080\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("console");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  listen: 127.0.0.1:6432\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("database 'app'");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  allowed_origins:\n    - https://ok.example\n    - https://a.example/app\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("warden.yaml:15")
                .hasMessageContaining("allowed_origins[1]").hasMessageContaining("without a path");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  allowed_origins: [\"ftp://a.example\"]\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("allowed_origins[0]").hasMessageContaining("http");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  allowed_origins: https://a.example\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("allowed_origins").hasMessageContaining("list");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  max_request_size: 1KiB\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("warden.yaml:13")
                .hasMessageContaining("max_request_size").hasMessageContaining("64KiB");
        assertThatThrownBy(() -> load(BASE + "mcp:\n  max_request_size: 1GB\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max_request_size");
    }
}
