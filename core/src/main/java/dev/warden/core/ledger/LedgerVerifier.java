package dev.warden.core.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a ledger with nothing but its entries, its checkpoints and a public key: recomputes the tree from the
 * entries, checks every checkpoint's signature and root and that each is consistent with the one before, and checks
 * a witness's latest checkpoint against the log. Stops at the first problem and names it.
 */
public final class LedgerVerifier {
    private static final Set<String> TYPES = Set.of("decision", "approval", "outcome", "policy", "recovery");

    /** The result: {@code ok}, or the first problem found. */
    public record Report(boolean ok, long entries, byte[] root, String problem, List<String> notes) {
        public String summary() {
            return ok ? "ok: " + entries + " entries, root " + Base64.getEncoder().encodeToString(root) : problem;
        }
    }

    /** Where the trust comes from beyond the data directory. */
    public record Options(Optional<Path> witnessFile, Optional<Path> publicKeyFile) {
        public static Options none() {
            return new Options(Optional.empty(), Optional.empty());
        }
    }

    private final Path dataDir;
    private final Options options;
    private final List<String> notes = new ArrayList<>();

    private LedgerVerifier(Path dataDir, Options options) {
        this.dataDir = dataDir;
        this.options = options;
    }

    public static Report verify(Path dataDir, Options options) throws IOException {
        return new LedgerVerifier(dataDir, options).run();
    }

    private static final class Problem extends Exception {
        Problem(String message) {
            super(message, null, false, false);
        }
    }

    private Report run() throws IOException {
        LeafArray leaves = new LeafArray();
        try {
            LedgerDir dir = LedgerDir.of(dataDir);
            if (!Files.isDirectory(dir.dir())) throw new IOException("no ledger under " + dataDir + " (expected " + dir.dir() + ")");
            ordinaryFiles(dir);
            NoteKey key = key(dir);
            Merkle tree;
            List<Checkpoint> cps;
            try {
                scanEntries(dir, leaves);
                tree = new Merkle(leaves);
                cps = checkpoints(dir, key, tree, leaves.size());
            } catch (IOException | java.io.UncheckedIOException e) {
                // An unreadable file in the ledger is a finding, not a usage error: it may hide a change.
                throw new Problem("cannot read the ledger (damaged or tampered with): " + e.getMessage());
            }
            witness(key, tree, cps, leaves.size());
            return new Report(true, leaves.size(), tree.root(leaves.size()), null, List.copyOf(notes));
        } catch (Problem p) {
            return new Report(false, leaves.size(), null, p.getMessage(), List.copyOf(notes));
        }
    }

    /**
     * Every file of the ledger folder is a plain file of a size the verifier reads: a named pipe would make it wait
     * for ever, a device or a sparse giant exhaust it, and either would hide a change behind no report at all.
     */
    private static void ordinaryFiles(LedgerDir dir) throws IOException, Problem {
        List<Path> files;
        try (var s = Files.list(dir.dir())) {
            files = s.toList();
        }
        for (Path f : files) {
            if (!Files.isRegularFile(f)) throw new Problem(f + " is not a plain file: the ledger was damaged or tampered with");
            boolean readWhole = f.getFileName().toString().endsWith(".jsonl") || f.equals(dir.checkpoints());
            if (readWhole && Files.size(f) > MAX_FILE) {
                throw new Problem(f + " is larger than any ledger file Warden writes (" + Files.size(f) + " bytes): damaged or tampered with");
            }
        }
    }

    // Files read whole: segment_size is at most 1 GiB, and the checkpoint log stays far below it.
    private static final long MAX_FILE = 1L << 30;

    private NoteKey key(LedgerDir dir) throws IOException, Problem {
        NoteKey local = null;
        if (Files.exists(dir.publicKey())) {
            try {
                local = NoteKey.verifier(Files.readString(dir.publicKey(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new Problem("public key " + dir.publicKey() + ": " + e.getMessage());
            }
        }
        if (options.publicKeyFile().isPresent()) {
            NoteKey pinned;
            try {
                pinned = NoteKey.verifier(Files.readString(options.publicKeyFile().get(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new IOException(options.publicKeyFile().get() + ": " + e.getMessage());
            }
            if (local != null && !local.verifierKey().equals(pinned.verifierKey())) {
                throw new Problem("key replaced: " + dir.publicKey() + " holds " + local.verifierKey()
                        + ", not the pinned key " + pinned.verifierKey());
            }
            return pinned;
        }
        if (local == null) throw new Problem("public key missing: " + dir.publicKey() + " does not exist (give --public-key)");
        return local;
    }

    private void scanEntries(LedgerDir dir, LeafArray leaves) throws IOException, Problem {
        for (Path stray : dir.strays()) throw new Problem("unexpected file " + stray.getFileName() + ": not a segment name");
        List<Path> segments = dir.segments();
        MessageDigest digest = Merkle.sha256();
        List<long[]> positions = new ArrayList<>();
        Map<Long, Long> firstAt = new HashMap<>();
        String anomaly = null;
        for (int s = 0; s < segments.size(); s++) {
            Path seg = segments.get(s);
            long named = LedgerDir.firstSeq(seg);
            if (anomaly == null && named != leaves.size()) {
                anomaly = named > leaves.size()
                        ? "entry " + leaves.size() + ": missing (deleted); segment " + seg.getFileName() + " starts at " + named
                        : "segment " + seg.getFileName() + ": named for seq " + named + " but follows entry " + (leaves.size() - 1);
            }
            byte[] data = Files.readAllBytes(seg);
            int start = 0;
            int lineNo = 0;
            for (int i = 0; i <= data.length; i++) {
                if (i == data.length) {
                    if (start < data.length) {
                        if (s == segments.size() - 1) {
                            notes.add("incomplete last line in " + seg.getFileName() + " (" + (data.length - start)
                                    + " bytes being written, or a crash not yet recovered): not counted");
                        } else {
                            throw new Problem("entry " + leaves.size() + ": truncated: " + seg.getFileName() + " ends inside a line");
                        }
                    }
                    break;
                }
                if (data[i] != '\n') continue;
                lineNo++;
                int len = i - start;
                long position = leaves.size();
                String where = seg.getFileName() + " line " + lineNo;
                Map<String, Object> m;
                try {
                    m = EntryLines.parse(data, start, len);
                } catch (IOException e) {
                    throw new Problem("entry " + position + " (" + where + "): modified: not valid JSON (" + oneLine(e.getMessage()) + ")");
                }
                if (!EntryLines.canonical(data, start, len, m)) {
                    throw new Problem("entry " + position + " (" + where + "): modified: not in canonical form");
                }
                if (!(m.get("seq") instanceof Long seq)) throw new Problem("entry " + position + " (" + where + "): modified: no seq");
                if (!(m.get("type") instanceof String type) || !TYPES.contains(type)) {
                    throw new Problem("entry " + seq + " (" + where + "): modified: unknown type " + m.get("type"));
                }
                if (!(m.get("time") instanceof String)) throw new Problem("entry " + seq + " (" + where + "): modified: no time");
                if (anomaly == null && seq != position) {
                    anomaly = "at " + position;
                    positions.add(new long[] {position, seq});
                }
                firstAt.putIfAbsent(seq, position);
                leaves.add(Merkle.leafHash(digest, data, start, len));
                start = i + 1;
            }
        }
        if (anomaly != null) {
            if (positions.isEmpty()) throw new Problem(anomaly);
            long position = positions.getFirst()[0];
            long found = positions.getFirst()[1];
            Long elsewhere = firstAt.get(position);
            if (elsewhere != null && found == position + 1 && elsewhere == position + 1) {
                throw new Problem("entries " + position + " and " + (position + 1) + ": reordered (swapped)");
            }
            if (elsewhere != null) {
                throw new Problem("entry " + position + ": reordered: found at position " + elsewhere + ", entry " + found + " is in its place");
            }
            if (found < position) throw new Problem("entry " + found + ": duplicated at position " + position);
            throw new Problem("entry " + position + ": missing (deleted); the next entry is " + found);
        }
    }

    private List<Checkpoint> checkpoints(LedgerDir dir, NoteKey key, Merkle tree, long n) throws IOException, Problem {
        if (!Files.exists(dir.checkpoints())) {
            if (n == 0) return List.of();
            throw new Problem("checkpoints missing: " + dir.checkpoints() + " does not exist, yet the log holds " + n + " entries");
        }
        Checkpoint.Parsed parsed = Checkpoint.parseAll(Files.readString(dir.checkpoints(), StandardCharsets.UTF_8));
        if (parsed.problem() != null) throw new Problem(parsed.problem());
        List<Checkpoint> cps = parsed.checkpoints();
        if (cps.isEmpty() && n > 0) throw new Problem("checkpoints missing: the checkpoint log is empty, yet the log holds " + n + " entries");
        String source = options.publicKeyFile().isPresent() ? "the pinned key" : "the ledger key in " + dir.publicKey().getFileName();
        int firstSigned = -1;
        int firstUnsigned = -1;
        for (int k = 0; k < cps.size(); k++) {
            if (cps.get(k).signedBy(key)) {
                if (firstSigned < 0) firstSigned = k;
            } else if (firstUnsigned < 0) {
                firstUnsigned = k;
            }
        }
        if (firstUnsigned >= 0) {
            Checkpoint c = cps.get(firstUnsigned);
            if (c.claimsKey(key)) {
                throw new Problem("checkpoint " + firstUnsigned + " (size " + c.size() + "): bad signature");
            }
            if (firstUnsigned > 0) {
                throw new Problem("checkpoint " + firstUnsigned + " (size " + c.size() + "): not signed by " + source
                        + " (signed by " + signers(c) + "): rewritten after checkpoint " + (firstUnsigned - 1));
            }
            if (firstSigned > 0) {
                throw new Problem("checkpoints 0.." + (firstSigned - 1) + " are signed by " + signers(c) + ", not by " + source
                        + ": the key was replaced and the log rewritten after checkpoint " + (firstSigned - 1));
            }
            throw new Problem("checkpoint 0 (size " + c.size() + "): not signed by " + source + " (signed by " + signers(c)
                    + "): the key was replaced or the log rewritten");
        }
        Checkpoint prev = null;
        for (int k = 0; k < cps.size(); k++) {
            Checkpoint c = cps.get(k);
            if (prev != null && !c.origin().equals(prev.origin())) {
                throw new Problem("checkpoint " + k + ": origin '" + c.origin() + "' differs from '" + prev.origin() + "'");
            }
            if (prev != null && c.size() < prev.size()) {
                throw new Problem("checkpoint " + k + ": size " + c.size() + " is smaller than checkpoint " + (k - 1) + "'s " + prev.size() + ": rolled back");
            }
            if (c.size() > n) {
                throw new Problem("truncated below checkpoint " + k + ": it covers " + c.size() + " entries, the log holds " + n
                        + " (entries " + n + ".." + (c.size() - 1) + " are missing)");
            }
            byte[] root = tree.root(c.size());
            if (!Arrays.equals(root, c.root())) {
                long from = prev == null ? 0 : prev.size();
                throw new Problem(locate(dir, tree, c, k, from));
            }
            if (prev != null) {
                // Both roots were recomputed from the same entries, so the proof must verify; checking it keeps
                // the verifier honest about the format it serves.
                List<byte[]> proof = tree.consistency(prev.size(), c.size());
                if (!Merkle.verifyConsistency(prev.size(), c.size(), prev.root(), c.root(), proof)) {
                    throw new Problem("checkpoint " + k + ": not consistent with checkpoint " + (k - 1));
                }
            }
            prev = c;
        }
        if (prev != null && prev.size() < n) {
            notes.add("entries " + prev.size() + ".." + (n - 1) + " are not yet covered by a checkpoint");
        }
        return cps;
    }

    /** Names the modified entry when the side file still holds the hashes the checkpoint committed to. */
    private static String locate(LedgerDir dir, Merkle tree, Checkpoint c, int k, long from) {
        String base = "checkpoint " + k + " (size " + c.size() + "): root does not match the entries";
        if (Files.exists(dir.leaves())) {
            try (LeafFile side = LeafFile.open(dir.leaves(), false)) {
                if (side.size() >= c.size() && Arrays.equals(new Merkle(side).root(c.size()), c.root())) {
                    for (long i = 0; i < c.size(); i++) {
                        if (!Arrays.equals(side.leaf(i), leafOf(tree, i))) {
                            return "entry " + i + ": modified (its hash differs from the one committed by checkpoint " + k + ")";
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                // fall through to the range
            }
        }
        return base + ": an entry in " + from + ".." + (c.size() - 1) + " was modified, or the log was rewritten after checkpoint " + (k - 1);
    }

    private static byte[] leafOf(Merkle tree, long i) {
        return tree.hash(i, i + 1);
    }

    private void witness(NoteKey key, Merkle tree, List<Checkpoint> local, long n) throws IOException, Problem {
        if (options.witnessFile().isEmpty()) {
            notes.add("no witness given: the newest entries could have been deleted together with the local checkpoints");
            return;
        }
        Path f = options.witnessFile().get();
        Checkpoint.Parsed parsed = Checkpoint.parseAll(Files.readString(f, StandardCharsets.UTF_8));
        if (parsed.checkpoints().isEmpty()) throw new IOException(f + ": no checkpoint in the witness file");
        Checkpoint w = parsed.checkpoints().getLast();
        if (!w.signedBy(key)) {
            throw new Problem("witness checkpoint (size " + w.size() + "): not signed by the ledger key (signed by " + signers(w)
                    + "): the key was replaced");
        }
        if (w.size() > n) {
            long localMax = local.isEmpty() ? 0 : local.getLast().size();
            throw new Problem("truncated below the witness checkpoint: the witness saw " + w.size() + " entries, the log holds " + n
                    + " (entries " + n + ".." + (w.size() - 1) + " deleted" + (localMax < w.size() ? ", with the local checkpoints after size " + localMax : "") + ")");
        }
        if (!Arrays.equals(tree.root(w.size()), w.root())) {
            throw new Problem("witness checkpoint (size " + w.size() + "): root does not match the entries: the log was rewritten");
        }
    }

    private static String signers(Checkpoint c) {
        List<String> out = new ArrayList<>();
        for (Checkpoint.Sig s : c.signatures()) out.add(s.name() + "+" + java.util.HexFormat.of().formatHex(s.keyId()));
        return String.join(", ", out);
    }

    private static String oneLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
