package dev.warden.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.WardenConfig;
import dev.warden.core.config.WebhookConfig;
import dev.warden.core.yaml.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConsoleConfigLoaderTest {
    @TempDir Path dir;

    WardenConfig load(String yaml) throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), "rules: []\n");
        Path f = Files.writeString(dir.resolve("warden.yaml"), "policy: policy.yaml\n" + yaml);
        return new ConfigLoader(Map.of("HOOK_SECRET", "s3cret")::get, w -> {}).load(f);
    }

    @Test
    void consoleAndWebhooks() throws Exception {
        Files.writeString(dir.resolve("cert.pem"), "x");
        Files.writeString(dir.resolve("key.pem"), "x");
        WardenConfig c = load("""
                console:
                  listen: 127.0.0.1:9443
                  tls: { cert: cert.pem, key: key.pem }
                  url: https://warden.example.com/
                webhooks:
                  - url: https://hooks.slack.com/services/T/B/X
                    format: slack
                  - url: http://127.0.0.1:9000/hook
                    secret_env: HOOK_SECRET
                """);
        var console = c.console().orElseThrow();
        assertThat(console.tls()).get().extracting(t -> t.cert().getFileName().toString()).isEqualTo("cert.pem");
        assertThat(console.publicUrl()).isEqualTo("https://warden.example.com");
        assertThat(c.webhooks()).hasSize(2);
        assertThat(c.webhooks().get(0).format()).isEqualTo(WebhookConfig.Format.SLACK);
        assertThat(c.webhooks().get(1).format()).isEqualTo(WebhookConfig.Format.JSON);
        assertThat(c.webhooks().get(1).secret().value()).isEqualTo("s3cret");
    }

    @Test
    void defaults() throws Exception {
        WardenConfig c = load("console: {}\n");
        assertThat(c.console().orElseThrow().publicUrl()).isEqualTo("http://127.0.0.1:8080");
        assertThat(c.webhooks()).isEmpty();
    }

    @Test
    void strictErrorsNameFileLineAndKey() {
        assertThatThrownBy(() -> load("webhooks:\n  - url: ftp://x/\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("warden.yaml").hasMessageContaining(":3").hasMessageContaining("url");
        assertThatThrownBy(() -> load("webhooks:\n  - url: https://x/\n    format: teams\n"))
                .hasMessageContaining("format").hasMessageContaining("teams");
        assertThatThrownBy(() -> load("webhooks:\n  - url: https://x/\n    colour: red\n")).hasMessageContaining("colour");
        assertThatThrownBy(() -> load("console:\n  tls: { cert: missing.pem, key: missing.pem }\n")).hasMessageContaining("cert");
        assertThatThrownBy(() -> load("console:\n  tls: { cert: warden.yaml }\n")).hasMessageContaining("key");
        assertThatThrownBy(() -> load("console:\n  url: not a url\n")).hasMessageContaining("url");
    }
}
