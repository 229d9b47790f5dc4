package dev.warden.core.config;

import java.time.Duration;

/**
 * One configured database: the name agents use, its engine, where Warden listens for it and its upstream.
 *
 * @param statementTimeout set on every upstream session; agents cannot change it
 * @param listener         TLS and limits of the wire front end
 */
public record DatabaseConfig(String name, String engine, HostPort listen, UpstreamConfig upstream,
                             Duration statementTimeout, ListenerConfig listener) {
    public DatabaseConfig {
        if (listener == null) listener = ListenerConfig.DEFAULTS;
    }

    public DatabaseConfig(String name, String engine, HostPort listen, UpstreamConfig upstream, Duration statementTimeout) {
        this(name, engine, listen, upstream, statementTimeout, ListenerConfig.DEFAULTS);
    }
}
