package dev.warden.bench;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.config.LedgerConfig;
import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.FileLedger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Appends of a typical decision entry to the file ledger, at both durability levels; run with {@code -t 1},
 * {@code -t 8} and {@code -t 64} for the number of concurrent appenders. Prints fsyncs per second at the end of
 * each trial. The data directory is {@code -Dledger.dir} (default: a fresh folder under the system temp folder).
 */
@State(Scope.Benchmark)
public class LedgerBenchmark {
    @Param({"SYNCED", "WRITTEN"})
    public Durability durability;

    FileLedger ledger;
    Path dir;
    Entry.DecisionEntry entry;
    long startNanos;
    long startFsyncs;
    long startSize;

    @Setup(Level.Trial)
    public void open() throws Exception {
        Path base = Path.of(System.getProperty("ledger.dir", System.getProperty("java.io.tmpdir")));
        Files.createDirectories(base);
        dir = Files.createTempDirectory(base, "warden-ledger-bench");
        ledger = FileLedger.open(dir, LedgerConfig.DEFAULTS);
        String text = "SELECT id, email, created_at FROM public.users WHERE id = $1";
        Operation op = new Operation("coding-agent", "app", "postgres", text, List.of("42"), "look up the user", "s-17",
                "10.0.0.7:53122", null);
        Classification c = Classification.of(List.of(new Statement(Kind.READ, text, "SELECT",
                List.of(new ObjectAccess("public.users", Access.READ, List.of("id", "email", "created_at"))), List.of(), Set.of(), List.of())));
        entry = new Entry.DecisionEntry(op, c, new Decision(Action.ALLOW, "reads", List.of("reads are allowed"), null), "sha256:0f3c", null);
    }

    @Setup(Level.Iteration)
    public void mark() {
        startNanos = System.nanoTime();
        startFsyncs = ledger.fsyncs();
        startSize = ledger.size();
    }

    @TearDown(Level.Iteration)
    public void report() {
        double s = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf("  [ledger] %.0f fsyncs/s, %.0f entries/s, %.1f entries per fsync%n", (ledger.fsyncs() - startFsyncs) / s,
                (ledger.size() - startSize) / s, (ledger.size() - startSize) / Math.max(1.0, ledger.fsyncs() - startFsyncs));
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        ledger.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    @Benchmark
    public long append() throws Exception {
        return ledger.append(entry, durability);
    }
}
