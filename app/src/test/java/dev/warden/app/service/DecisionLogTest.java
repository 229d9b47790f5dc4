package dev.warden.app.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.MemoryLedger;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every decision is one info line, in order, none dropped, from many threads at once. */
class DecisionLogTest {
    @Test
    void oneLinePerDecisionFromManyThreads() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        DecisionLog log = new DecisionLog(new MemoryLedger(), out);
        Classification c = Classification.of(List.of(new Statement(Kind.READ, "SELECT 1", "SELECT", List.of(), List.of(),
                Set.of(), List.of())));
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 500; i++) {
                    Operation op = new Operation("agent-" + id, "db", "postgres", "SELECT \"x\"\n  FROM t WHERE i = " + i,
                            List.of(), null, null, null, null);
                    try {
                        log.append(new Entry.DecisionEntry(op, c, new Decision(Action.ALLOW, "reads", List.of(), null), "p", null),
                                Durability.WRITTEN);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }
            }));
        }
        for (Thread t : threads) t.join();
        log.close();
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(4000);
        assertThat(lines).allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO decision seq=\\d+ action=allow "
                + "rule=\"reads\" kind=read agent=agent-\\d database=db text=\"SELECT \\\\\"x\\\\\" FROM t WHERE i = \\d+\""));
        assertThat(lines.stream().map(l -> l.replaceAll(".* seq=(\\d+) .*", "$1")).distinct().count()).isEqualTo(4000);
    }

    /**
     * The line on stderr carried the text the ledger redacts: the password of a {@code CREATE ROLE … PASSWORD '…'}
     * always, and with {@code redact_literals: true} every literal (found by the README check: the demo's log showed
     * the password its ledger entry had as '[redacted]'). Logs go where the ledger's redaction was meant to keep them
     * out of (journald, a log collector).
     */
    @Test
    void theLineIsRedactedAsTheLedgerEntryIs() throws Exception {
        Classification c = Classification.of(List.of(new Statement(Kind.DCL, "x", "CREATE ROLE", List.of(), List.of(),
                Set.of(), List.of())));
        Entry.DecisionEntry role = new Entry.DecisionEntry(new Operation("a", "db", "postgres",
                "CREATE ROLE eve LOGIN PASSWORD 'hunter2-secret'", List.of(), null, null, null, null), c,
                new Decision(Action.DENY, null, List.of(), null), "p", null);
        Entry.DecisionEntry read = new Entry.DecisionEntry(new Operation("a", "db", "postgres",
                "SELECT * FROM users WHERE email = 'eve@example.com' AND id = 42", List.of(), null, null, null, null), c,
                new Decision(Action.ALLOW, "reads", List.of(), null), "p", null);

        ByteArrayOutputStream passwords = new ByteArrayOutputStream();
        try (DecisionLog log = new DecisionLog(new MemoryLedger(), new PrintStream(passwords, true, StandardCharsets.UTF_8))) {
            log.append(role, Durability.SYNCED);
            log.append(read, Durability.WRITTEN);
        }
        assertThat(passwords.toString(StandardCharsets.UTF_8)).doesNotContain("hunter2").contains("PASSWORD '[redacted]'")
                .contains("eve@example.com");

        ByteArrayOutputStream literals = new ByteArrayOutputStream();
        try (DecisionLog log = new DecisionLog(new MemoryLedger(), new PrintStream(literals, true, StandardCharsets.UTF_8),
                new dev.warden.core.ledger.Redactor(true))) {
            log.append(role, Durability.SYNCED);
            log.append(read, Durability.WRITTEN);
        }
        List<String> texts = literals.toString(StandardCharsets.UTF_8).lines().map(l -> l.substring(l.indexOf(" text="))).toList();
        assertThat(texts).containsExactly(" text=\"CREATE ROLE eve LOGIN PASSWORD ?\"",
                " text=\"SELECT * FROM users WHERE email = ? AND id = ?\"");
    }

    /**
     * Regression: the log did not pass on {@code waitsForSync}, so with {@code sync: all} the gate took an allowed read
     * for one that needs no fsync, and an event loop thread waited for the fsync of its decision.
     */
    @Test
    void passesOnWhatTheLedgerUnderneathWaitsFor(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var syncAll = dev.warden.core.ledger.FileLedger.open(dir, dev.warden.core.config.LedgerConfig.DEFAULTS.withSyncAll(true));
        try (DecisionLog log = new DecisionLog(syncAll, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
            assertThat(log.waitsForSync(Durability.WRITTEN)).isTrue();
        }
        try (DecisionLog log = new DecisionLog(new MemoryLedger(), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
            assertThat(log.waitsForSync(Durability.WRITTEN)).isFalse();
        }
    }
}
