package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Action;
import dev.warden.core.config.LedgerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileLedgerTest {
    @TempDir
    Path dir;

    @Test
    void entriesAreCanonicalWithSeqTimeAndTypeAndTheLogVerifies() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            assertThat(l.append(Entries.read(0), Durability.WRITTEN)).isEqualTo(0);
            assertThat(l.append(Entries.decision("bot", "DELETE FROM public.users", Action.DENY, "public.users"), Durability.SYNCED)).isEqualTo(1);
            assertThat(l.append(Entries.outcome(0), Durability.WRITTEN)).isEqualTo(2);
            assertThat(l.append(new Entry.ApprovalEntry("r-1", "abc", "alice", "approved", "ok"), Durability.SYNCED)).isEqualTo(3);
            assertThat(l.append(new Entry.PolicyEntry("policy.yaml", "sha256:p", 4), Durability.SYNCED)).isEqualTo(4);
            assertThat(l.append(Entries.decision("b\u00f6t", "SELECT 'caf\u00e9 \u2603\n\"x\"'", Action.ALLOW, "t"), Durability.WRITTEN)).isEqualTo(5);
            assertThat(l.healthy()).isTrue();
        }
        List<String> lines = Files.readAllLines(LedgerDir.of(dir).segment(0));
        assertThat(lines).hasSize(6);
        for (String line : lines) {
            Map<String, Object> m = EntryLines.parse(line.getBytes(StandardCharsets.UTF_8));
            assertThat(CanonicalJson.write(m)).isEqualTo(line);
            assertThat((String) m.get("time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
        }
        Map<String, Object> deny = EntryLines.parse(lines.get(1).getBytes(StandardCharsets.UTF_8));
        assertThat(deny).containsEntry("seq", 1L).containsEntry("type", "decision").containsEntry("agent", "bot")
                .containsEntry("database", "app").containsEntry("engine", "postgres").containsEntry("session", "s-1")
                .containsEntry("client", "10.0.0.7:5544").containsEntry("statement", "DELETE FROM public.users")
                .containsEntry("parameters", List.of("42", "o'brien")).containsEntry("decision", "deny")
                .containsEntry("rule", "no-deletes").containsEntry("reasons", List.of("because the rule says so"))
                .containsEntry("policy_hash", "sha256:policy").containsEntry("approval_id", null)
                .containsKey("classification").containsKey("statement_hash");
        Map<String, Object> outcome = EntryLines.parse(lines.get(2).getBytes(StandardCharsets.UTF_8));
        assertThat(outcome).containsEntry("decision_seq", 0L).containsEntry("status", "ok").containsEntry("rows", 1L)
                .containsEntry("duration_us", 120L).containsEntry("type", "outcome");
        assertThat(lines.get(3)).contains("\"approver\":\"alice\"").contains("\"request_id\":\"r-1\"");

        LedgerVerifier.Report r = LedgerVerifier.verify(dir, LedgerVerifier.Options.none());
        assertThat(r.ok()).as(r.summary()).isTrue();
        assertThat(r.summary()).startsWith("ok: 6 entries, root ");
        Checkpoint last = Checkpoint.parseAll(Files.readString(LedgerDir.of(dir).checkpoints())).checkpoints().getLast();
        assertThat(last.size()).isEqualTo(6);
        assertThat(EntryLines.parse(lines.get(5).getBytes(StandardCharsets.UTF_8))).containsEntry("agent", "b\u00f6t")
                .containsEntry("statement", "SELECT 'caf\u00e9 \u2603\n\"x\"'");
        assertThat(r.summary()).endsWith(last.rootBase64());
    }

    @Test
    void queuedEntriesAreWrittenByTheWriterWithoutTheCallerWaiting() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            long decision = l.append(Entries.read(1), Durability.WRITTEN);
            assertThat(l.append(Entries.outcome(decision), Durability.QUEUED)).isEqualTo(-1);
            // Written (and fsynced) within the fsync interval, without another append to carry it.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (Files.readAllLines(LedgerDir.of(dir).segment(0)).size() < 2 && System.nanoTime() < deadline) Thread.sleep(5);
            assertThat(Files.readAllLines(LedgerDir.of(dir).segment(0))).hasSize(2);
            assertThat(l.append(Entries.read(2), Durability.WRITTEN)).isEqualTo(2);
            l.append(Entries.outcome(2), Durability.QUEUED);
        }
        // Closing writes what is still queued.
        List<String> lines = Files.readAllLines(LedgerDir.of(dir).segment(0));
        assertThat(lines).hasSize(4);
        assertThat(EntryLines.parse(lines.get(1).getBytes(StandardCharsets.UTF_8))).containsEntry("type", "outcome")
                .containsEntry("seq", 1L).containsEntry("decision_seq", 0L);
        assertThat(EntryLines.parse(lines.get(3).getBytes(StandardCharsets.UTF_8))).containsEntry("decision_seq", 2L);
        assertThat(LedgerVerifier.verify(dir, LedgerVerifier.Options.none()).ok()).isTrue();
    }

    @Test
    void theSigningKeyIsCreatedOwnerOnlyAndCheckpointsAreSignedNotes() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            l.append(Entries.read(1), Durability.SYNCED);
        }
        LedgerDir d = LedgerDir.of(dir);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d.signingKey()))).isEqualTo("rw-------");
        assertThat(Files.readString(d.signingKey())).startsWith("PRIVATE+KEY+warden/");
        NoteKey pub = NoteKey.verifier(Files.readString(d.publicKey()));
        String text = Files.readString(d.checkpoints());
        // origin, size, root, blank line, "— name base64(keyid ‖ sig)", then the blank line that separates notes
        assertThat(text).matches("(?s)warden/\\S+\\n1\\n[A-Za-z0-9+/=]{44}\\n\\n\u2014 warden/\\S+ [A-Za-z0-9+/=]{92}\\n\\n");
        Checkpoint c = Checkpoint.parseAll(text).checkpoints().getFirst();
        assertThat(c.signedBy(pub)).isTrue();
        assertThat(c.signatures().getFirst().keyId()).isEqualTo(pub.keyId());
    }

    @Test
    void aConfiguredKeyAndOriginAreUsed() throws Exception {
        NoteKey k = NoteKey.generate("example.com/warden-test");
        Path keyFile = dir.resolve("outside/key");
        k.writePrivate(keyFile);
        LedgerConfig cfg = new LedgerConfig(false, LedgerConfig.DEFAULT_SEGMENT_SIZE, Duration.ofSeconds(1), Duration.ofMillis(10),
                java.util.Optional.of(keyFile), java.util.Optional.of("example.com/log"), List.of(), false);
        try (FileLedger l = FileLedger.open(dir.resolve("data"), cfg)) {
            l.append(Entries.read(1), Durability.SYNCED);
            assertThat(l.verifierKey()).isEqualTo(k.verifierKey());
        }
        Checkpoint c = Checkpoint.parseAll(Files.readString(LedgerDir.of(dir.resolve("data")).checkpoints())).checkpoints().getFirst();
        assertThat(c.origin()).isEqualTo("example.com/log");
        assertThat(c.signedBy(k.publicOnly())).isTrue();
    }

    @Test
    void segmentsRollAndReopeningContinuesTheSequence() throws Exception {
        LedgerConfig cfg = LedgerConfig.DEFAULTS.withSegmentSize(4096);
        try (FileLedger l = FileLedger.open(dir, cfg)) {
            for (int i = 0; i < 60; i++) l.append(Entries.read(i), i % 2 == 0 ? Durability.WRITTEN : Durability.SYNCED);
        }
        try (FileLedger l = FileLedger.open(dir, cfg)) {
            assertThat(l.size()).isEqualTo(60);
            assertThat(l.append(Entries.read(60), Durability.SYNCED)).isEqualTo(60);
        }
        List<Path> segs = LedgerDir.of(dir).segments();
        assertThat(segs.size()).isGreaterThan(3);
        long expected = 0;
        for (Path s : segs) {
            assertThat(Files.size(s)).isLessThanOrEqualTo(4096);
            assertThat(LedgerDir.firstSeq(s)).isEqualTo(expected);
            expected += Files.readAllLines(s).size();
        }
        assertThat(expected).isEqualTo(61);
        // Only segments are *.jsonl.
        try (var files = Files.list(LedgerDir.of(dir).dir())) {
            assertThat(files.filter(p -> p.toString().endsWith(".jsonl")).count()).isEqualTo(segs.size());
        }
        assertThat(LedgerVerifier.verify(dir, LedgerVerifier.Options.none()).ok()).isTrue();
        // The side file is rebuilt when lost, and proofs agree with it.
        Files.delete(LedgerDir.of(dir).leaves());
        try (FileLedger l = FileLedger.open(dir, cfg)) {
            Checkpoint cp = l.checkpointNow();
            assertThat(cp.size()).isEqualTo(61);
            LedgerProofs p = LedgerProofs.open(dir);
            for (long i : new long[] {0, 30, 60}) {
                assertThat(Merkle.verifyInclusion(i, 61, p.leafHash(i), p.inclusion(i, 61), cp.root())).isTrue();
                assertThat(Merkle.verifyInclusion(i, 61, p.leafHash(i), l.tree().inclusion(i, 61), cp.root())).isTrue();
            }
            assertThat(p.inclusionText(30, 61)).startsWith("c2sp.org/tlog-proof@v1\nindex 30\n").endsWith(cp.note());
            assertThat(Merkle.verifyConsistency(10, 61, p.head(10).root(), cp.root(), p.consistency(10, 61))).isTrue();
        }
    }

    @Test
    void reopeningChecksTheLatestCheckpointOverManyLeavesAndRefusesAChangedEntry() throws Exception {
        // More entries than one read of the leaf file holds (32768), with the checkpoint inside the second read.
        int n = 40_000;
        Checkpoint cp;
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            for (int i = 0; i < 33_000; i++) l.append(Entries.outcome(i), Durability.WRITTEN);
            cp = l.checkpointNow();
            for (int i = 33_000; i < n; i++) l.append(Entries.outcome(i), Durability.WRITTEN);
        }
        // close() checkpoints the rest: keep only the checkpoint at 33000, so that open checks the root there.
        Path cps = LedgerDir.of(dir).checkpoints();
        Files.writeString(cps, cp.note() + "\n");
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            assertThat(l.size()).isEqualTo(n);
            assertThat(l.append(Entries.read(n), Durability.SYNCED)).isEqualTo(n);
        }
        Files.writeString(cps, cp.note() + "\n");
        // An entry under the checkpoint changed, and the side file rebuilt from the changed log: open refuses.
        Path seg = LedgerDir.of(dir).segment(0);
        String text = Files.readString(seg);
        Files.writeString(seg, text.replaceFirst("\"rows\":1,", "\"rows\":2,"));
        Files.delete(LedgerDir.of(dir).leaves());
        assertThatThrownBy(() -> FileLedger.open(dir, LedgerConfig.DEFAULTS)).isInstanceOf(LedgerException.class)
                .hasMessageContaining("does not match its latest checkpoint (size 33000)");
    }

    @Test
    void concurrentAppendersGetGapFreeDistinctSeqs() throws Exception {
        int threads = 16;
        int each = 200;
        Set<Long> seqs = ConcurrentHashMap.newKeySet();
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS.withSegmentSize(64 * 1024))) {
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                ts.add(Thread.ofVirtual().start(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < each; i++) {
                            Durability d = (i + id) % 3 == 0 ? Durability.SYNCED : Durability.WRITTEN;
                            assertThat(seqs.add(l.append(Entries.read(id * 1000 + i), d))).isTrue();
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            start.countDown();
            for (Thread t : ts) t.join();
            assertThat(l.size()).isEqualTo(threads * each);
            assertThat(l.fsyncs()).isLessThan(threads * each / 3);
        }
        assertThat(seqs).hasSize(threads * each);
        assertThat(seqs.stream().mapToLong(Long::longValue).max().getAsLong()).isEqualTo(threads * each - 1);
        LedgerVerifier.Report r = LedgerVerifier.verify(dir, LedgerVerifier.Options.none());
        assertThat(r.ok()).as(r.summary()).isTrue();
        assertThat(r.entries()).isEqualTo(threads * each);
    }

    @Test
    void writtenEntriesAreFsyncedWithinTheIntervalAndCheckpointedWhileEntriesArrive() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS.withCheckpointInterval(Duration.ofMillis(200)))) {
            l.append(Entries.read(0), Durability.WRITTEN);
            long before = l.fsyncs();
            Thread.sleep(100);
            assertThat(l.fsyncs()).isGreaterThan(before - 1);
            assertThat(l.fsyncs()).isGreaterThanOrEqualTo(1);
            for (int i = 0; i < 5; i++) {
                l.append(Entries.read(i), Durability.WRITTEN);
                Thread.sleep(150);
            }
            assertThat(l.latestCheckpoint()).isPresent();
            assertThat(l.latestCheckpoint().get().size()).isGreaterThanOrEqualTo(4);
        }
    }

    @Test
    void writtenEntriesKeepGettingFsyncedWhileAppendersContendForTheLock() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            java.util.concurrent.atomic.AtomicBoolean go = new java.util.concurrent.atomic.AtomicBoolean(true);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                ts.add(Thread.ofPlatform().start(() -> {
                    try {
                        for (int i = 0; go.get(); i++) l.append(Entries.read(i), Durability.WRITTEN);
                    } catch (LedgerException e) {
                        throw new RuntimeException(e);
                    }
                }));
            }
            Thread.sleep(300);
            long f0 = l.fsyncs();
            long n0 = l.fsyncNanos();
            long t0 = System.nanoTime();
            Thread.sleep(1000);
            long count = l.fsyncs() - f0;
            long inFsync = l.fsyncNanos() - n0;
            long window = System.nanoTime() - t0;
            go.set(false);
            for (Thread t : ts) t.join();
            // The writer fsyncs again at most fsync_interval (10 ms) after the previous one ends: the window is
            // spent in fsyncs and those pauses. A writer starved by the appenders' lock would spend it waiting.
            long accounted = inFsync + count * 10_000_000L;
            assertThat(count).isGreaterThanOrEqualTo(1);
            assertThat(accounted).as("%d fsyncs taking %d ms in a window of %d ms", count, inFsync / 1_000_000, window / 1_000_000)
                    .isGreaterThan(window / 2);
        }
    }

    @Test
    void stagedEntriesReachTheFileInOrderWithOneWriteWhenAskedFor() throws Exception {
        LedgerConfig d = LedgerConfig.DEFAULTS;
        // A long fsync interval: the writer does not write the staged entries on its own during the test.
        try (FileLedger l = FileLedger.open(dir, new LedgerConfig(d.syncAll(), d.segmentSize(), d.checkpointInterval(),
                Duration.ofSeconds(30), d.signingKey(), d.origin(), d.witnesses(), d.redactLiterals()))) {
            assertThat(l.append(Entries.read(0), Durability.STAGED)).isEqualTo(0);
            assertThat(l.append(Entries.read(1), Durability.STAGED)).isEqualTo(1);
            assertThat(Files.size(LedgerDir.of(dir).segment(0))).isZero();
            l.writeStaged(0);
            // Everything staged before goes with it, in one write.
            assertThat(Files.readAllLines(LedgerDir.of(dir).segment(0))).hasSize(2);
            l.writeStaged(1);
            assertThat(l.append(Entries.read(2), Durability.STAGED)).isEqualTo(2);
            // A WRITTEN append writes the staged entries before its own.
            assertThat(l.append(Entries.read(3), Durability.WRITTEN)).isEqualTo(3);
            List<String> lines = Files.readAllLines(LedgerDir.of(dir).segment(0));
            assertThat(lines).hasSize(4);
            for (int i = 0; i < 4; i++) assertThat(lines.get(i)).contains("\"seq\":" + i + ",");
            l.append(Entries.read(4), Durability.STAGED);
        }
        // Closing writes what is still staged.
        assertThat(Files.readAllLines(LedgerDir.of(dir).segment(0))).hasSize(5);
        assertThat(LedgerVerifier.verify(dir, LedgerVerifier.Options.none()).ok()).isTrue();
    }

    @Test
    void theWriterWritesStagedEntriesNobodyAskedForWithinTheFsyncInterval() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            l.append(Entries.read(0), Durability.STAGED);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (Files.size(LedgerDir.of(dir).segment(0)) == 0 && System.nanoTime() < deadline) Thread.sleep(5);
            assertThat(Files.readAllLines(LedgerDir.of(dir).segment(0))).hasSize(1);
        }
    }

    @Test
    void aStagedEntryLostToAWriteFailureIsNeverReportedWritten() throws Exception {
        LedgerConfig d = LedgerConfig.DEFAULTS;
        FileLedger l = FileLedger.open(dir, new LedgerConfig(d.syncAll(), d.segmentSize(), d.checkpointInterval(),
                Duration.ofSeconds(30), d.signingKey(), d.origin(), d.witnesses(), d.redactLiterals()));
        long written = l.append(Entries.read(0), Durability.WRITTEN);
        long staged = l.append(Entries.read(1), Durability.STAGED);
        var f = FileLedger.class.getDeclaredField("segment");
        f.setAccessible(true);
        ((java.nio.channels.FileChannel) f.get(l)).close();
        assertThatThrownBy(() -> l.writeStaged(staged)).isInstanceOf(LedgerException.class).hasMessageContaining("cannot write");
        // Asked again (by another session whose entry was in the same buffer): still refused, never "written".
        assertThatThrownBy(() -> l.writeStaged(staged)).isInstanceOf(LedgerException.class).hasMessageContaining("failed");
        l.writeStaged(written);
        assertThat(l.healthy()).isFalse();
        Thread closer = Thread.ofPlatform().start(l::close);
        closer.join(10_000);
        assertThat(closer.isAlive()).as("close returned").isFalse();
    }

    /**
     * Regression: the writer's fsync could clear the mark a staged entry set before the entry was in the file; written
     * later, the entry then waited for the next append (for ever, when none came) instead of fsync_interval.
     */
    @Test
    void aStagedEntryIsFsyncedWithinTheIntervalEvenWhenItsMarkWasClearedBeforeItWasWritten() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            long seq = l.append(Entries.read(0), Durability.STAGED);
            var mark = FileLedger.class.getDeclaredField("dirtySince");
            mark.setAccessible(true);
            // As the writer does when an fsync that did not cover the staged entry starts.
            mark.setLong(l, 0L);
            long fsyncs = l.fsyncs();
            l.writeStaged(seq);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (l.fsyncs() == fsyncs && System.nanoTime() < deadline) Thread.sleep(2);
            assertThat(l.fsyncs()).isGreaterThan(fsyncs);
        }
    }

    @Test
    void afterSyncCallsBackOnceTheEntryIsFsyncedWithoutTheCallerWaiting() throws Exception {
        LedgerConfig d = LedgerConfig.DEFAULTS;
        // A long fsync interval: only the barrier makes the writer fsync now.
        try (FileLedger l = FileLedger.open(dir, new LedgerConfig(d.syncAll(), d.segmentSize(), d.checkpointInterval(),
                Duration.ofSeconds(30), d.signingKey(), d.origin(), d.witnesses(), d.redactLiterals()))) {
            long seq = l.append(Entries.read(0), Durability.STAGED);
            long fsyncs = l.fsyncs();
            var done = new java.util.concurrent.CompletableFuture<LedgerException>();
            l.afterSync(seq, done::complete);
            assertThat(done.get(5, java.util.concurrent.TimeUnit.SECONDS)).isNull();
            assertThat(l.fsyncs()).isGreaterThan(fsyncs);
            assertThat(Files.readAllLines(LedgerDir.of(dir).segment(0))).hasSize(1);
            // Already durable: called back at once, on the caller's thread.
            var on = new java.util.concurrent.atomic.AtomicReference<Thread>();
            l.afterSync(seq, e -> on.set(Thread.currentThread()));
            assertThat(on.get()).isSameAs(Thread.currentThread());
        }
    }

    @Test
    void afterSyncReportsAnEntryThatCouldNotBeWritten() throws Exception {
        FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS);
        var f = FileLedger.class.getDeclaredField("segment");
        f.setAccessible(true);
        ((java.nio.channels.FileChannel) f.get(l)).close();
        long seq = l.append(Entries.read(0), Durability.STAGED);
        var done = new java.util.concurrent.CompletableFuture<LedgerException>();
        l.afterSync(seq, done::complete);
        assertThat(done.get(5, java.util.concurrent.TimeUnit.SECONDS)).isNotNull().hasMessageContaining("cannot write");
        l.close();
        // A closed ledger answers at once, never leaving a caller waiting.
        var late = new java.util.concurrent.CompletableFuture<LedgerException>();
        l.afterSync(seq, late::complete);
        assertThat(late.get(5, java.util.concurrent.TimeUnit.SECONDS)).isNotNull();
    }

    @Test
    void syncAllMakesWrittenAppendsWaitForTheFsync() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS.withSyncAll(true))) {
            for (int i = 0; i < 5; i++) l.append(Entries.read(i), Durability.WRITTEN);
            assertThat(l.fsyncs()).isGreaterThanOrEqualTo(5);
        }
    }

    @Test
    void aWriteFailureThrowsAndMarksTheLedgerUnhealthy() throws Exception {
        FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS);
        l.append(Entries.read(0), Durability.SYNCED);
        // Take the segment away from under the writer: close its channel, as a failing disk would.
        var f = FileLedger.class.getDeclaredField("segment");
        f.setAccessible(true);
        ((java.nio.channels.FileChannel) f.get(l)).close();
        assertThatThrownBy(() -> l.append(Entries.read(1), Durability.WRITTEN)).isInstanceOf(LedgerException.class)
                .hasMessageContaining("cannot write");
        assertThat(l.healthy()).isFalse();
        assertThatThrownBy(() -> l.append(Entries.read(2), Durability.SYNCED)).isInstanceOf(LedgerException.class)
                .hasMessageContaining("failed earlier");
        l.close();
    }

    /** Regression: outcomes queued before a write failure kept the writer (and so close) waiting for ever. */
    @Test
    void queuedEntriesThatCanNoLongerBeWrittenDoNotHoldUpClose() throws Exception {
        LedgerConfig d = LedgerConfig.DEFAULTS;
        // A long fsync interval keeps the queued entry waiting while the failure happens.
        FileLedger l = FileLedger.open(dir, new LedgerConfig(d.syncAll(), d.segmentSize(), d.checkpointInterval(),
                java.time.Duration.ofSeconds(2), d.signingKey(), d.origin(), d.witnesses(), d.redactLiterals()));
        l.append(Entries.read(0), Durability.SYNCED);
        var f = FileLedger.class.getDeclaredField("segment");
        f.setAccessible(true);
        ((java.nio.channels.FileChannel) f.get(l)).close();
        l.append(Entries.outcome(0), Durability.QUEUED);
        // Fails in the caller's own write, before the writer's next batch (fsync_interval) takes the queued one.
        assertThatThrownBy(() -> l.append(Entries.read(1), Durability.WRITTEN)).isInstanceOf(LedgerException.class);
        assertThat(l.healthy()).isFalse();
        Thread closer = Thread.ofPlatform().start(l::close);
        closer.join(10_000);
        assertThat(closer.isAlive()).as("close returned").isFalse();
    }

    @Test
    void passwordsInRoleStatementsAreRedactedAndRedactLiteralsKeepsTheHash() throws Exception {
        var create = Entries.decision("dba", "CREATE ROLE app LOGIN PASSWORD 's3cr''et'", Action.ALLOW, "app");
        var alter = Entries.decision("dba", "ALTER USER bob WITH ENCRYPTED PASSWORD 'hunter2' VALID UNTIL 'infinity'", Action.ALLOW, "bob");
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            l.append(create, Durability.SYNCED);
            l.append(alter, Durability.SYNCED);
        }
        String all = Files.readString(LedgerDir.of(dir).segment(0));
        assertThat(all).doesNotContain("s3cr").doesNotContain("hunter2").contains("PASSWORD '[redacted]'")
                .contains("VALID UNTIL 'infinity'").contains(create.operation().statementHash());

        Path other = dir.resolve("redacting");
        var select = Entries.decision("bot", "SELECT * FROM users WHERE email = 'ann@example.com' AND id = 42", Action.ALLOW, "public.users");
        try (FileLedger l = FileLedger.open(other, LedgerConfig.DEFAULTS.withRedactLiterals(true))) {
            l.append(select, Durability.SYNCED);
        }
        String line = Files.readString(LedgerDir.of(other).segment(0));
        assertThat(line).doesNotContain("ann@example.com").doesNotContain("o'brien").doesNotContain("= 42")
                .contains("email = ? AND id = ?").contains(select.operation().statementHash());
    }
}
