package dev.warden.app.cli;

import dev.warden.app.config.ConfigLoader;
import dev.warden.core.Classification;
import dev.warden.core.Operation;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.engine.Engine;
import dev.warden.core.engine.Engines;
import dev.warden.core.yaml.ConfigException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Options shared by {@code classify} and {@code check}: which engine, and optionally a configured database whose
 * live catalog enriches the classification.
 */
final class EngineOptions {
    @Option(names = "--engine", required = true, paramLabel = "ENGINE",
            description = "postgres, mysql or mongodb")
    String engine;

    @Option(names = "--json", description = "print one JSON document on stdout and nothing else")
    boolean json;

    void validate() {
        if (!Engines.KNOWN.contains(engine)) {
            throw new WardenCommand.UsageException("unknown engine '" + engine + "' (expected one of " + Engines.KNOWN + ")");
        }
    }

    /**
     * The database a statement is judged for. Without a configuration, the given name (or {@code cli}). With one, a
     * configured database: the given one, or the configuration's only database of this engine. A name the
     * configuration does not have is an error, not a database without catalog or tags.
     */
    String database(Optional<WardenConfig> config, String given) {
        if (config.isEmpty()) return given != null ? given : "cli";
        List<String> names = config.get().databases().stream().filter(d -> d.engine().equals(engine)).map(DatabaseConfig::name).toList();
        if (names.isEmpty()) {
            // No --database could help: say what would.
            throw new WardenCommand.UsageException(config.get().source() + " configures no " + engine + " database: add"
                    + " one to it, or leave out --config to judge without a database's catalog and tags");
        }
        if (given == null) {
            if (names.size() == 1) return names.getFirst();
            throw new WardenCommand.UsageException("give --database: " + config.get().source() + " configures "
                    + engine + " databases " + String.join(", ", names));
        }
        if (!names.contains(given)) {
            throw new WardenCommand.UsageException("no " + engine + " database '" + given + "' in " + config.get().source()
                    + (names.isEmpty() ? "" : " (configured: " + String.join(", ", names) + ")"));
        }
        return given;
    }

    static WardenConfig config(Path file) throws ConfigException {
        return ConfigLoader.standard().load(file);
    }

    /**
     * Classifies and enriches a text. An engine whose module has not landed yields {@code unknown} (so any policy
     * denies it); a database from the configuration brings its live catalog.
     */
    Classification classify(Operation op, Optional<WardenConfig> config) {
        Optional<Engine> e = Engines.load().get(engine);
        if (e.isEmpty()) {
            return Classification.unknown(op.text(), "no classifier for the " + engine + " engine is available in this build");
        }
        Catalog catalog = Catalog.NONE;
        Optional<DatabaseConfig> db = config.flatMap(c -> c.database(op.database()));
        if (db.isPresent() && db.get().engine().equals(engine)) {
            catalog = e.get().catalog(db.get(), config.map(WardenConfig::tags).orElse(Map.of()));
        }
        try (Catalog c = catalog) {
            ClassifyContext ctx = ClassifyContext.defaults();
            Classification classified = e.get().classifier(c).classify(op.text(), ctx);
            return c.enrich(op, classified, ctx);
        }
    }
}
