package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.warden.core.config.LedgerConfig;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Red team: modifications by someone who can write data_dir (not the pinned key, not the witness) that
 * {@code warden audit verify --public-key PINNED} must report as tampering. A failing test is a gap.
 */
class RedTeamLedgerTest {
    @TempDir
    Path tmp;
    Path data;
    Path pinned;
    LedgerDir dir;
    Path segment;

    @BeforeEach
    void write() throws Exception {
        data = tmp.resolve("data");
        pinned = tmp.resolve("elsewhere/ledger.pub");
        Files.createDirectories(pinned.getParent());
        LedgerConfig cfg = LedgerConfig.DEFAULTS.withCheckpointInterval(java.time.Duration.ofHours(1));
        try (FileLedger l = FileLedger.open(data, cfg)) {
            for (int batch = 0; batch < 4; batch++) {
                for (int i = 0; i < 10; i++) l.append(Entries.read(batch * 10 + i), Durability.SYNCED);
                l.checkpointNow();
            }
            Files.writeString(pinned, l.verifierKey() + "\n");
        }
        dir = LedgerDir.of(data);
        segment = dir.segment(0);
        assertThat(verify().summary()).startsWith("ok: 40 entries");
    }

    LedgerVerifier.Report verify() throws IOException {
        return LedgerVerifier.verify(data, new LedgerVerifier.Options(Optional.empty(), Optional.of(pinned)));
    }

    /** The real tampering: entry 13's statement changed (valid, canonical, same seq). */
    void modifyEntry13() throws IOException {
        List<String> l = new ArrayList<>(Files.readAllLines(segment, StandardCharsets.UTF_8));
        l.set(13, l.get(13).replace("WHERE id = 13", "WHERE id = 03"));
        Files.writeString(segment, String.join("\n", l) + "\n", StandardCharsets.UTF_8);
        assertThat(verify().summary()).startsWith("entry 13: modified");
    }

    /** Runs verify with a time limit; a verifier that throws or hangs has reported nothing. */
    LedgerVerifier.Report verifyWithin(int seconds, Runnable release) throws Exception {
        CompletableFuture<Object> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(verify());
            } catch (Throwable e) {
                f.complete(e);
            }
        });
        t.setDaemon(true);
        t.start();
        Object o;
        try {
            o = f.get(seconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            release.run();
            t.join(5000);
            return fail("verify hung for " + seconds + " s and reported nothing");
        }
        if (o instanceof Throwable e) {
            return fail("verify threw instead of reporting (the CLI then exits 2 as for bad arguments, or crashes): " + e, e);
        }
        return (LedgerVerifier.Report) o;
    }

    static void mkfifo(Path p) throws Exception {
        Files.deleteIfExists(p);
        Process pr = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
        assertThat(pr.waitFor()).isZero();
    }

    static Runnable opener(Path fifo) {
        return () -> {
            try (FileOutputStream out = new FileOutputStream(fifo.toFile())) {
                // opening the write end unblocks the verifier's open(); closing gives it EOF
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        };
    }

    /** Finding 1: one invalid UTF-8 byte in ledger/checkpoints turns "tampered" (exit 1) into an IOException (exit 2). */
    @Test
    void invalidUtf8InTheCheckpointLogHidesAModifiedEntry() throws Exception {
        modifyEntry13();
        Files.write(dir.checkpoints(), new byte[] {(byte) 0xff, '\n'}, java.nio.file.StandardOpenOption.APPEND);
        LedgerVerifier.Report r = verifyWithin(30, () -> {});
        assertThat(r.ok()).isFalse();
    }

    /** Finding 2a: signing.pub replaced by a named pipe: verify (even with a pinned key) blocks forever. */
    @Test
    void aFifoAsSigningPubHangsVerify() throws Exception {
        modifyEntry13();
        mkfifo(dir.publicKey());
        LedgerVerifier.Report r = verifyWithin(10, opener(dir.publicKey()));
        assertThat(r.ok()).isFalse();
    }

    /** Finding 2b: tree.hashes as a named pipe: harmless on an intact log, but verify hangs exactly when an entry was modified. */
    @Test
    void aFifoAsTreeHashesHangsVerifyOnlyWhenSomethingWasModified() throws Exception {
        mkfifo(dir.leaves());
        assertThat(verify().ok()).as("a named pipe in the ledger is reported, not waited on").isFalse();
        List<String> l = new ArrayList<>(Files.readAllLines(segment, StandardCharsets.UTF_8));
        l.set(13, l.get(13).replace("WHERE id = 13", "WHERE id = 03"));
        Files.writeString(segment, String.join("\n", l) + "\n", StandardCharsets.UTF_8);
        LedgerVerifier.Report r = verifyWithin(10, opener(dir.leaves()));
        assertThat(r.ok()).isFalse();
    }

    /** Finding 3: a segment over 2 GiB (here a sparse zero tail, no disk used) makes verify throw OutOfMemoryError. */
    @Test
    void aSegmentOver2GiBCrashesVerify() throws Exception {
        modifyEntry13();
        try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
            f.setLength(3L << 30);
        }
        try {
            LedgerVerifier.Report r = verifyWithin(60, () -> {});
            assertThat(r.ok()).isFalse();
        } finally {
            Files.delete(segment);
        }
    }

    /**
     * Finding 4: the signature block of a checkpoint accepts arbitrary extra lines, including a second line that claims
     * the ledger key with an invalid signature (Go's note.Open rejects both: malformed note / invalid signature).
     */
    @Test
    void junkAndABadSignatureClaimingTheLedgerKeyInACheckpointAreNotReported() throws Exception {
        NoteKey key = NoteKey.verifier(Files.readString(pinned));
        String text = Files.readString(dir.checkpoints());
        List<Checkpoint> cps = Checkpoint.parseAll(text).checkpoints();
        String note = cps.get(3).note();
        byte[] bogus = NoteKey.concat(key.keyId(), new byte[64]);
        String tampered = note + "\u2014 " + key.name() + " " + Base64.getEncoder().encodeToString(bogus) + "\n"
                + "anything the attacker wants to smuggle into the audit trail\n";
        Files.writeString(dir.checkpoints(), text.replace(note, tampered));
        assertThat(Files.readString(dir.checkpoints())).contains("smuggle");
        LedgerVerifier.Report r = verifyWithin(30, () -> {});
        assertThat(r.ok()).as(r.summary()).isFalse();
    }

    /** Held (expected to pass): deep nesting is reported as an invalid entry, no StackOverflowError. */
    @Test
    void deeplyNestedEntryIsReported() throws Exception {
        List<String> l = new ArrayList<>(Files.readAllLines(segment, StandardCharsets.UTF_8));
        l.set(5, l.get(5).replace("\"parameters\":[", "\"parameters\":[" + "[".repeat(200_000) + "]".repeat(200_000) + ","));
        assertThat(l.get(5)).contains("[[[[");
        Files.writeString(segment, String.join("\n", l) + "\n", StandardCharsets.UTF_8);
        LedgerVerifier.Report r = verifyWithin(60, () -> {});
        assertThat(r.ok()).isFalse();
        assertThat(r.summary()).startsWith("entry 5");
    }
}
