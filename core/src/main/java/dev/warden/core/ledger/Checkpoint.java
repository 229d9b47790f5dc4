package dev.warden.core.ledger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * A C2SP {@code tlog-checkpoint} as a C2SP {@code signed-note}: the text {@code <origin>\n<size>\n<base64 root>\n},
 * a blank line, then one line per signature {@code — <key name> <base64(key id ‖ Ed25519 signature)>}.
 *
 * @param note the whole signed note, exactly as written
 */
public record Checkpoint(String origin, long size, byte[] root, String note) {
    private static final String DASH = "\u2014 ";

    public record Sig(String name, byte[] keyId, byte[] signature) {}

    public static String body(String origin, long size, byte[] root) {
        return origin + "\n" + size + "\n" + Base64.getEncoder().encodeToString(root) + "\n";
    }

    public static Checkpoint sign(NoteKey key, String origin, long size, byte[] root) {
        String body = body(origin, size, root);
        byte[] sig = key.sign(body.getBytes(StandardCharsets.UTF_8));
        String line = DASH + key.name() + " " + Base64.getEncoder().encodeToString(NoteKey.concat(key.keyId(), sig)) + "\n";
        return new Checkpoint(origin, size, root, body + "\n" + line);
    }

    /** An unsigned tree head, for proofs at sizes that have no checkpoint. */
    public static Checkpoint unsigned(String origin, long size, byte[] root) {
        return new Checkpoint(origin, size, root, body(origin, size, root));
    }

    public String text() {
        int i = note.indexOf("\n\n");
        return i < 0 ? note : note.substring(0, i + 1);
    }

    public List<Sig> signatures() {
        List<Sig> out = new ArrayList<>();
        int i = note.indexOf("\n\n");
        if (i < 0) return out;
        for (String line : note.substring(i + 2).split("\n")) {
            if (!line.startsWith(DASH)) continue;
            String[] p = line.substring(DASH.length()).split(" ");
            if (p.length != 2) continue;
            byte[] b;
            try {
                b = Base64.getDecoder().decode(p[1]);
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (b.length < 5) continue;
            out.add(new Sig(p[0], Arrays.copyOf(b, 4), Arrays.copyOfRange(b, 4, b.length)));
        }
        return out;
    }

    /**
     * True when the note is signed by {@code key} as a signed note must be: every line of its signature block is a
     * well-formed signature, every one claiming {@code key} verifies, and at least one does. A junk line or a bad
     * signature in {@code key}'s name is a changed note, as Go's {@code note.Open} holds it.
     */
    public boolean signedBy(NoteKey key) {
        int i = note.indexOf("\n\n");
        if (i < 0) return false;
        String block = note.substring(i + 2);
        if (block.endsWith("\n")) block = block.substring(0, block.length() - 1);
        List<Sig> sigs = signatures();
        if (sigs.size() != block.split("\n", -1).length) return false;
        byte[] text = text().getBytes(StandardCharsets.UTF_8);
        boolean any = false;
        for (Sig s : sigs) {
            if (!s.name().equals(key.name()) || !Arrays.equals(s.keyId(), key.keyId())) continue;
            if (!key.verify(text, s.signature())) return false;
            any = true;
        }
        return any;
    }

    /** True when a signature line claims to be by {@code key} (by name and key id), valid or not. */
    public boolean claimsKey(NoteKey key) {
        for (Sig s : signatures()) {
            if (s.name().equals(key.name()) && Arrays.equals(s.keyId(), key.keyId())) return true;
        }
        return false;
    }

    public String rootBase64() {
        return Base64.getEncoder().encodeToString(root);
    }

    /** Parses one signed note; throws {@link IllegalArgumentException} naming what is wrong. */
    public static Checkpoint parse(String note) {
        int i = note.indexOf("\n\n");
        if (i < 0) throw new IllegalArgumentException("no signature block");
        String[] lines = note.substring(0, i + 1).split("\n");
        if (lines.length < 3) throw new IllegalArgumentException("a checkpoint has an origin, a size and a root hash");
        long size;
        try {
            size = Long.parseLong(lines[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the size line is not a number");
        }
        if (size < 0 || !lines[1].equals(Long.toString(size))) throw new IllegalArgumentException("the size line is not canonical");
        byte[] root;
        try {
            root = Base64.getDecoder().decode(lines[2]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the root hash is not base64");
        }
        if (root.length != Merkle.HASH) throw new IllegalArgumentException("the root hash is not 32 bytes");
        return new Checkpoint(lines[0], size, root, note);
    }

    /**
     * Splits a file of notes (each followed by a blank line, as the checkpoint log and file witnesses hold them)
     * into notes. A torn note at the end (a crash while it was written) is returned in {@code torn}.
     */
    public record Parsed(List<Checkpoint> checkpoints, List<Long> offsets, long validBytes, String problem) {}

    public static Parsed parseAll(String file) {
        List<Checkpoint> out = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        int pos = 0;
        long valid = 0;
        while (pos < file.length()) {
            int textEnd = file.indexOf("\n\n", pos);
            if (textEnd < 0) return new Parsed(out, offsets, valid, "checkpoint " + out.size() + ": incomplete");
            int sigStart = textEnd + 2;
            int end = file.indexOf("\n\n", sigStart);
            if (end < 0) return new Parsed(out, offsets, valid, "checkpoint " + out.size() + ": incomplete");
            String note = file.substring(pos, end + 1);
            try {
                Checkpoint c = parse(note);
                if (c.signatures().isEmpty()) return new Parsed(out, offsets, valid, "checkpoint " + out.size() + ": no signature line");
                out.add(c);
                offsets.add(valid);
            } catch (IllegalArgumentException e) {
                return new Parsed(out, offsets, valid, "checkpoint " + out.size() + ": " + e.getMessage());
            }
            valid += file.substring(pos, end + 2).getBytes(StandardCharsets.UTF_8).length;
            pos = end + 2;
        }
        return new Parsed(out, offsets, valid, null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Checkpoint c && c.note.equals(note);
    }

    @Override
    public int hashCode() {
        return note.hashCode();
    }
}
