package dev.warden.app.cli;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.json.ModelJson;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Decide a statement against a policy: the classification, the decision, the deciding rule and the reasons. "
                + "Exit status 0 whatever the decision.",
        footer = {"", "Examples:",
                "  warden check --policy policy.yaml --engine postgres \"DROP TABLE audit_log\"",
                "  warden check --config warden.yaml --engine postgres --agent coding-agent --database app --json \"SELECT 1\""})
final class CheckCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--policy", paramLabel = "FILE", required = true, description = "a policy file")
        Path policy;

        @Option(names = "--config", paramLabel = "FILE", required = true, description = "warden.yaml (its policy, and the database's live catalog)")
        Path config;
    }

    @Mixin
    EngineOptions engine;

    @Option(names = "--agent", paramLabel = "NAME", defaultValue = "cli", description = "the agent to decide for (default: ${DEFAULT-VALUE})")
    String agent;

    @Option(names = "--database", paramLabel = "NAME", description = "the database to decide for (with --config: one it configures, by default its only one; else: cli)")
    String database;

    @Parameters(paramLabel = "STATEMENT", description = "the statement (for mongodb: the command document as Extended JSON), or - for standard input")
    String statement;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        engine.validate();
        Optional<WardenConfig> cfg = Optional.empty();
        Policy policy;
        if (source.config != null) {
            cfg = Optional.of(EngineOptions.config(source.config));
            policy = PolicyLoader.load(cfg.get().policy());
            // The same warnings as warden proxy: a rule on a tag, agent or database the configuration lacks never matches.
            dev.warden.app.service.WardenService.warnAboutUnknownNames(cfg.get(), policy, System.err);
        } else {
            policy = PolicyLoader.load(source.policy);
        }
        Operation op = new Operation(agent, engine.database(cfg, database), engine.engine, StatementInput.read(statement), List.of(), null, "cli", "local", null);
        Classification c = engine.classify(op, cfg);
        Decision d = PolicyEngine.decide(policy, op, c);
        PrintWriter out = spec.commandLine().getOut();
        if (engine.json) {
            Map<String, Object> m = new LinkedHashMap<>(ModelJson.decision(d));
            m.putAll(ModelJson.classification(c));
            Output.json(out, m);
        } else {
            out.println("decision: " + d.action().label());
            out.println("rule: " + (d.rule() == null ? "(none)" : d.rule()));
            for (String r : d.reasons()) out.println("reason: " + r);
            Output.classification(out, c);
        }
        return WardenCommand.OK;
    }
}
