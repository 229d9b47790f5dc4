package dev.warden.app.cli;

import dev.warden.core.yaml.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code warden} command. Exit status: 0 when the command did its job (for {@code check}: a decision was made,
 * whatever it is), 1 when a check it ran failed ({@code policy test}, {@code audit verify}), 2 for usage and
 * configuration errors, which print one line to stderr.
 */
@Command(name = "warden", mixinStandardHelpOptions = true, version = "warden 0.1.0",
        description = "A control plane for AI agents on production databases: classify, decide, approve, record.",
        subcommands = {ClassifyCommand.class, CheckCommand.class, PolicyCommand.class, AuditCommand.class, ProxyCommand.class, McpCommand.class,
                DemoCommand.class, ApprovalsCommand.class, AgentsCommand.class, CommandLine.HelpCommand.class},
        footer = {"", "Examples:",
                "  warden classify --engine postgres --json \"DELETE FROM orders\"",
                "  warden check --policy policy.yaml --engine postgres \"DROP TABLE audit_log\"",
                "  warden policy lint policy.yaml",
                "  warden audit verify --data-dir ./warden-data",
                "  WARDEN_TOKEN=... warden approvals list --console http://127.0.0.1:8080"})
public final class WardenCommand implements Runnable {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (see warden --help)");
    }

    public static int run(String... args) {
        CommandLine cl = new CommandLine(new WardenCommand());
        cl.setExitCodeExceptionMapper(e -> USAGE);
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("warden: " + ex.getMessage());
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            String msg = switch (ex) {
                case ConfigException c -> c.getMessage();
                case UsageException u -> u.getMessage();
                // Start-up failures that name their cause (another process on the data directory, a taken port).
                case dev.warden.core.ledger.LedgerException l -> l.getMessage();
                case java.net.BindException b -> b.getMessage();
                default -> "internal error: " + ex;
            };
            commandLine.getErr().println("warden: " + msg.replace('\n', ' '));
            return USAGE;
        });
        return cl.execute(args);
    }

    /** {@code value} when it is null or one of {@code allowed}; otherwise a usage error that lists them. */
    static String oneOf(String option, String value, String... allowed) {
        if (value == null || java.util.Arrays.asList(allowed).contains(value)) return value;
        throw new UsageException(option + " must be one of " + String.join(", ", allowed) + " (not '" + value + "')");
    }

    /** A usage problem found after parsing (a missing file, a bad combination). Exit status 2. */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }
}
