package dev.warden.app.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.app.config.ConfigLoader;
import dev.warden.core.config.WardenConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code console: url:} (the name people use, often a reverse proxy's https address), the start-up line said
 * "warden: console on https://warden.example.com" of a console listening on plain HTTP at 127.0.0.1: it names
 * where it listens now, and the url links use (found by the README check, configuring a webhook).
 */
class ConsoleStartLineTest {
    @TempDir
    Path dir;

    @Test
    void theStartLineNamesWhereTheConsoleListens() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("policy.yaml"), "rules:\n  - name: reads\n    match: {kind: [read]}\n    action: allow\n");
        Files.writeString(dir.resolve("warden.yaml"), """
                policy: policy.yaml
                agents:
                  - name: bot
                    secret: bot-secret-0123456789
                console:
                  listen: 127.0.0.1:%d
                  url: https://warden.example.com
                """.formatted(port));
        WardenConfig cfg = new ConfigLoader(Map.<String, String>of()::get, w -> { }).load(dir.resolve("warden.yaml"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (WardenService s = WardenService.build(cfg, null, new PrintStream(out, true, StandardCharsets.UTF_8))) {
            assertThat(s.startConsole()).isEqualTo("https://warden.example.com");
        }
        assertThat(out.toString(StandardCharsets.UTF_8))
                .contains("warden: console on http://127.0.0.1:" + port + " (links use https://warden.example.com)");
    }
}
