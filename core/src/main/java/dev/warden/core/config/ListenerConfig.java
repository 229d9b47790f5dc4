package dev.warden.core.config;

import java.time.Duration;

/**
 * How a wire front end treats clients.
 *
 * @param tls                     TLS toward clients
 * @param maxMessageBytes         a larger message closes the session with a protocol error (default 64 MiB)
 * @param startupTimeout          time allowed from connect to authenticated (default 10 s)
 * @param idleTimeout             an idle session is closed after this long; zero means never (default 1 h)
 * @param maxConnectionsPerAgent  concurrent sessions one agent may hold (default 20)
 */
public record ListenerConfig(TlsConfig tls, int maxMessageBytes, Duration startupTimeout, Duration idleTimeout,
                             int maxConnectionsPerAgent) {
    public static final ListenerConfig DEFAULTS = new ListenerConfig(TlsConfig.OFF, 64 << 20, Duration.ofSeconds(10),
            Duration.ofHours(1), 20);

    public ListenerConfig withTls(TlsConfig t) {
        return new ListenerConfig(t, maxMessageBytes, startupTimeout, idleTimeout, maxConnectionsPerAgent);
    }
}
