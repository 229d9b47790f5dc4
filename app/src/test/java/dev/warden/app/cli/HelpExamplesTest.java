package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The examples in {@code --help} are meant to be pasted into a shell. {@code classify}'s stdin example quoted SQL's
 * way inside a shell's single quotes ({@code echo 'SELECT pg_read_file(''/etc/passwd'')'}), so the shell dropped
 * the quotes and the statement was a syntax error. And the README says every command's {@code --help} has examples;
 * the approvers' seven ({@code approvals list|show|approve|deny}, {@code agents list|disable|enable}) had none
 * (both found by the README check).
 */
class HelpExamplesTest {
    @Test
    void everyCommandsHelpHasAnExample() {
        List<String> without = new ArrayList<>();
        collect(new CommandLine(new WardenCommand()), without);
        assertThat(without).as("commands whose --help shows no example").isEmpty();
    }

    private static void collect(CommandLine cl, List<String> without) {
        if (cl.getCommandName().equals("help")) return;
        String help = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
        if (!help.contains("Example")) without.add(cl.getCommandSpec().qualifiedName());
        for (CommandLine sub : cl.getSubcommands().values()) collect(sub, without);
    }

    @Test
    void classifysStdinExampleSendsTheStatementItShows() throws Exception {
        String[] footer = new CommandLine(new WardenCommand()).getSubcommands().get("classify")
                .getCommandSpec().usageMessage().footer();
        String line = Arrays.stream(footer).map(String::strip).filter(l -> l.startsWith("echo ")).findFirst().orElseThrow();
        String echo = line.substring(0, line.indexOf(" | "));
        Process p = new ProcessBuilder("bash", "-c", echo).redirectErrorStream(true).start();
        String sent = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).isZero();
        assertThat(sent).isEqualTo("SELECT pg_read_file('/etc/passwd')");
    }
}
