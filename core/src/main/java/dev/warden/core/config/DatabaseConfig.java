package dev.warden.core.config;

import java.time.Duration;

/**
 * One configured database: the name agents use, its engine, where Warden listens for it and its upstream.
 *
 * @param statementTimeout set on every upstream session; agents cannot change it
 */
public record DatabaseConfig(String name, String engine, HostPort listen, UpstreamConfig upstream,
                             Duration statementTimeout) {
}
