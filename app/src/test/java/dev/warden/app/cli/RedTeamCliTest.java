package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.console.ConsoleServer;
import dev.warden.console.ConsoleServices;
import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvers;
import dev.warden.core.approval.FileApprovals;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.ConsoleConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.Secret;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.metrics.Metrics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Red-team review of {@code warden approvals show} against a real console: the agent writes the statement and its
 * parameters, and none of it may drive the approver's terminal.
 */
class RedTeamCliTest {
    @TempDir Path dir;
    final MemoryLedger ledger = new MemoryLedger();
    FileApprovals approvals;
    ConsoleServer console;
    Path aliceToken;

    @BeforeEach
    void start() throws Exception {
        Approvers approvers = Approvers.of(List.of(new ApproverConfig("alice", new Secret("alice-secret-token"))),
                List.of(new AgentConfig("claude", new Secret("agent-secret-token"), List.of())));
        approvals = FileApprovals.open(dir, ledger, approvers);
        console = ConsoleServer.start(new ConsoleConfig(new HostPort("127.0.0.1", 0)),
                new ConsoleServices(approvals, approvers, null, dir, new Metrics(), ledger::healthy, null));
        aliceToken = Files.writeString(dir.resolve("alice.token"), "alice-secret-token\n");
    }

    @AfterEach
    void stop() {
        console.close();
        approvals.close();
    }

    String show(String id) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            int status = WardenCommand.run("approvals", "show", id, "--console", console.url(), "--token-file", aliceToken.toString());
            assertThat(status).isZero();
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /**
     * Finding 4. {@code warden approvals show} prints the statement line by line and the parameters as they are;
     * only {@code list} strips control characters. A carriage return makes the terminal overwrite the dangerous
     * start of the line: "DROP TABLE users; --\r/* nightly statistics refresh *&#47; ANALYZE orders;" is displayed as
     * "/* nightly statistics refresh *&#47; ANALYZE orders;", and ESC sequences (erase line, conceal, cursor moves) do
     * the same in the statement and in the parameters.
     */
    @Test
    void showNeverPassesTerminalControlCharactersFromTheAgent() {
        String sql = "DROP TABLE users; --\r  /* nightly statistics refresh */ ANALYZE orders;\n"
                + "SELECT 1 /* \u001b[1A\u001b[2K */";
        Operation op = new Operation("claude", "shop", "postgres", sql, List.of("x\u001b[8m hidden"), "", "s", "", null);
        ApprovalRequest r = approvals.open(op, Classification.unknown(sql, "t"), new Decision(Action.APPROVE, "ddl", List.of("ddl"),
                new ApprovalSpec(ApprovalSpec.Mode.TICKET, 1, Duration.ofMinutes(5), Duration.ofMinutes(10))), false);
        String out = show(r.id());
        assertThat(out).contains("DROP TABLE users");
        assertThat(out).as("carriage return / ESC from the agent written to the approver's terminal")
                .doesNotContain("\r").doesNotContain("\u001b");
    }
}
