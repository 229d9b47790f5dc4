package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listen address another process holds stops {@code warden proxy} (and {@code warden demo}) with one line naming
 * what could not listen where. The console's said only "warden: Address already in use", and the MCP endpoint's
 * was "warden: internal error: java.io.IOException: …" (found by the README check: a second demo beside a running one).
 */
class ProxyTakenPortTest {
    @TempDir
    Path dir;

    @Test
    void aTakenConsolePortIsNamed() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String err = proxy(config("console:\n  listen: 127.0.0.1:" + taken.getLocalPort() + "\n"));
            assertThat(err).startsWith("warden: ").contains("console").contains("127.0.0.1:" + taken.getLocalPort())
                    .contains("already in use").doesNotContain("internal error");
        }
    }

    @Test
    void aTakenMcpPortIsNamed() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String err = proxy(config("mcp:\n  listen: 127.0.0.1:" + taken.getLocalPort() + "\n"));
            assertThat(err).startsWith("warden: ").contains("MCP").contains("127.0.0.1:" + taken.getLocalPort())
                    .doesNotContain("internal error");
        }
    }

    private Path config(String section) throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), "rules:\n  - name: reads\n    match: {kind: [read]}\n    action: allow\n");
        Path yaml = dir.resolve("warden.yaml");
        Files.writeString(yaml, """
                policy: policy.yaml
                agents:
                  - name: bot
                    secret: bot-secret-0123456789
                """ + section);
        return yaml;
    }

    private static String proxy(Path config) {
        PrintStream e = System.err;
        ByteArrayOutputStream be = new ByteArrayOutputStream();
        System.setErr(new PrintStream(be, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = WardenCommand.run("proxy", "--config", config.toString());
        } finally {
            System.setErr(e);
        }
        String err = be.toString(StandardCharsets.UTF_8);
        assertThat(status).as(err).isEqualTo(WardenCommand.USAGE);
        // The last line is the one the user reads; warnings may come before it.
        String[] lines = err.strip().split("\n");
        return lines[lines.length - 1];
    }
}
