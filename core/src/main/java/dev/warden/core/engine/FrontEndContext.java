package dev.warden.core.engine;

import dev.warden.core.Gate;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.WardenConfig;
import java.util.List;

/**
 * What a front end needs: the gate every operation goes through, the configuration (agents and their secrets),
 * and the databases served on its listen address.
 */
public record FrontEndContext(Gate gate, WardenConfig config, List<DatabaseConfig> databases) {
    public FrontEndContext {
        databases = List.copyOf(databases);
    }
}
