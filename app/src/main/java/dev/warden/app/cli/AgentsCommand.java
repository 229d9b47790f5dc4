package dev.warden.app.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code warden agents list|disable|enable}: the kill switch of a running Warden. */
@Command(name = "agents", mixinStandardHelpOptions = true,
        description = "The kill switch: disable an agent (its live sessions end, new ones are refused, its pending requests are denied) or enable it again.",
        subcommands = {AgentsCommand.ListAgents.class, AgentsCommand.Disable.class, AgentsCommand.Enable.class},
        footer = {"", "Examples:",
                "  WARDEN_TOKEN=... warden agents disable coding-agent --comment \"runaway loop\" --console http://127.0.0.1:8080",
                "  warden agents enable coding-agent --config warden.yaml"})
final class AgentsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list, disable or enable");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Configured agents and whether each is disabled.",
            footer = {"", "Example:", "  WARDEN_TOKEN=... warden agents list --console http://127.0.0.1:8080"})
    static final class ListAgents implements Callable<Integer> {
        @Mixin ConsoleClient.Options console;
        @Option(names = "--json", description = "print JSON") boolean json;
        @Spec CommandSpec spec;

        @Override
        @SuppressWarnings("unchecked")
        public Integer call() throws Exception {
            return ApprovalsCommand.run(spec, () -> {
                List<Map<String, Object>> agents = (List<Map<String, Object>>) console.client().get("/api/agents");
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    Output.json(out, agents);
                } else {
                    for (Map<String, Object> a : agents) out.println(a.get("name") + "  " + (Boolean.TRUE.equals(a.get("disabled")) ? "disabled" : "enabled"));
                    out.flush();
                }
                return WardenCommand.OK;
            });
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true, description = "Disable an agent now.",
            footer = {"", "Example:", "  WARDEN_TOKEN=... warden agents disable coding-agent --comment \"runaway loop\" --console http://127.0.0.1:8080"})
    static final class Disable implements Callable<Integer> {
        @Mixin ConsoleClient.Options console;
        @Option(names = "--comment", paramLabel = "TEXT", description = "recorded in the ledger") String comment;
        @Parameters(paramLabel = "NAME") String name;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return change(spec, console, name, true, comment);
        }
    }

    @Command(name = "enable", mixinStandardHelpOptions = true, description = "Enable a disabled agent again.",
            footer = {"", "Example:", "  WARDEN_TOKEN=... warden agents enable coding-agent --config warden.yaml"})
    static final class Enable implements Callable<Integer> {
        @Mixin ConsoleClient.Options console;
        @Option(names = "--comment", paramLabel = "TEXT", description = "recorded in the ledger") String comment;
        @Parameters(paramLabel = "NAME") String name;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return change(spec, console, name, false, comment);
        }
    }

    @SuppressWarnings("unchecked")
    private static int change(CommandSpec spec, ConsoleClient.Options console, String name, boolean disable, String comment) throws Exception {
        return ApprovalsCommand.run(spec, () -> {
            Map<String, Object> body = new LinkedHashMap<>();
            if (comment != null) body.put("comment", comment);
            Map<String, Object> r = (Map<String, Object>) console.client()
                    .post("/api/agents/" + ConsoleClient.segment(name) + (disable ? "/disable" : "/enable"), body);
            PrintWriter out = spec.commandLine().getOut();
            out.println(name + ": " + (disable ? "disabled" : "enabled")
                    + (disable ? "; " + r.get("requests_denied") + " pending request(s) denied" : ""));
            out.flush();
            return WardenCommand.OK;
        });
    }
}
