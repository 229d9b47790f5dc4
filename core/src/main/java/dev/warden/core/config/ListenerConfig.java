package dev.warden.core.config;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;

/**
 * How a wire front end treats clients.
 *
 * @param tls                     TLS toward clients
 * @param maxMessageBytes         a larger message closes the session with a protocol error (default 64 MiB)
 * @param startupTimeout          time allowed from connect to authenticated (default 10 s)
 * @param idleTimeout             an idle session is closed after this long; zero means never (default 1 h)
 * @param maxConnectionsPerAgent  concurrent sessions one agent may hold on this database, over all listeners of the
 *                                process (default 20)
 * @param agentAuth               how agents may authenticate, strongest first (default SCRAM-SHA-256 only)
 */
public record ListenerConfig(TlsConfig tls, int maxMessageBytes, Duration startupTimeout, Duration idleTimeout,
                             int maxConnectionsPerAgent, List<AgentAuth> agentAuth) {
    public static final ListenerConfig DEFAULTS = new ListenerConfig(TlsConfig.OFF, 64 << 20, Duration.ofSeconds(10),
            Duration.ofHours(1), 20);

    public ListenerConfig {
        if (agentAuth == null || agentAuth.isEmpty()) agentAuth = AgentAuth.DEFAULT;
        // Strongest first, each once: the order the handshake offers them in.
        agentAuth = List.copyOf(EnumSet.copyOf(agentAuth));
    }

    public ListenerConfig(TlsConfig tls, int maxMessageBytes, Duration startupTimeout, Duration idleTimeout,
                          int maxConnectionsPerAgent) {
        this(tls, maxMessageBytes, startupTimeout, idleTimeout, maxConnectionsPerAgent, AgentAuth.DEFAULT);
    }

    public ListenerConfig withTls(TlsConfig t) {
        return new ListenerConfig(t, maxMessageBytes, startupTimeout, idleTimeout, maxConnectionsPerAgent, agentAuth);
    }

    public ListenerConfig withAgentAuth(List<AgentAuth> methods) {
        return new ListenerConfig(tls, maxMessageBytes, startupTimeout, idleTimeout, maxConnectionsPerAgent, methods);
    }
}
