package dev.warden.core.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The MCP server inside the Warden service (streamable HTTP).
 *
 * @param listen   where it listens; the endpoint is {@code /mcp}
 * @param tls      certificate and key when it serves HTTPS; absent for plain HTTP (loopback only, say)
 * @param maxRows  most rows one {@code query} returns; more are cut and the cut is stated
 * @param maxBytes most bytes of row data one {@code query} returns; more are cut and the cut is stated
 */
public record McpConfig(HostPort listen, Optional<Tls> tls, int maxRows, long maxBytes) {
    public static final int DEFAULT_MAX_ROWS = 1000;
    public static final long DEFAULT_MAX_BYTES = 1024 * 1024;

    public McpConfig {
        if (maxRows < 1) throw new IllegalArgumentException("max_rows must be at least 1");
        if (maxBytes < 1) throw new IllegalArgumentException("max_bytes must be at least 1");
    }

    /** PEM files: the certificate chain and its PKCS#8 private key. */
    public record Tls(Path cert, Path key) {}
}
