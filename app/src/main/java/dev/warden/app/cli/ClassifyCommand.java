package dev.warden.app.cli;

import dev.warden.core.Classification;
import dev.warden.core.Operation;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.json.ModelJson;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Print what a statement does: kind, objects and columns, functions, flags, tags, reasons.",
        footer = {"", "Examples:",
                "  warden classify --engine postgres \"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d\"",
                "  echo \"SELECT pg_read_file('/etc/passwd')\" | warden classify --engine postgres --json -",
                "  warden classify --engine postgres --config warden.yaml --database app \"SELECT * FROM users\""})
final class ClassifyCommand implements Callable<Integer> {
    @Mixin
    EngineOptions engine;

    @Option(names = "--config", paramLabel = "FILE", description = "warden.yaml, to enrich with a database's live catalog")
    Path config;

    @Option(names = "--database", paramLabel = "NAME", description = "the configured database whose catalog to use")
    String database;

    @Parameters(paramLabel = "STATEMENT", description = "the statement, or - to read it from standard input")
    String statement;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        engine.validate();
        Optional<WardenConfig> cfg = config == null ? Optional.empty() : Optional.of(EngineOptions.config(config));
        Operation op = new Operation("cli", engine.database(cfg, database), engine.engine, StatementInput.read(statement), List.of(), null, "cli", "local", null);
        Classification c = engine.classify(op, cfg);
        if (engine.json) {
            Output.json(spec.commandLine().getOut(), ModelJson.classification(c));
        } else {
            Output.classification(spec.commandLine().getOut(), c);
        }
        return WardenCommand.OK;
    }
}
