package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.catalog.BuiltinCatalog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Runs the classifier over every valid statement of PostgreSQL's regression tests (the shared corpus, read in place)
 * and writes {@code target/corpus-unknown-reads.txt}: the reads it labels {@code unknown}, grouped by the function
 * or reason that made them so, so that needless denials are visible. No threshold: the regression tests define many
 * user functions, which are rightly unknown offline.
 */
class RegressionCorpusReadsTest {
    private static final Set<String> READ_COMMANDS = Set.of("SELECT", "VALUES", "EXPLAIN", "SHOW", "DECLARE", "FETCH",
            "MOVE", "CLOSE", "COPY TO");

    static Optional<Path> corpus() {
        String configured = System.getProperty("warden.corpus", System.getenv("WARDEN_CORPUS"));
        if (configured != null) return Optional.of(Path.of(configured));
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path c = p.resolve("shared/corpus/postgres-regress/statements.tsv");
            if (Files.isRegularFile(c)) return Optional.of(c);
        }
        return Optional.empty();
    }

    static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                sb.append(switch (n) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    default -> n;
                });
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    @Test
    void listsReadsLabelledUnknown() throws IOException {
        Optional<Path> file = corpus();
        Assumptions.assumeTrue(file.isPresent(), "the regression corpus (shared/corpus/postgres-regress) is not here");
        PostgresClassifier classifier = new PostgresClassifier(NativePgQuery.require(), BuiltinCatalog.INSTANCE, 0);
        int valid = 0, parsed = 0, reads = 0;
        Map<String, Integer> kinds = new TreeMap<>();
        Map<String, List<String>> unknownReadsByCause = new TreeMap<>();
        long start = System.nanoTime();
        try (BufferedReader r = Files.newBufferedReader(file.get(), StandardCharsets.UTF_8)) {
            r.readLine();
            for (String line; (line = r.readLine()) != null; ) {
                String[] f = line.split("\t", 4);
                if (f.length < 4 || !f[2].equals("yes")) continue;
                valid++;
                String sql = unescape(f[3]);
                Classification c = classifier.classify(sql, ClassifyContext.defaults());
                boolean syntax = c.statements().size() == 1 && c.statements().get(0).command().isEmpty()
                        && c.kind() == Kind.UNKNOWN;
                if (!syntax) parsed++;
                for (Statement s : c.statements()) {
                    kinds.merge(s.kind().label(), 1, Integer::sum);
                    if (!READ_COMMANDS.contains(s.command())) continue;
                    reads++;
                    if (s.kind() != Kind.UNKNOWN) continue;
                    String cause = !s.unproven().isEmpty() ? "unproven " + String.join(", ", s.unproven())
                            : s.reasons().isEmpty() ? "(no reason)" : s.reasons().get(0);
                    unknownReadsByCause.computeIfAbsent(cause, k -> new ArrayList<>())
                            .add(f[0] + ":" + f[1] + "  " + sql.replace('\n', ' '));
                }
            }
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        int unknownReads = unknownReadsByCause.values().stream().mapToInt(List::size).sum();
        Path out = Path.of("target", "corpus-unknown-reads.txt");
        Files.createDirectories(out.getParent());
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
            w.printf("corpus: %s%n", file.get());
            w.printf("valid statements: %d, parsed by the native PostgreSQL 15 grammar: %d (%.2f %%), classified in %d ms%n",
                    valid, parsed, 100.0 * parsed / valid, ms);
            w.printf("statement kinds: %s%n", kinds);
            w.printf("reads (SELECT, VALUES, EXPLAIN, SHOW, DECLARE, FETCH, MOVE, CLOSE, COPY TO): %d, labelled unknown: %d (%.2f %%)%n%n",
                    reads, unknownReads, 100.0 * unknownReads / Math.max(1, reads));
            Map<String, List<String>> sorted = new LinkedHashMap<>();
            unknownReadsByCause.entrySet().stream()
                    .sorted(Comparator.comparingInt((Map.Entry<String, List<String>> e) -> -e.getValue().size()))
                    .forEach(e -> sorted.put(e.getKey(), e.getValue()));
            for (var e : sorted.entrySet()) {
                w.printf("## %d × %s%n", e.getValue().size(), e.getKey());
                for (String s : e.getValue()) w.println("  " + (s.length() > 300 ? s.substring(0, 300) + "…" : s));
            }
        }
        System.out.printf("corpus: %d valid, %d parsed natively, %d reads, %d reads labelled unknown; report %s%n",
                valid, parsed, reads, unknownReads, out.toAbsolutePath());
        assertThat(valid).isGreaterThan(50_000);
        assertThat(parsed).isGreaterThan(valid * 9 / 10);
    }
}
