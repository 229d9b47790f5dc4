package dev.warden.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The MCP server inside the Warden service (streamable HTTP).
 *
 * @param listen          where it listens; the endpoint is {@code /mcp}
 * @param tls             certificate and key when it serves HTTPS; absent for plain HTTP (loopback only, say)
 * @param maxRows         most rows one {@code query} returns; more are cut and the cut is stated
 * @param maxBytes        most bytes of row data one {@code query} returns; more are cut and the cut is stated
 * @param allowedOrigins  browser origins served besides loopback ones and the listen host's (a request with another
 *                        {@code Origin} header is refused: DNS rebinding)
 * @param maxRequestBytes most bytes of one request body; a larger one is refused with 413, unread
 */
public record McpConfig(HostPort listen, Optional<Tls> tls, int maxRows, long maxBytes, List<WebOrigin> allowedOrigins,
                        long maxRequestBytes) {
    public static final int DEFAULT_MAX_ROWS = 1000;
    public static final long DEFAULT_MAX_BYTES = 1024 * 1024;
    /** Above what one SQL text can be (the classifier judges at most 256 Ki characters), JSON-escaped, with room. */
    public static final long DEFAULT_MAX_REQUEST_BYTES = 4L * 1024 * 1024;
    public static final long MIN_REQUEST_BYTES = 64 * 1024;
    public static final long MAX_REQUEST_BYTES = 64L * 1024 * 1024;

    public McpConfig {
        if (maxRows < 1) throw new IllegalArgumentException("max_rows must be at least 1");
        if (maxBytes < 1) throw new IllegalArgumentException("max_bytes must be at least 1");
        if (maxRequestBytes < MIN_REQUEST_BYTES || maxRequestBytes > MAX_REQUEST_BYTES) {
            throw new IllegalArgumentException("max_request_size must be between 64KiB and 64MiB");
        }
        allowedOrigins = allowedOrigins == null ? List.of() : List.copyOf(allowedOrigins);
    }

    /** No browser origin beyond the defaults, and the default request size limit. */
    public McpConfig(HostPort listen, Optional<Tls> tls, int maxRows, long maxBytes) {
        this(listen, tls, maxRows, maxBytes, List.of(), DEFAULT_MAX_REQUEST_BYTES);
    }

    /** PEM files: the certificate chain and its PKCS#8 private key. */
    public record Tls(Path cert, Path key) {}
}
