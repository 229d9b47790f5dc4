package dev.warden.core.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Inclusion and consistency proofs from a ledger's files, for the command line and the console. The leaf hashes are
 * recomputed from the entries (the side file is not trusted here); a running ledger serves proofs from its own tree
 * with {@link FileLedger#tree()}.
 * Output formats: C2SP {@code tlog-proof} for inclusion; for consistency the body of a C2SP {@code tlog-witness}
 * {@code add-checkpoint} request ({@code old <size>}, proof hashes, blank line, checkpoint).
 */
public final class LedgerProofs {
    private final Merkle tree;
    private final long size;
    private final List<Checkpoint> checkpoints;
    private final String origin;

    private LedgerProofs(Merkle tree, long size, List<Checkpoint> checkpoints, String origin) {
        this.tree = tree;
        this.size = size;
        this.checkpoints = checkpoints;
        this.origin = origin;
    }

    public static LedgerProofs open(Path dataDir) throws IOException {
        LedgerDir dir = LedgerDir.of(dataDir);
        if (!Files.isDirectory(dir.dir())) throw new IOException("no ledger under " + dataDir);
        List<Checkpoint> cps = Files.exists(dir.checkpoints())
                ? Checkpoint.parseAll(Files.readString(dir.checkpoints(), StandardCharsets.UTF_8)).checkpoints() : List.of();
        LeafArray leaves = new LeafArray();
        MessageDigest d = Merkle.sha256();
        new LedgerReader(dataDir).forEach(0, line -> {
            leaves.add(Merkle.leafHash(d, line.bytes(), 0, line.bytes().length));
            return true;
        });
        String origin = cps.isEmpty() ? "" : cps.getLast().origin();
        return new LedgerProofs(new Merkle(leaves), leaves.size(), cps, origin);
    }

    public long size() {
        return size;
    }

    public Optional<Checkpoint> latest() {
        return checkpoints.isEmpty() ? Optional.empty() : Optional.of(checkpoints.getLast());
    }

    /** The signed checkpoint of exactly this size, or an unsigned tree head when there is none. */
    public Checkpoint head(long treeSize) {
        if (treeSize > size) throw new IllegalArgumentException("the log holds " + size + " entries, not " + treeSize);
        byte[] root = tree.root(treeSize);
        for (Checkpoint c : checkpoints.reversed()) {
            if (c.size() == treeSize && Arrays.equals(c.root(), root)) return c;
        }
        return Checkpoint.unsigned(origin, treeSize, root);
    }

    public byte[] leafHash(long seq) {
        return tree.hash(seq, seq + 1);
    }

    public List<byte[]> inclusion(long seq, long treeSize) {
        return tree.inclusion(seq, treeSize);
    }

    public List<byte[]> consistency(long from, long to) {
        return tree.consistency(from, to);
    }

    /** C2SP tlog-proof: {@code c2sp.org/tlog-proof@v1}, {@code index N}, the hashes, a blank line, the checkpoint. */
    public String inclusionText(long seq, long treeSize) {
        StringBuilder sb = new StringBuilder("c2sp.org/tlog-proof@v1\nindex ").append(seq).append('\n');
        for (byte[] h : inclusion(seq, treeSize)) sb.append(Base64.getEncoder().encodeToString(h)).append('\n');
        sb.append('\n').append(head(treeSize).note());
        return sb.toString();
    }

    public String consistencyText(long from, long to) {
        StringBuilder sb = new StringBuilder("old ").append(from).append('\n');
        for (byte[] h : consistency(from, to)) sb.append(Base64.getEncoder().encodeToString(h)).append('\n');
        sb.append('\n').append(head(to).note());
        return sb.toString();
    }
}
