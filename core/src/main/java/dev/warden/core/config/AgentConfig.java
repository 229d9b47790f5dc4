package dev.warden.core.config;

import java.util.List;

/**
 * An agent identity.
 *
 * @param databases the databases it may connect to; empty means every configured database
 */
public record AgentConfig(String name, Secret secret, List<String> databases) {
    public AgentConfig {
        databases = List.copyOf(databases);
    }

    public boolean mayUse(String database) {
        return databases.isEmpty() || databases.contains(database);
    }
}
