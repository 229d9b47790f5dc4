package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.console.ConsoleServer;
import dev.warden.console.ConsoleServices;
import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.approval.AgentSwitch;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvers;
import dev.warden.core.approval.FileApprovals;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.ConsoleConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.Secret;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.metrics.Metrics;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code warden approvals} and {@code warden agents} contract, against a real console over HTTP. */
class ApprovalsCommandTest {
    @TempDir Path dir;
    final MemoryLedger ledger = new MemoryLedger();
    FileApprovals approvals;
    AgentSwitch agents;
    ConsoleServer console;
    Path aliceToken;
    Path agentToken;

    @BeforeEach
    void start() throws Exception {
        Approvers approvers = Approvers.of(List.of(new ApproverConfig("alice", new Secret("alice-secret-token"))),
                List.of(new AgentConfig("claude", new Secret("agent-secret-token"), List.of())));
        approvals = FileApprovals.open(dir, ledger, approvers);
        agents = AgentSwitch.open(dir, ledger, Set.of("claude"));
        console = ConsoleServer.start(new ConsoleConfig(new HostPort("127.0.0.1", 0)),
                new ConsoleServices(approvals, approvers, agents, dir, new Metrics(), ledger::healthy, null));
        aliceToken = Files.writeString(dir.resolve("alice.token"), "alice-secret-token\n");
        agentToken = Files.writeString(dir.resolve("agent.token"), "agent-secret-token");
    }

    @AfterEach
    void stop() {
        console.close();
        approvals.close();
    }

    record Run(int status, String out, String err) {}

    Run warden(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int status = WardenCommand.run(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    ApprovalRequest open(String text) {
        Operation op = new Operation("claude", "shop", "postgres", text, List.of(), "because", "s", "", null);
        return approvals.open(op, Classification.unknown(text, "t"), new Decision(Action.APPROVE, "schema-changes", List.of("ddl"),
                new ApprovalSpec(ApprovalSpec.Mode.TICKET, 1, Duration.ofMinutes(5), Duration.ofMinutes(10))), false);
    }

    @Test
    void listShowApproveDeny() throws Exception {
        ApprovalRequest a = open("CREATE INDEX CONCURRENTLY i ON orders(id)");
        ApprovalRequest b = open("DROP TABLE audit_log");
        String[] conn = {"--console", console.url(), "--token-file", aliceToken.toString()};

        Run list = warden(concat(new String[] {"approvals", "list", "--json"}, conn));
        assertThat(list.status()).as(list.err()).isZero();
        List<Map<String, Object>> items = new ObjectMapper().readValue(list.out(), new TypeReference<>() {});
        assertThat(items).hasSize(2).allSatisfy(r -> assertThat(r)
                .containsKeys("id", "status", "agent", "database", "statement", "rule", "created", "expires"));
        assertThat(items).extracting(r -> r.get("id")).containsExactlyInAnyOrder(a.id(), b.id());

        Run show = warden(concat(new String[] {"approvals", "show", a.id()}, conn));
        assertThat(show.out()).contains("CREATE INDEX CONCURRENTLY").contains("agent's stated reason (unverified): because");

        Run approve = warden(concat(new String[] {"approvals", "approve", a.id(), "--comment", "fine"}, conn));
        assertThat(approve.status()).as(approve.err()).isZero();
        assertThat(approve.out()).contains("approved");
        Run deny = warden(concat(new String[] {"approvals", "deny", b.id(), "--comment", "never"}, conn));
        assertThat(deny.status()).isZero();
        assertThat(approvals.get(a.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.APPROVED);
        assertThat(approvals.get(b.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.DENIED);
        assertThat(ledger.entries()).filteredOn(e -> e instanceof Entry.ApprovalEntry x && "alice".equals(x.approver()))
                .extracting(e -> ((Entry.ApprovalEntry) e).comment()).containsExactly("fine", "never");

        assertThat(warden(concat(new String[] {"approvals", "show", a.id()}, conn)).out())
                .contains("decided by: alice: fine").contains("comments:\n  alice: fine");

        Run twice = warden(concat(new String[] {"approvals", "approve", a.id()}, conn));
        assertThat(twice.status()).isEqualTo(WardenCommand.FAILED);
        assertThat(twice.err()).contains("already approved");
        Run pending = warden(concat(new String[] {"approvals", "list"}, conn));
        assertThat(pending.out()).contains("no pending approval requests");
    }

    @Test
    void agentTokenAndMissingTokenAreRefused() {
        ApprovalRequest a = open("DROP TABLE audit_log");
        Run agent = warden("approvals", "approve", a.id(), "--console", console.url(), "--token-file", agentToken.toString());
        assertThat(agent.status()).isEqualTo(WardenCommand.USAGE);
        assertThat(agent.err()).contains("agent identity");
        assertThat(approvals.get(a.id()).orElseThrow().status()).isEqualTo(ApprovalRequest.Status.PENDING);
        Run none = warden("approvals", "list", "--console", console.url());
        // WARDEN_TOKEN is not set in the test environment.
        if (System.getenv("WARDEN_TOKEN") == null) {
            assertThat(none.status()).isEqualTo(WardenCommand.USAGE);
            assertThat(none.err()).contains("WARDEN_TOKEN");
        }
        Run down = warden("approvals", "list", "--console", "http://127.0.0.1:1", "--token-file", aliceToken.toString());
        assertThat(down.status()).isEqualTo(WardenCommand.USAGE);
        assertThat(down.err()).contains("cannot reach");
    }

    @Test
    void consoleAddressFromConfig() throws Exception {
        open("DROP TABLE audit_log");
        Path policy = Files.writeString(dir.resolve("policy.yaml"), "rules: []\n");
        Path cfg = Files.writeString(dir.resolve("warden.yaml"), "policy: policy.yaml\nconsole:\n  listen: 127.0.0.1:"
                + console.address().getPort() + "\n");
        assertThat(policy).exists();
        Run list = warden("approvals", "list", "--config", cfg.toString(), "--token-file", aliceToken.toString());
        assertThat(list.status()).as(list.err()).isZero();
        assertThat(list.out()).contains("DROP TABLE audit_log");
    }

    @Test
    void agentsDisableEnable() {
        String[] conn = {"--console", console.url(), "--token-file", aliceToken.toString()};
        Run off = warden(concat(new String[] {"agents", "disable", "claude", "--comment", "runaway"}, conn));
        assertThat(off.status()).as(off.err()).isZero();
        assertThat(agents.allows("claude")).isFalse();
        assertThat(warden(concat(new String[] {"agents", "list"}, conn)).out()).contains("claude  disabled");
        assertThat(warden(concat(new String[] {"agents", "enable", "claude"}, conn)).status()).isZero();
        assertThat(agents.allows("claude")).isTrue();
        Run unknown = warden(concat(new String[] {"agents", "disable", "nobody"}, conn));
        assertThat(unknown.status()).isEqualTo(WardenCommand.FAILED);
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
