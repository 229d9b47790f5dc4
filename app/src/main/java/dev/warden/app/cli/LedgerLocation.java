package dev.warden.app.cli;

import dev.warden.core.config.LedgerConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.yaml.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Where the ledger is: {@code --data-dir}, else the data_dir of {@code --config}, else {@code ./warden-data}. */
final class LedgerLocation {
    @Option(names = "--data-dir", paramLabel = "DIR", description = "the data directory (default: the data_dir of --config, or ./warden-data)")
    Path dataDir;

    @Option(names = "--config", paramLabel = "FILE", description = "warden.yaml, for its data_dir and ledger witnesses")
    Path config;

    private Optional<WardenConfig> loaded;

    Optional<WardenConfig> loaded() throws ConfigException {
        // Auditors hold no agent or database secrets: only the data directory and the witnesses are read here.
        if (loaded == null) loaded = config == null ? Optional.empty()
                : Optional.of(dev.warden.app.config.ConfigLoader.withoutSecrets(System::getenv).load(config));
        return loaded;
    }

    Path dataDir() throws ConfigException {
        Path d = dataDir != null ? dataDir : loaded().map(WardenConfig::dataDir).orElse(Path.of("warden-data"));
        if (!Files.isDirectory(d.resolve("ledger"))) {
            throw new WardenCommand.UsageException("no ledger under " + d + " (expected " + d.resolve("ledger") + "; give --data-dir or --config)");
        }
        return d;
    }

    /** The first file witness of the configuration, if any. */
    Optional<Path> configuredWitness() throws ConfigException {
        return loaded().flatMap(c -> c.ledger().witnesses().stream()
                .filter(w -> w instanceof LedgerConfig.WitnessConfig.File)
                .map(w -> ((LedgerConfig.WitnessConfig.File) w).path()).findFirst());
    }
}
