package dev.warden.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.AgentAuth;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.TlsConfig;
import dev.warden.core.config.UpstreamTlsConfig;
import dev.warden.core.yaml.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wire front end's keys under {@code databases[]}: TLS both ways and the limits. */
class ListenerConfigLoaderTest {
    @TempDir
    Path dir;

    static final String BASE = """
            policy: policy.yaml
            agents:
              - name: bot
                secret_env: S
            databases:
              - name: app
                engine: postgres
                listen: 127.0.0.1:6432
            EXTRA
                upstream: { host: db.internal, database: app, user: warden, password_env: S UPTLS }
            """;

    DatabaseConfig load(String extra, String upTls) throws Exception {
        Path f = dir.resolve("warden.yaml");
        Files.writeString(f, BASE.replace("EXTRA\n", extra).replace(" UPTLS", upTls));
        return new ConfigLoader(Map.of("S", "x")::get, w -> { }).load(f).databases().getFirst();
    }

    @Test
    void defaultsWhenLeftOut() throws Exception {
        DatabaseConfig d = load("", "");
        assertThat(d.listener()).isEqualTo(ListenerConfig.DEFAULTS);
        assertThat(d.listener().maxMessageBytes()).isEqualTo(64 << 20);
        assertThat(d.upstream().tls()).isEqualTo(UpstreamTlsConfig.DISABLE);
        assertThat(d.statementTimeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void everyKeyIsRead() throws Exception {
        DatabaseConfig d = load("""
                    tls: { mode: required, cert: certs/server.crt, key: certs/server.key }
                    max_message_size: 16MiB
                    startup_timeout: 5s
                    idle_timeout: 30m
                    max_connections_per_agent: 4
                """, ", tls: { mode: verify-full, ca: ca.pem }");
        ListenerConfig l = d.listener();
        assertThat(l.tls().mode()).isEqualTo(TlsConfig.Mode.REQUIRED);
        assertThat(l.tls().cert()).isEqualTo(dir.resolve("certs/server.crt"));
        assertThat(l.maxMessageBytes()).isEqualTo(16 << 20);
        assertThat(l.startupTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(l.idleTimeout()).isEqualTo(Duration.ofMinutes(30));
        assertThat(l.maxConnectionsPerAgent()).isEqualTo(4);
        assertThat(d.upstream().tls().mode()).isEqualTo(UpstreamTlsConfig.Mode.VERIFY_FULL);
        assertThat(d.upstream().tls().ca()).isEqualTo(dir.resolve("ca.pem"));
    }

    @Test
    void badValuesNameFileLineAndKey() {
        assertThatThrownBy(() -> load("    tls: { mode: sometimes }\n", ""))
                .isInstanceOf(ConfigException.class).hasMessageContaining(":9: databases[0].tls.mode: unknown TLS mode 'sometimes'");
        assertThatThrownBy(() -> load("    tls: { cert: a.crt }\n", ""))
                .isInstanceOf(ConfigException.class).hasMessageContaining("give both 'cert' and 'key'");
        assertThatThrownBy(() -> load("    max_message_size: lots\n", ""))
                .isInstanceOf(ConfigException.class).hasMessageContaining("databases[0].max_message_size: expected a size");
        assertThatThrownBy(() -> load("    max_connections_per_agent: 0\n", ""))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max_connections_per_agent: must be between");
        assertThatThrownBy(() -> load("", ", tls: { mode: prefer }"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("upstream.tls.mode: unknown upstream TLS mode 'prefer'");
        assertThatThrownBy(() -> load("    max_conections: 3\n", ""))
                .isInstanceOf(ConfigException.class).hasMessageContaining("max_conections");
    }

    @Test
    void agentAuthIsScramUnlessListed() throws Exception {
        assertThat(load("", "").listener().agentAuth()).containsExactly(AgentAuth.SCRAM_SHA_256);
        // Listed in any order, offered strongest first.
        assertThat(load("    agent_auth: [md5, scram-sha-256]\n", "").listener().agentAuth())
                .containsExactly(AgentAuth.SCRAM_SHA_256, AgentAuth.MD5);
        assertThat(load("    agent_auth: [md5]\n", "").listener().agentAuth()).containsExactly(AgentAuth.MD5);
        assertThat(load("    tls: { mode: required }\n    agent_auth: [password]\n", "").listener().agentAuth())
                .containsExactly(AgentAuth.PASSWORD);
    }

    @Test
    void agentAuthMistakesNameFileLineAndKey() {
        assertThatThrownBy(() -> load("    agent_auth: [md5, sha1]\n", ""))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("warden.yaml:9: databases[0].agent_auth[1]: unknown authentication method 'sha1'");
        assertThatThrownBy(() -> load("    agent_auth: []\n", ""))
                .isInstanceOf(ConfigException.class).hasMessageContaining(":9: databases[0].agent_auth: must list at least one");
        assertThatThrownBy(() -> load("    agent_auth: [md5, md5]\n", ""))
                .isInstanceOf(ConfigException.class).hasMessageContaining("agent_auth[1]: 'md5' is listed twice");
        // Cleartext secrets only inside TLS that every client must use.
        assertThatThrownBy(() -> load("    agent_auth: [scram-sha-256, password]\n", ""))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("warden.yaml:9: databases[0].agent_auth: 'password' sends the agent's secret in clear text: it needs 'tls: {mode: required}'");
        assertThatThrownBy(() -> load("    tls: { mode: optional }\n    agent_auth: [password]\n", ""))
                .isInstanceOf(ConfigException.class).hasMessageContaining(":10: databases[0].agent_auth: 'password'");
    }
}
