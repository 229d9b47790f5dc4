package dev.warden.core.ledger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the ledger's files live under {@code <data_dir>/ledger/}. Segments are the only {@code *.jsonl} files,
 * named by their first sequence number in twenty digits so that lexical order is log order; the checkpoint log,
 * the tree's leaf hashes, the keys and quarantined bytes use other names.
 */
public record LedgerDir(Path dir) {
    private static final Pattern SEGMENT = Pattern.compile("\\d{20}\\.jsonl");

    public static LedgerDir of(Path dataDir) {
        return new LedgerDir(dataDir.resolve("ledger"));
    }

    public Path checkpoints() { return dir.resolve("checkpoints"); }

    public Path leaves() { return dir.resolve("tree.hashes"); }

    public Path signingKey() { return dir.resolve("signing.key"); }

    public Path publicKey() { return dir.resolve("signing.pub"); }

    public Path segment(long firstSeq) {
        return dir.resolve(String.format("%020d.jsonl", firstSeq));
    }

    public Path quarantine(String what) {
        return dir.resolve("quarantine-" + what + "-" + System.currentTimeMillis() + ".bin");
    }

    public static long firstSeq(Path segment) {
        String n = segment.getFileName().toString();
        return Long.parseLong(n.substring(0, n.length() - ".jsonl".length()));
    }

    public List<Path> segments() throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> SEGMENT.matcher(p.getFileName().toString()).matches()).forEach(out::add);
        }
        out.sort(null);
        return out;
    }

    /** Every {@code *.jsonl} file that is not a well-named segment: a sign that someone put it there. */
    public List<Path> strays() throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".jsonl") && !SEGMENT.matcher(p.getFileName().toString()).matches())
                    .forEach(out::add);
        }
        out.sort(null);
        return out;
    }

    public void fsyncDir() {
        try (var ch = java.nio.channels.FileChannel.open(dir, java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Not every file system lets a directory be opened; the file's own fsync still holds its bytes.
        }
    }
}
