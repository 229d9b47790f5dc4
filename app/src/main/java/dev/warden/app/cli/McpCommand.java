package dev.warden.app.cli;

import dev.warden.mcp.StdioBridge;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The stdio bridge to Warden's MCP endpoint. It reads no configuration file and holds no database credential, key
 * or ledger: only the endpoint and the agent's own secret, from the environment.
 */
@Command(name = "mcp", mixinStandardHelpOptions = true,
        description = "Bridge an MCP client that speaks stdio to Warden's MCP endpoint (streamable HTTP). "
                + "The agent's secret comes from the environment variable WARDEN_AGENT_SECRET.",
        footer = {"", "Example:",
                "  WARDEN_AGENT_SECRET=... warden mcp --url http://127.0.0.1:8081/mcp --agent coding-agent"})
final class McpCommand implements Callable<Integer> {
    static final String SECRET_ENV = StdioBridge.SECRET_ENV;

    @Option(names = "--url", paramLabel = "URL", required = true, description = "Warden's MCP endpoint, such as http://127.0.0.1:8081/mcp")
    String url;

    @Option(names = "--agent", paramLabel = "NAME", required = true, description = "the agent name (its secret must match)")
    String agent;

    @Override
    public Integer call() {
        URI endpoint;
        try {
            endpoint = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new WardenCommand.UsageException("--url: not a URL: " + url);
        }
        if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())) {
            throw new WardenCommand.UsageException("--url: expected an http:// or https:// URL, got " + url);
        }
        String secret = System.getenv(SECRET_ENV);
        if (secret == null || secret.isEmpty()) {
            throw new WardenCommand.UsageException("the environment variable " + SECRET_ENV + " is not set (the agent's secret)");
        }
        // stdout carries only MCP messages; everything else goes to stderr, which MCP clients show as logs.
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        return new StdioBridge(endpoint, agent, secret, out, System.err).run(System.in);
    }
}
