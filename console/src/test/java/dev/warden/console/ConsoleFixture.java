package dev.warden.console;

import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.approval.AgentSwitch;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvers;
import dev.warden.core.approval.FileApprovals;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import dev.warden.core.config.ConsoleConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.Secret;
import dev.warden.core.config.ConsoleTlsConfig;
import dev.warden.core.ledger.MemoryLedger;
import dev.warden.core.metrics.Metrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** A console on an ephemeral loopback port over a real approval store in a temporary data directory. */
final class ConsoleFixture implements AutoCloseable {
    static final String ALICE = "alice-token-0123456789";
    static final String BOB = "bob-token-0123456789";
    static final String AGENT = "agent-secret-0123456789";

    final MemoryLedger ledger = new MemoryLedger();
    final Approvers approvers = Approvers.of(
            List.of(new ApproverConfig("alice", new Secret(ALICE)), new ApproverConfig("bob", new Secret(BOB))),
            List.of(new AgentConfig("claude", new Secret(AGENT), List.of())));
    final FileApprovals approvals;
    final AgentSwitch agents;
    final ConsoleServer server;
    final Path dataDir;

    ConsoleFixture(Path dataDir) throws Exception {
        this(dataDir, null);
    }

    ConsoleFixture(Path dataDir, ConsoleTlsConfig tls) throws Exception {
        this.dataDir = dataDir;
        approvals = FileApprovals.open(dataDir, ledger, approvers);
        agents = AgentSwitch.open(dataDir, ledger, Set.of("claude"));
        server = ConsoleServer.start(new ConsoleConfig(new HostPort("127.0.0.1", 0), Optional.ofNullable(tls), Optional.empty()),
                new ConsoleServices(approvals, approvers, agents, dataDir, new Metrics(), ledger::healthy,
                        () -> new ConsoleServices.Verification(true, "12 entries, root abc")));
    }

    String url() {
        return server.url();
    }

    ApprovalRequest open(String text, ApprovalSpec.Mode mode, int approvers, boolean inTransaction) {
        Operation op = new Operation("claude", "shop", "postgres", text, List.of(), "fixing slow /orders endpoint",
                "s1", "127.0.0.1:5555", null);
        Classification c = new Classification(List.of(new Statement(Kind.DDL, text, "CREATE INDEX",
                List.of(ObjectAccess.of("public.orders", dev.warden.core.Access.DDL)), List.of(), Set.of("locks"), List.of("ddl"))),
                Set.of("pii"), 120000, "catalog");
        Decision d = new Decision(Action.APPROVE, "schema-changes", List.of("ddl needs approval"),
                new ApprovalSpec(mode, approvers, Duration.ofMinutes(5), Duration.ofMinutes(10)));
        return this.approvals.open(op, c, d, inTransaction);
    }

    @Override
    public void close() {
        server.close();
        approvals.close();
    }
}
