package dev.warden.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@code warden mcp}: relays MCP messages between stdio (newline-delimited JSON-RPC, for clients that only launch a
 * process) and Warden's streamable HTTP endpoint. It holds nothing but the endpoint and the agent's own token: no
 * configuration file, no database credential, no signing key and no ledger, so the agent's process never can.
 */
public final class StdioBridge {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SESSION = "Mcp-Session-Id";
    private static final String VERSION = "MCP-Protocol-Version";

    private final URI url;
    private final String agent;
    private final String secret;
    private final PrintStream out;
    private final PrintStream err;
    private final HttpClient http;
    private volatile String sessionId;
    private volatile String protocolVersion;

    public StdioBridge(URI url, String agent, String secret, PrintStream out, PrintStream err) {
        this.url = url;
        this.agent = agent;
        this.secret = secret;
        this.out = out;
        this.err = err;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** The environment variable that holds the agent's secret. */
    public static final String SECRET_ENV = "WARDEN_AGENT_SECRET";

    /**
     * {@code --url URL --agent NAME}, the secret from {@value #SECRET_ENV}: the same bridge as {@code warden mcp},
     * runnable from the warden-mcp jar alone.
     */
    public static void main(String[] args) {
        String url = null;
        String agent = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--url" -> url = args[i + 1];
                case "--agent" -> agent = args[i + 1];
                default -> { }
            }
        }
        String secret = System.getenv(SECRET_ENV);
        if (url == null || agent == null || secret == null || secret.isEmpty()) {
            System.err.println("usage: " + SECRET_ENV + "=... StdioBridge --url URL --agent NAME");
            System.exit(2);
        }
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
        System.exit(new StdioBridge(URI.create(url), agent, secret, out, System.err).run(System.in));
    }

    /** Relays until stdin ends, then closes the HTTP session. Returns the exit status. */
    public int run(InputStream in) {
        try (ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor()) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line;
            boolean first = true;
            while ((line = reader.readLine()) != null) {
                if (line.isBlank()) continue;
                JsonNode message;
                try {
                    message = JSON.readTree(line);
                } catch (IOException e) {
                    write(error(null, -32700, "warden mcp: the line is not JSON: " + e.getMessage()));
                    continue;
                }
                // The initialize exchange runs alone: later calls need the session id it returns.
                if (first || isInitialize(message)) {
                    first = false;
                    relay(message);
                } else {
                    calls.submit(() -> relay(message));
                }
            }
            calls.shutdown();
            calls.awaitTermination(5, TimeUnit.MINUTES);
        } catch (IOException e) {
            err.println("warden mcp: reading stdin failed: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            endSession();
        }
        return 0;
    }

    private void relay(JsonNode message) {
        JsonNode id = message.isObject() ? message.get("id") : null;
        boolean isRequest = id != null && message.has("method");
        try {
            HttpRequest.Builder b = request()
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(message)));
            HttpResponse<InputStream> response = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            response.headers().firstValue(SESSION).ifPresent(s -> sessionId = s);
            int status = response.statusCode();
            String type = response.headers().firstValue("Content-Type").orElse("");
            try (InputStream body = response.body()) {
                if (status == 202 || status == 204) return;
                if (status >= 200 && status < 300 && type.startsWith("text/event-stream")) {
                    readEvents(body);
                } else if (status >= 200 && status < 300) {
                    String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
                    if (!text.isBlank()) forward(JSON.readTree(text));
                } else {
                    String text = new String(body.readAllBytes(), StandardCharsets.UTF_8);
                    String why = describe(status, text);
                    err.println("warden mcp: " + why);
                    if (isRequest) write(error(id, -32001, why));
                }
            }
        } catch (IOException e) {
            String why = "cannot reach Warden at " + url + ": " + e.getMessage();
            err.println("warden mcp: " + why);
            if (isRequest) write(error(id, -32001, why));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void readEvents(InputStream body) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        StringBuilder data = new StringBuilder();
        String line;
        while ((line = r.readLine()) != null) {
            if (line.isEmpty()) {
                if (!data.isEmpty()) forward(JSON.readTree(data.toString()));
                data.setLength(0);
            } else if (line.startsWith("data:")) {
                if (!data.isEmpty()) data.append('\n');
                data.append(line.substring(line.startsWith("data: ") ? 6 : 5));
            }
        }
        if (!data.isEmpty()) forward(JSON.readTree(data.toString()));
    }

    private void forward(JsonNode message) throws IOException {
        JsonNode result = message.get("result");
        if (result != null && result.has("protocolVersion") && result.has("serverInfo")) {
            protocolVersion = result.get("protocolVersion").asText();
        }
        write(JSON.writeValueAsString(message));
    }

    private synchronized void write(String line) {
        out.print(line);
        out.print('\n');
        out.flush();
    }

    private HttpRequest.Builder request() {
        HttpRequest.Builder b = HttpRequest.newBuilder(url)
                .timeout(Duration.ofMinutes(10))
                .header("Authorization", "Bearer " + secret)
                .header(BearerFilter.AGENT_HEADER, agent);
        if (sessionId != null) b.header(SESSION, sessionId);
        if (protocolVersion != null) b.header(VERSION, protocolVersion);
        return b;
    }

    private void endSession() {
        if (sessionId == null) return;
        try {
            http.send(request().DELETE().timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            // The server drops idle sessions by itself.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean isInitialize(JsonNode m) {
        return m.isObject() && "initialize".equals(m.path("method").asText());
    }

    private static String describe(int status, String body) {
        String message = body;
        try {
            JsonNode n = JSON.readTree(body);
            if (n != null && n.has("message")) message = n.get("message").asText();
        } catch (IOException ignored) {
            // Not JSON: show it as it is.
        }
        String prefix = switch (status) {
            case 401, 403 -> "Warden refused the agent's credentials (HTTP " + status + ")";
            case 404 -> "the MCP session is no longer known to Warden (HTTP 404); restart the client";
            default -> "Warden answered HTTP " + status;
        };
        return message == null || message.isBlank() ? prefix : prefix + ": " + message.strip();
    }

    private static String error(JsonNode id, int code, String message) {
        ObjectNode n = JSON.createObjectNode();
        n.put("jsonrpc", "2.0");
        if (id == null) n.putNull("id");
        else n.set("id", id);
        ObjectNode e = n.putObject("error");
        e.put("code", code);
        e.put("message", message);
        try {
            return JSON.writeValueAsString(n);
        } catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
