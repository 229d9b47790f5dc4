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
