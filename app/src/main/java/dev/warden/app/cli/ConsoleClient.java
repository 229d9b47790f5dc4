package dev.warden.app.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.app.config.ConfigLoader;
import dev.warden.core.config.ConsoleConfig;
import dev.warden.core.config.WardenConfig;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Option;

/**
 * How {@code warden approvals} and {@code warden agents} reach a running Warden: its console URL ({@code --console},
 * else the configured console of {@code --config}) and an approver token ({@code WARDEN_TOKEN} or {@code --token-file}),
 * sent as a bearer header.
 */
final class ConsoleClient {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Picocli options shared by the console commands. */
    static final class Options {
        @Option(names = "--console", paramLabel = "URL", description = "the console of a running Warden, such as http://127.0.0.1:8080")
        String console;

        @Option(names = "--config", paramLabel = "FILE", description = "warden.yaml; its console address is the default (default: ./warden.yaml when present)")
        Path config;

        @Option(names = "--token-file", paramLabel = "FILE", description = "a file holding the approver token (default: the WARDEN_TOKEN environment variable)")
        Path tokenFile;

        /** For tests: the environment. */
        Function<String, String> env = System::getenv;

        ConsoleClient client() {
            return new ConsoleClient(baseUrl(), token());
        }

        private String baseUrl() {
            if (console != null && !console.isBlank()) {
                URI u = URI.create(console.strip());
                if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
                    throw new WardenCommand.UsageException("--console: expected an http:// or https:// URL, got '" + console + "'");
                }
                return console.strip().replaceAll("/+$", "");
            }
            Path file = config != null ? config : Path.of("warden.yaml");
            if (config == null && !Files.exists(file)) {
                throw new WardenCommand.UsageException("give --console URL, or --config FILE with a console: section");
            }
            try {
                WardenConfig cfg = ConfigLoader.withoutSecrets(env).load(file);
                ConsoleConfig c = cfg.console().orElseThrow(() -> new WardenCommand.UsageException(
                        file + " has no console: section; give --console URL"));
                return c.publicUrl();
            } catch (dev.warden.core.yaml.ConfigException e) {
                throw new WardenCommand.UsageException(e.getMessage());
            }
        }

        private String token() {
            String t;
            if (tokenFile != null) {
                try {
                    t = Files.readString(tokenFile).strip();
                } catch (IOException e) {
                    throw new WardenCommand.UsageException("--token-file: cannot read " + tokenFile + ": " + e.getMessage());
                }
            } else {
                t = env.apply("WARDEN_TOKEN");
            }
            if (t == null || t.isBlank()) {
                throw new WardenCommand.UsageException("no approver token: set WARDEN_TOKEN or give --token-file FILE");
            }
            return t.strip();
        }
    }

    /** The console answered with an error status; {@code message} is its explanation. */
    static final class ApiException extends RuntimeException {
        final int status;

        ApiException(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final String base;
    private final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    ConsoleClient(String base, String token) {
        this.base = base;
        this.token = token;
    }

    String base() {
        return base;
    }

    Object get(String path) {
        return send("GET", path, null);
    }

    Object post(String path, Map<String, Object> body) {
        return send("POST", path, body);
    }

    static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private Object send(String method, String path, Map<String, Object> body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + token).header("Accept", "application/json");
            if (body == null) {
                b.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            }
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            Object parsed = r.body().isEmpty() ? null : JSON.readValue(r.body(), new TypeReference<Object>() {});
            if (r.statusCode() / 100 != 2) {
                String msg = parsed instanceof Map<?, ?> m && m.get("error") != null ? String.valueOf(m.get("error")) : "HTTP " + r.statusCode();
                throw new ApiException(r.statusCode(), msg);
            }
            return parsed;
        } catch (ConnectException e) {
            throw new ApiException(0, "cannot reach the console at " + base + " (is Warden running?)");
        } catch (IOException e) {
            throw new ApiException(0, "console " + base + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(0, "interrupted");
        }
    }
}
