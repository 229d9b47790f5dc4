package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.config.LedgerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way of tampering the issue names, each detected by verify and named. */
class TamperTest {
    @TempDir
    Path tmp;
    Path data;
    Path witness;
    Path pinned;
    LedgerDir dir;
    Path segment;

    @BeforeEach
    void write() throws Exception {
        data = tmp.resolve("data");
        witness = tmp.resolve("elsewhere/witness.notes");
        pinned = tmp.resolve("elsewhere/ledger.pub");
        // Checkpoints only where the test asks for them, so their sizes are known.
        LedgerConfig cfg = LedgerConfig.DEFAULTS.withCheckpointInterval(java.time.Duration.ofHours(1))
                .withWitnesses(List.of(new LedgerConfig.WitnessConfig.File(witness)));
        try (FileLedger l = FileLedger.open(data, cfg)) {
            for (int batch = 0; batch < 4; batch++) {
                for (int i = 0; i < 10; i++) l.append(Entries.read(batch * 10 + i), Durability.SYNCED);
                l.checkpointNow();
            }
            Files.writeString(pinned, l.verifierKey() + "\n");
        }
        dir = LedgerDir.of(data);
        segment = dir.segment(0);
        LedgerVerifier.Report first = verify(false, false);
        assertThat(first.ok()).as(first.summary()).isTrue();
        assertThat(verify(true, true).summary()).startsWith("ok: 40 entries");
        assertThat(checkpoints()).extracting(Checkpoint::size).containsExactly(10L, 20L, 30L, 40L);
    }

    LedgerVerifier.Report verify(boolean withWitness, boolean withKey) throws Exception {
        return LedgerVerifier.verify(data, new LedgerVerifier.Options(withWitness ? Optional.of(witness) : Optional.empty(),
                withKey ? Optional.of(pinned) : Optional.empty()));
    }

    List<String> lines() throws Exception {
        return new ArrayList<>(Files.readAllLines(segment, StandardCharsets.UTF_8));
    }

    void lines(List<String> l) throws Exception {
        Files.writeString(segment, String.join("\n", l) + (l.isEmpty() ? "" : "\n"), StandardCharsets.UTF_8);
    }

    List<Checkpoint> checkpoints() throws Exception {
        return Checkpoint.parseAll(Files.readString(dir.checkpoints())).checkpoints();
    }

    @Test
    void aFlippedByteIsNamed() throws Exception {
        byte[] b = Files.readAllBytes(segment);
        List<String> l = lines();
        int offset = 0;
        for (int i = 0; i < 13; i++) offset += l.get(i).getBytes(StandardCharsets.UTF_8).length + 1;
        int at = offset + l.get(13).indexOf("WHERE id = 13") + 11;
        b[at] ^= 0x01; // '1' becomes '0': still valid, canonical JSON
        Files.write(segment, b);
        LedgerVerifier.Report r = verify(false, false);
        assertThat(r.ok()).isFalse();
        assertThat(r.summary()).startsWith("entry 13: modified");
    }

    @Test
    void aFlippedByteIsNamedEvenWhenTheSideFileIsGone() throws Exception {
        Files.delete(dir.leaves());
        List<String> l = lines();
        l.set(13, l.get(13).replace("WHERE id = 13", "WHERE id = 03"));
        lines(l);
        LedgerVerifier.Report r = verify(false, false);
        assertThat(r.ok()).isFalse();
        assertThat(r.summary()).contains("checkpoint 1 (size 20): root does not match the entries").contains("10..19");
    }

    @Test
    void aFlippedByteThatBreaksTheJsonIsNamed() throws Exception {
        List<String> l = lines();
        l.set(7, l.get(7).replaceFirst("\\{", "["));
        lines(l);
        assertThat(verify(false, false).summary()).startsWith("entry 7 (00000000000000000000.jsonl line 8): modified: not valid JSON");
    }

    @Test
    void aDeletedEntryIsNamed() throws Exception {
        List<String> l = lines();
        l.remove(17);
        lines(l);
        assertThat(verify(false, false).summary()).isEqualTo("entry 17: missing (deleted); the next entry is 18");
    }

    @Test
    void swappedEntriesAreNamed() throws Exception {
        List<String> l = lines();
        Collections.swap(l, 20, 21);
        lines(l);
        assertThat(verify(false, false).summary()).isEqualTo("entries 20 and 21: reordered (swapped)");
    }

    @Test
    void truncationBelowTheLastCheckpointIsNamed() throws Exception {
        List<String> l = lines();
        lines(l.subList(0, 35));
        assertThat(verify(false, false).summary())
                .isEqualTo("truncated below checkpoint 3: it covers 40 entries, the log holds 35 (entries 35..39 are missing)");
    }

    @Test
    void aTailRewrittenUnderANewSelfMadeKeyIsNamed() throws Exception {
        // The attacker changes entries after checkpoint 1, recomputes the tree and signs new checkpoints with a key
        // of their own; they cannot sign with the ledger's key without stealing it.
        NoteKey forged = NoteKey.generate("attacker");
        List<String> l = rewriteTail(20);
        String origin = checkpoints().getFirst().origin();
        StringBuilder cps = new StringBuilder();
        cps.append(checkpoints().get(0).note()).append('\n').append(checkpoints().get(1).note()).append('\n');
        Merkle t = treeOf(l);
        cps.append(Checkpoint.sign(forged, origin, 30, t.root(30)).note()).append('\n');
        cps.append(Checkpoint.sign(forged, origin, 40, t.root(40)).note()).append('\n');
        Files.writeString(dir.checkpoints(), cps);
        Files.delete(dir.leaves());
        assertThat(verify(false, false).summary())
                .startsWith("checkpoint 2 (size 30): not signed by the ledger key in signing.pub (signed by attacker+")
                .endsWith("rewritten after checkpoint 1");

        // Replacing the public key as well: the old checkpoints betray it.
        Files.writeString(dir.publicKey(), forged.verifierKey() + "\n");
        assertThat(verify(false, false).summary())
                .startsWith("checkpoints 0..1 are signed by ")
                .endsWith("the key was replaced and the log rewritten after checkpoint 1");

        // Re-signing every checkpoint with the new key fools a verifier that trusts the data directory alone
        // (the threat model), but not a pinned public key, and not the witness.
        cps = new StringBuilder();
        for (long size : new long[] {10, 20, 30, 40}) cps.append(Checkpoint.sign(forged, origin, size, t.root(size)).note()).append('\n');
        Files.writeString(dir.checkpoints(), cps);
        assertThat(verify(false, false).ok()).isTrue();
        assertThat(verify(false, true).summary()).startsWith("key replaced: ");
        assertThat(verify(true, false).summary())
                .startsWith("witness checkpoint (size 40): not signed by the ledger key").endsWith("the key was replaced");
    }

    @Test
    void theNewestEntriesDeletedWithTheLocalCheckpointsAreCaughtByTheWitness() throws Exception {
        lines(lines().subList(0, 25));
        String text = Files.readString(dir.checkpoints());
        List<Checkpoint> cps = checkpoints();
        Files.writeString(dir.checkpoints(), cps.get(0).note() + "\n" + cps.get(1).note() + "\n");
        Files.delete(dir.leaves());
        assertThat(text).isNotEmpty();
        // Locally consistent: without a witness this cannot be seen (the threat model says so).
        LedgerVerifier.Report local = verify(false, false);
        assertThat(local.ok()).isTrue();
        assertThat(local.notes()).anyMatch(n -> n.startsWith("no witness given"));
        assertThat(verify(true, false).summary()).isEqualTo("truncated below the witness checkpoint: the witness saw 40 entries, "
                + "the log holds 25 (entries 25..39 deleted, with the local checkpoints after size 20)");
    }

    @Test
    void aCorruptedSignatureIsNamed() throws Exception {
        String text = Files.readString(dir.checkpoints());
        List<Checkpoint> cps = checkpoints();
        String note = cps.get(1).note();
        int sig = note.lastIndexOf(' ') + 20;
        char c = note.charAt(sig);
        String bad = note.substring(0, sig) + (c == 'A' ? 'B' : 'A') + note.substring(sig + 1);
        Files.writeString(dir.checkpoints(), text.replace(note, bad));
        assertThat(verify(false, false).summary()).isEqualTo("checkpoint 1 (size 20): bad signature");
    }

    @Test
    void aCheckpointLogRolledBackIsNamed() throws Exception {
        List<Checkpoint> cps = checkpoints();
        Files.writeString(dir.checkpoints(), cps.get(0).note() + "\n" + cps.get(2).note() + "\n" + cps.get(1).note() + "\n");
        assertThat(verify(false, false).summary()).isEqualTo("checkpoint 2: size 20 is smaller than checkpoint 1's 30: rolled back");
    }

    /** Changes entries from {@code from} on, keeping them canonical and in sequence. */
    List<String> rewriteTail(int from) throws Exception {
        List<String> l = lines();
        for (int i = from; i < l.size(); i++) l.set(i, l.get(i).replace("\"agent\":\"agent-", "\"agent\":\"agent-x"));
        lines(l);
        return l;
    }

    static Merkle treeOf(List<String> lines) {
        Merkle.MemoryLeaves leaves = new Merkle.MemoryLeaves();
        for (String s : lines) leaves.add(Merkle.leafHash(s.getBytes(StandardCharsets.UTF_8)));
        return new Merkle(leaves);
    }
}
