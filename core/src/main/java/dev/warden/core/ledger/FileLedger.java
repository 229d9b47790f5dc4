package dev.warden.core.ledger;

import dev.warden.core.config.LedgerConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ledger as a transparency log on local files: canonical JSON Lines segments, the RFC 6962 tree over them, and
 * signed C2SP checkpoints, pushed to witnesses.
 *
 * <p>Writes: every line goes through one buffer, in sequence order, under a short lock. A {@code WRITTEN} append
 * writes the buffer (its line and any staged before it) in the caller's thread and returns; a {@code STAGED} append
 * leaves its line in the buffer until {@link #writeStaged} (or any later write) writes it; a {@code SYNCED} append
 * hands its entry to the one writer thread, which writes every entry that is waiting in one write, fsyncs once and
 * releases all of their callers (group commit). The writer also fsyncs {@code WRITTEN}
 * entries within {@code fsync_interval}, extends the tree over fsynced entries only (so a checkpoint never commits
 * to bytes a power loss could take), and signs a checkpoint every {@code checkpoint_interval} while entries arrive
 * and at close. Any write failure makes the ledger unhealthy for good: every later append throws.
 */
public final class FileLedger implements Ledger {
    private static final DateTimeFormatter SECOND = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");

    private final LedgerDir dir;
    private final LedgerConfig config;
    private final Redactor redactor;
    private final EntryWriter entryWriter;
    private final NoteKey key;
    private final String origin;
    private static final System.Logger LOG = System.getLogger(FileLedger.class.getName());
    private final List<Witness> witnesses;

    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private volatile FileChannel segment;
    private long segmentBytes;
    private long nextSeq;
    private long lastMicros;
    private long cachedSecond = Long.MIN_VALUE;
    private byte[] cachedPrefix;
    private final List<FileChannel> retired = new ArrayList<>();
    /** Lines with their seq, not yet in the file: STAGED ones, and the writer's batch while it builds it. */
    private final Batch buffer = new Batch();

    private final ConcurrentLinkedQueue<byte[]> unhashed = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Pending> waiting = new ConcurrentLinkedQueue<>();
    private volatile long dirtySince;
    private volatile long syncedCount;
    private volatile boolean healthy = true;
    private volatile String failure;
    private volatile boolean closing;
    /** QUEUED entries for the writer's next batch. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Prepared> queued = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    private final Thread writer;
    private final Thread treeThread;
    /** Held from open to close: this process is the data directory's one writer. */
    private WriterLock writerLock;

    // Writer thread only (and open).
    private final LeafFile leaves;
    private final Merkle.Frontier frontier = new Merkle.Frontier();
    private final MessageDigest digest = Merkle.sha256();
    private FileChannel checkpointLog;
    private volatile Checkpoint latest;
    private long lastCheckpointNanos = System.nanoTime();
    private final List<String> witnessProblems = new CopyOnWriteArrayList<>();
    private volatile long fsyncs;
    private volatile long fsyncNanos;
    private volatile long hashedCount;
    // Entries in the file, published after each write so the writer can fsync WRITTEN entries without the lock.
    private volatile long writtenCount;
    /** The buffer holds STAGED lines: the writer writes them within fsync_interval if nobody else has. */
    private volatile boolean staged;

    private FileLedger(LedgerDir dir, LedgerConfig config, NoteKey key, String origin) throws IOException {
        this.dir = dir;
        this.config = config;
        this.redactor = new Redactor(config.redactLiterals());
        this.entryWriter = new EntryWriter(redactor);
        this.key = key;
        this.origin = origin;
        List<Witness> w = new ArrayList<>();
        for (LedgerConfig.WitnessConfig wc : config.witnesses()) {
            w.add(switch (wc) {
                case LedgerConfig.WitnessConfig.File f -> new Witness.FileWitness(f.path());
                case LedgerConfig.WitnessConfig.Url u -> new Witness.HttpWitness(u.uri());
            });
        }
        this.witnesses = List.copyOf(w);
        if (!witnesses.isEmpty()) {
            dev.warden.core.metrics.Metrics.shared().gauge("warden_ledger_witnesses_failing", witnessProblems::size);
        }
        this.leaves = LeafFile.open(dir.leaves(), true);
        this.writer = Thread.ofPlatform().name("ledger-writer").daemon(true).unstarted(this::writerLoop);
        this.treeThread = Thread.ofPlatform().name("ledger-tree").daemon(true).unstarted(this::treeLoop);
    }

    /** Opens (or creates) the ledger under {@code <dataDir>/ledger}, recovering a torn tail. */
    public static FileLedger open(Path dataDir, LedgerConfig config) throws LedgerException {
        LedgerDir dir = LedgerDir.of(dataDir);
        WriterLock writerLock = null;
        try {
            Files.createDirectories(dir.dir());
            writerLock = WriterLock.acquire(dataDir);
            NoteKey key = loadKey(dir, config);
            String origin = config.origin().orElse(key.name());
            FileLedger l = new FileLedger(dir, config, key, origin);
            Optional<Entry.RecoveryEntry> recovery;
            try {
                recovery = l.recover();
            } catch (IOException | LedgerException | RuntimeException e) {
                l.leaves.close();
                throw e;
            }
            l.writerLock = writerLock;
            writerLock = null;
            l.writer.start();
            l.treeThread.start();
            if (recovery.isPresent()) {
                try {
                    l.append(recovery.get(), Durability.SYNCED);
                } catch (LedgerException | RuntimeException e) {
                    // A ledger that cannot record its own recovery is not handed out; its threads and lock go.
                    l.close();
                    throw e;
                }
            }
            return l;
        } catch (IOException e) {
            throw new LedgerException("cannot open the ledger in " + dir.dir() + ": " + e.getMessage(), e);
        } finally {
            if (writerLock != null) writerLock.close();
        }
    }

    private static NoteKey loadKey(LedgerDir dir, LedgerConfig config) throws IOException, LedgerException {
        NoteKey key;
        if (config.signingKey().isPresent()) {
            Path f = config.signingKey().get();
            if (!Files.exists(f)) throw new LedgerException("the signing key " + f + " does not exist");
            key = NoteKey.readPrivate(f);
        } else if (Files.exists(dir.signingKey())) {
            key = NoteKey.readPrivate(dir.signingKey());
        } else {
            key = NoteKey.generate(config.origin().orElseGet(FileLedger::defaultName));
            key.writePrivate(dir.signingKey());
        }
        Path pub = dir.publicKey();
        if (Files.exists(pub)) {
            String existing = Files.readString(pub, StandardCharsets.UTF_8).strip();
            if (!existing.equals(key.verifierKey())) {
                throw new LedgerException("the signing key does not match " + pub + " (" + existing
                        + "); the ledger was signed by another key, and keys are not rotated in place");
            }
        } else {
            Files.writeString(pub, key.verifierKey() + "\n", StandardCharsets.UTF_8);
        }
        return key;
    }

    private static String defaultName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        host = host.replaceAll("[^A-Za-z0-9.\\-]", "-");
        return "warden/" + (host.isEmpty() ? "localhost" : host);
    }

    // ---------------------------------------------------------------- recovery

    private Optional<Entry.RecoveryEntry> recover() throws IOException, LedgerException {
        List<Path> segments = dir.segments();
        Path last;
        if (segments.isEmpty()) {
            last = dir.segment(0);
            Files.createFile(last);
            dir.fsyncDir();
        } else {
            last = segments.getLast();
        }
        byte[] data = Files.readAllBytes(last);
        int valid = data.length;
        long lastSeq = LedgerDir.firstSeq(last) - 1;
        // Strip a torn tail: bytes after the last newline, and complete lines that are not entries (a power loss
        // can leave a zero-filled block).
        while (valid > 0) {
            int nl = lastIndexOf(data, (byte) '\n', valid - 1);
            if (nl != valid - 1) {
                valid = nl + 1;
                continue;
            }
            int start = lastIndexOf(data, (byte) '\n', valid - 2) + 1;
            try {
                Map<String, Object> m = EntryLines.parse(data, start, valid - 1 - start);
                lastSeq = EntryLines.seq(m);
                break;
            } catch (IOException e) {
                valid = start;
            }
        }
        Optional<Entry.RecoveryEntry> recovery = Optional.empty();
        if (valid < data.length) {
            Path q = dir.quarantine(last.getFileName().toString().replace(".jsonl", ""));
            try (FileChannel qc = FileChannel.open(q, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data, valid, data.length - valid);
                while (b.hasRemaining()) qc.write(b);
                qc.force(true);
            }
            dir.fsyncDir();
            try (FileChannel sc = FileChannel.open(last, StandardOpenOption.WRITE)) {
                sc.truncate(valid);
                sc.force(true);
            }
            recovery = Optional.of(new Entry.RecoveryEntry(last.getFileName().toString(), valid, data.length - valid,
                    q.getFileName().toString()));
        }
        segment = FileChannel.open(last, StandardOpenOption.WRITE);
        segment.position(valid);
        // Entries a killed process wrote but never fsynced are in the file now; make them durable before the
        // tree and a checkpoint cover them.
        segment.force(false);
        segmentBytes = valid;
        nextSeq = lastSeq + 1;
        lastMicros = 0;
        syncedCount = nextSeq;
        writtenCount = nextSeq;
        Checkpoint checkpoint = readCheckpoints();
        byte[] root = rebuildTree(segments.isEmpty() ? List.of(last) : segments, checkpoint == null ? -1 : checkpoint.size());
        if (checkpoint != null) {
            if (!Arrays.equals(root, checkpoint.root()) || !checkpoint.signedBy(key)) {
                throw new LedgerException("the log does not match its latest checkpoint (size " + checkpoint.size()
                        + "); run 'warden audit verify'");
            }
            latest = checkpoint;
        }
        checkpointLog = FileChannel.open(dir.checkpoints(), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        dir.fsyncDir();
        return recovery;
    }

    private static int lastIndexOf(byte[] b, byte v, int from) {
        for (int i = from; i >= 0; i--) if (b[i] == v) return i;
        return -1;
    }

    /**
     * Rebuilds the tree's frontier from the leaf file (recomputed from the segments when it does not match them), in
     * one sequential pass that also gives the root at {@code rootAt} entries (null when not asked for): a ledger of
     * millions of entries opens in seconds, not a read per leaf.
     */
    private byte[] rebuildTree(List<Path> segments, long rootAt) throws IOException, LedgerException {
        boolean ok = leaves.size() == nextSeq && leaves.size() * Merkle.HASH == Files.size(dir.leaves());
        if (ok && nextSeq > 0) {
            byte[] lastLine = lastLine(segments.getLast());
            ok = lastLine != null && Arrays.equals(leaves.leaf(nextSeq - 1), Merkle.leafHash(lastLine));
        }
        if (!ok) {
            leaves.truncate(0);
            byte[] buf = new byte[Merkle.HASH * 1024];
            int n = 0;
            long count = 0;
            for (Path s : segments) {
                byte[] data = Files.readAllBytes(s);
                int start = 0;
                for (int i = 0; i < data.length; i++) {
                    if (data[i] != '\n') continue;
                    System.arraycopy(Merkle.leafHash(digest, data, start, i - start), 0, buf, n, Merkle.HASH);
                    n += Merkle.HASH;
                    count++;
                    if (n == buf.length) {
                        leaves.append(buf, n);
                        n = 0;
                    }
                    start = i + 1;
                }
            }
            leaves.append(buf, n);
            if (count != nextSeq) {
                throw new LedgerException("the segments hold " + count + " entries but the last one is seq " + (nextSeq - 1)
                        + "; run 'warden audit verify'");
            }
        }
        byte[] root = rootAt == 0 ? Merkle.emptyRoot() : null;
        byte[] chunk = new byte[Merkle.HASH * 32768];
        for (long i = 0; i < nextSeq; ) {
            int k = (int) Math.min(32768, nextSeq - i);
            leaves.read(i, chunk, k);
            for (int j = 0; j < k; j++) {
                frontier.add(Arrays.copyOfRange(chunk, j * Merkle.HASH, (j + 1) * Merkle.HASH));
                if (frontier.size() == rootAt) root = frontier.root();
            }
            i += k;
        }
        hashedCount = nextSeq;
        return root;
    }

    private static byte[] lastLine(Path segment) throws IOException {
        byte[] data = Files.readAllBytes(segment);
        if (data.length == 0 || data[data.length - 1] != '\n') return null;
        int start = lastIndexOf(data, (byte) '\n', data.length - 2) + 1;
        return Arrays.copyOfRange(data, start, data.length - 1);
    }

    /** The latest whole checkpoint (a torn one after a crash is quarantined), or null; checked against the log later. */
    private Checkpoint readCheckpoints() throws IOException, LedgerException {
        Path f = dir.checkpoints();
        if (!Files.exists(f)) return null;
        String text = Files.readString(f, StandardCharsets.UTF_8);
        Checkpoint.Parsed parsed = Checkpoint.parseAll(text);
        if (parsed.problem() != null) {
            // A crash while a checkpoint was written: keep the whole ones, quarantine the rest.
            byte[] all = text.getBytes(StandardCharsets.UTF_8);
            Path q = dir.quarantine("checkpoints");
            Files.write(q, Arrays.copyOfRange(all, (int) parsed.validBytes(), all.length), StandardOpenOption.CREATE_NEW);
            try (FileChannel c = FileChannel.open(f, StandardOpenOption.WRITE)) {
                c.truncate(parsed.validBytes());
                c.force(true);
            }
        }
        if (parsed.checkpoints().isEmpty()) return null;
        Checkpoint cp = parsed.checkpoints().getLast();
        if (cp.size() > nextSeq) {
            throw new LedgerException("checkpoint " + (parsed.checkpoints().size() - 1) + " covers " + cp.size()
                    + " entries but the log holds " + nextSeq + ": entries were deleted; run 'warden audit verify'");
        }
        return cp;
    }

    // ---------------------------------------------------------------- appends

    @Override
    public boolean waitsForSync(Durability durability) {
        return durability == Durability.SYNCED || config.syncAll();
    }

    @Override
    public long append(Entry entry, Durability durability) throws LedgerException {
        if (!healthy) throw new LedgerException("the ledger failed earlier and records nothing more: " + failure);
        if (closing) throw new LedgerException("the ledger is closed");
        Prepared p;
        try {
            p = entryWriter.prepare(entry);
            if (p == null) p = Prepared.of(entry.type(), EntryBody.of(entry, redactor));
        } catch (RuntimeException e) {
            throw new LedgerException("cannot serialize the " + entry.type() + " entry: " + e.getMessage(), e);
        }
        if (durability == Durability.QUEUED && !config.syncAll()) {
            queued.add(p);
            if (dirtySince == 0) {
                dirtySince = System.nanoTime();
                LockSupport.unpark(writer);
            }
            return -1;
        }
        if (durability != Durability.SYNCED && !config.syncAll()) {
            long seq;
            boolean wake;
            lock.lock();
            try {
                if (!healthy) throw new LedgerException("the ledger failed earlier and records nothing more: " + failure);
                if (shut) throw new LedgerException("the ledger is closed");
                seq = place(p);
                if (durability == Durability.STAGED) staged = true;
                else writeBuffer();
                wake = dirtySince == 0;
                if (wake) dirtySince = System.nanoTime();
            } finally {
                lock.unlock();
            }
            if (wake) LockSupport.unpark(writer);
            return seq;
        }
        Pending pending = new Pending(p, Thread.currentThread());
        waiting.add(pending);
        LockSupport.unpark(writer);
        while (!pending.done) {
            // Bounded, so that a writer thread that died cannot leave a caller waiting for ever.
            LockSupport.parkNanos(this, 100_000_000L);
            if (closed && !pending.done) break;
        }
        if (pending.error != null) throw new LedgerException(pending.error);
        if (!pending.done) throw new LedgerException("the ledger closed before the entry was written");
        return pending.seq;
    }

    @Override
    public void writeStaged(long seq) throws LedgerException {
        if (seq < writtenCount) return;
        boolean wake;
        lock.lock();
        try {
            if (seq < writtenCount) return;
            if (!healthy) throw new LedgerException("the ledger failed before entry " + seq + " was written: " + failure);
            writeBuffer();
            // The mark set when the entry was staged may have been cleared by an fsync that did not cover it (it was
            // not in the file yet): set it again, so an fsync follows within fsync_interval.
            wake = dirtySince == 0;
            if (wake) dirtySince = System.nanoTime();
        } finally {
            lock.unlock();
        }
        if (wake) LockSupport.unpark(writer);
    }

    @Override
    public void afterSync(long seq, java.util.function.Consumer<LedgerException> then) {
        if (seq < syncedCount) {
            then.accept(null);
            return;
        }
        if (!healthy || closing) {
            then.accept(new LedgerException(!healthy ? "the ledger failed earlier and records nothing more: " + failure
                    : "the ledger is closed"));
            return;
        }
        // A barrier in the writer's next batch: it writes the buffer (the staged entry with it) and fsyncs.
        waiting.add(new Pending(null, null, then));
        LockSupport.unpark(writer);
        // The writer may have stopped meanwhile, after it released the last waiters: nobody else would now.
        if (closed) releaseWaiting("the ledger is closed");
    }

    private void releaseWaiting(String why) {
        Pending p;
        while ((p = waiting.poll()) != null) {
            p.error = why;
            p.release();
        }
    }

    /** Gives the entry its seq and puts its line in the buffer, after the lines before it. Caller holds the lock. */
    private long place(Prepared p) throws LedgerException {
        long seq = nextSeq;
        byte[] line = p.line(seq, timestamp());
        if (segmentBytes + buffer.len + line.length > config.segmentSize() && segmentBytes + buffer.len > 0) {
            writeBuffer();
            try {
                roll(seq);
            } catch (IOException e) {
                throw failed(e);
            }
        }
        buffer.add(line);
        nextSeq = seq + 1;
        unhashed.add(line);
        return seq;
    }

    /** Writes the buffer to the segment in one write. Caller holds the lock. */
    private void writeBuffer() throws LedgerException {
        int len = buffer.len;
        buffer.len = 0;
        staged = false;
        if (len > 0) {
            try {
                ByteBuffer b = ByteBuffer.wrap(buffer.buf, 0, len);
                while (b.hasRemaining()) segment.write(b);
            } catch (IOException e) {
                // Lost with the ledger, which says so from now on: writeStaged refuses every entry not written.
                throw failed(e);
            }
            segmentBytes += len;
        }
        writtenCount = nextSeq;
    }

    private LedgerException failed(IOException e) {
        fail("cannot write to " + dir.dir() + ": " + e.getMessage());
        return new LedgerException("the ledger cannot write: " + e.getMessage(), e);
    }

    private void roll(long firstSeq) throws IOException {
        segment.force(false);
        fsyncs++;
        retired.add(segment);
        Path next = dir.segment(firstSeq);
        segment = FileChannel.open(next, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        segmentBytes = 0;
        dir.fsyncDir();
    }

    /** The entry's time, UTC to the microsecond and never going back ({@code 2026-01-01T00:00:00.000001Z}). */
    private byte[] timestamp() {
        Instant now = Instant.now();
        long micros = Math.max(now.getEpochSecond() * 1_000_000L + now.getNano() / 1000, lastMicros);
        lastMicros = micros;
        long second = Math.floorDiv(micros, 1_000_000L);
        if (second != cachedSecond) {
            cachedSecond = second;
            cachedPrefix = (LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC).format(SECOND) + ".")
                    .getBytes(StandardCharsets.ISO_8859_1);
        }
        byte[] t = Arrays.copyOf(cachedPrefix, cachedPrefix.length + 7);
        long frac = Math.floorMod(micros, 1_000_000L);
        for (int i = cachedPrefix.length + 5; i >= cachedPrefix.length; i--, frac /= 10) t[i] = (byte) ('0' + frac % 10);
        t[t.length - 1] = 'Z';
        return t;
    }

    private void fail(String why) {
        if (healthy) {
            failure = why;
            healthy = false;
        }
    }

    // ---------------------------------------------------------------- the writer thread

    private static final class Batch {
        byte[] buf = new byte[64 * 1024];
        int len;

        void add(byte[] line) {
            if (len + line.length > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + line.length));
            System.arraycopy(line, 0, buf, len, line.length);
            len += line.length;
        }
    }

    private void writerLoop() {
        try {
            runWriter();
        } catch (Throwable t) {
            fail("the ledger writer stopped: " + t);
            closed = true;
            releaseWaiting("the ledger writer stopped: " + t);
        }
    }

    private void runWriter() {
        List<Pending> taken = new ArrayList<>();
        while (true) {
            Pending p;
            while ((p = waiting.poll()) != null) taken.add(p);
            long since = dirtySince;
            if (since == 0 && !queued.isEmpty()) {
                // A QUEUED append raced with the last batch clearing the mark: its interval starts now at the latest.
                since = System.nanoTime();
                dirtySince = since;
            }
            boolean due = since != 0 && System.nanoTime() - since >= config.fsyncInterval().toNanos();
            if (taken.isEmpty() && !due && !closing) {
                long wait = since != 0 ? config.fsyncInterval().toNanos() - (System.nanoTime() - since)
                        : TimeUnit.MILLISECONDS.toNanos(100);
                LockSupport.parkNanos(this, Math.max(wait, 1000));
                continue;
            }
            long before = syncedCount;
            sync(taken);
            taken.clear();
            if (syncedCount != before) LockSupport.unpark(treeThread);
            if (closing && waiting.isEmpty() && queued.isEmpty()) {
                lock.lock();
                try {
                    if (dirtySince == 0 && waiting.isEmpty() && queued.isEmpty() && !staged) break;
                } finally {
                    lock.unlock();
                }
            }
        }
        closed = true;
        releaseWaiting("the ledger closed before the entry was written");
    }

    /**
     * The tree thread: extends the tree over fsynced entries and signs checkpoints. Apart from the writer, so that
     * hashing never delays an fsync, and on the other core when there is one.
     */
    private void treeLoop() {
        try {
            while (!closed) {
                LockSupport.parkNanos(this, Math.max(1000, Math.min(TimeUnit.MILLISECONDS.toNanos(100), checkpointWait())));
                hashSynced();
                maybeCheckpoint(takeForce());
            }
            hashSynced();
            maybeCheckpoint(true);
        } catch (Throwable t) {
            fail("the ledger tree stopped: " + t);
        }
    }

    private long checkpointWait() {
        long left = config.checkpointInterval().toNanos() - (System.nanoTime() - lastCheckpointNanos);
        return frontier.size() > (latest == null ? 0 : latest.size()) ? Math.max(left, 0) : Long.MAX_VALUE;
    }

    /** Writes the waiting entries in one write, then one fsync covers them and every WRITTEN entry before. */
    private void sync(List<Pending> taken) {
        if (taken.isEmpty() && queued.isEmpty() && !staged) {
            syncWritten();
            return;
        }
        FileChannel ch;
        long target;
        String error = null;
        lock.lock();
        try {
            for (FileChannel r : retired) closeQuietly(r);
            retired.clear();
            if (!healthy) {
                error = "the ledger failed earlier and records nothing more: " + failure;
            } else {
                try {
                    Prepared q;
                    while ((q = queued.poll()) != null) place(q);
                    for (Pending p : taken) if (p.prepared != null) p.seq = place(p.prepared);
                    writeBuffer();
                } catch (LedgerException e) {
                    error = e.getMessage();
                }
            }
            buffer.len = 0;
            staged = false;
            // Entries the ledger can no longer write are lost with it (it is unhealthy, and says so); keeping them
            // queued would keep the writer, and close, waiting for ever.
            if (error != null) queued.clear();
            ch = segment;
            target = nextSeq;
            dirtySince = 0;
        } finally {
            lock.unlock();
        }
        if (error == null) {
            try {
                long t0 = System.nanoTime();
                ch.force(false);
                long took = System.nanoTime() - t0;
                fsyncNanos += took;
                dev.warden.core.metrics.Metrics.shared().ledgerFsync(took);
                fsyncs++;
                syncedCount = target;
            } catch (IOException e) {
                fail("fsync failed: " + e.getMessage());
                error = "the ledger cannot fsync: " + e.getMessage();
            }
        }
        for (Pending p : taken) {
            p.error = error;
            p.release();
        }
    }

    /**
     * The fsync that bounds how long a WRITTEN entry waits, without taking the lock (appenders hold it briefly but
     * often; under contention a writer waiting for it could miss the bound). Order matters: clear the dirty mark,
     * then read the count, then the channel. An entry counted here is in that channel, or in a segment that was
     * forced when it rolled; an entry written later sees the cleared mark and sets it again.
     */
    private void syncWritten() {
        dirtySince = 0;
        long target = writtenCount;
        FileChannel ch = segment;
        if (!healthy) return;
        try {
            long t0 = System.nanoTime();
            ch.force(false);
            long took = System.nanoTime() - t0;
            fsyncNanos += took;
            dev.warden.core.metrics.Metrics.shared().ledgerFsync(took);
            fsyncs++;
            if (target > syncedCount) syncedCount = target;
        } catch (java.nio.channels.ClosedChannelException e) {
            // Rolled and closed meanwhile: it was forced before it was retired.
            if (target > syncedCount) syncedCount = target;
        } catch (IOException e) {
            fail("fsync failed: " + e.getMessage());
        }
    }

    private byte[] hashBuf = new byte[Merkle.HASH * 256];

    /** Extends the tree over the entries that are fsynced, never beyond. */
    private void hashSynced() {
        long upTo = syncedCount;
        int n = 0;
        try {
            while (frontier.size() < upTo) {
                byte[] line = unhashed.poll();
                if (line == null) break;
                byte[] h = Merkle.leafHash(digest, line, 0, line.length - 1);
                frontier.add(h);
                if (n == hashBuf.length) {
                    leaves.append(hashBuf, n);
                    n = 0;
                }
                System.arraycopy(h, 0, hashBuf, n, Merkle.HASH);
                n += Merkle.HASH;
            }
            leaves.append(hashBuf, n);
            hashedCount = frontier.size();
        } catch (IOException e) {
            // The side file can be rebuilt; the tree in memory is right. Rebuilt at the next open.
        }
    }

    private void maybeCheckpoint(boolean force) {
        long size = frontier.size();
        long last = latest == null ? -1 : latest.size();
        if (size == 0 || size <= last) return;
        if (!force && System.nanoTime() - lastCheckpointNanos < config.checkpointInterval().toNanos()) return;
        if (!healthy && !force) return;
        lastCheckpointNanos = System.nanoTime();
        Checkpoint cp = Checkpoint.sign(key, origin, size, frontier.root());
        try {
            ByteBuffer b = ByteBuffer.wrap((cp.note() + "\n").getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) checkpointLog.write(b);
            checkpointLog.force(false);
            latest = cp;
        } catch (IOException e) {
            fail("cannot write a checkpoint: " + e.getMessage());
            return;
        }
        for (Witness w : witnesses) {
            if (w instanceof Witness.HttpWitness) {
                Thread.ofVirtual().name("ledger-witness").start(() -> pushTo(w, cp));
            } else {
                pushTo(w, cp);
            }
        }
    }

    /**
     * Pushes a checkpoint to a witness. A failure does not stop the ledger (the next checkpoint tries again), but it
     * is said at once: the guarantees a witness gives (truncation, a rewritten log) lapse while it takes nothing.
     */
    private void pushTo(Witness w, Checkpoint cp) {
        String prefix = w.describe() + ":";
        try {
            w.push(cp, this::consistencyProof);
            if (witnessProblems.removeIf(s -> s.startsWith(prefix))) {
                LOG.log(System.Logger.Level.INFO, "warden: the ledger witness " + w.describe() + " took checkpoint "
                        + cp.size() + " again");
            }
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            boolean first = !witnessProblems.removeIf(s -> s.startsWith(prefix));
            witnessProblems.add(prefix + " " + why);
            if (first) {
                LOG.log(System.Logger.Level.WARNING, "warden: the ledger witness " + w.describe() + " did not take"
                        + " checkpoint " + cp.size() + " (" + why + "); its guarantees lapse until it takes one again"
                        + " (tried with every checkpoint)");
            }
        }
    }

    private static void closeQuietly(FileChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // already forced when it was retired
        }
    }

    // ---------------------------------------------------------------- state and reading

    @Override
    public boolean healthy() {
        return healthy && !closed;
    }

    /** Why the ledger is unhealthy, or empty. */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /** Witnesses whose last push failed, with the reason. */
    public List<String> witnessProblems() {
        return List.copyOf(witnessProblems);
    }

    /** Entries written so far (the next seq). */
    public long size() {
        lock.lock();
        try {
            return nextSeq;
        } finally {
            lock.unlock();
        }
    }

    /** The latest signed checkpoint, if any. */
    public Optional<Checkpoint> latestCheckpoint() {
        return Optional.ofNullable(latest);
    }

    /** How many fsyncs of segment files so far. */
    public long fsyncs() {
        return fsyncs;
    }

    /** Time spent in those fsyncs, in nanoseconds (the writer's own, not counting segment rolls). */
    public long fsyncNanos() {
        return fsyncNanos;
    }

    public LedgerDir dir() {
        return dir;
    }

    public String verifierKey() {
        return key.verifierKey();
    }

    /** Blocks until every entry appended so far is fsynced and in a signed checkpoint. */
    public Checkpoint checkpointNow() throws LedgerException {
        long target = size();
        Pending marker = new Pending(null, Thread.currentThread());
        synchronized (this) {
            if (target > wantCheckpoint) wantCheckpoint = target;
        }
        waiting.add(marker);
        LockSupport.unpark(writer);
        while (!marker.done && !closed) LockSupport.parkNanos(this, 100_000_000L);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((latest == null || latest.size() < target) && System.nanoTime() < deadline) {
            LockSupport.unpark(treeThread);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        if (latest == null || latest.size() < target) throw new LedgerException("no checkpoint was written: " + failure);
        return latest;
    }

    private volatile long wantCheckpoint;
    private boolean shut;

    /** True when {@link #checkpointNow} waits for a checkpoint the tree can now give. */
    private boolean takeForce() {
        long w = wantCheckpoint;
        return w > 0 && frontier.size() >= w && (latest == null || latest.size() < w);
    }

    /** The tree the writer has built (fsynced entries only), for proofs while the ledger runs. */
    public Merkle tree() {
        return new Merkle(new Merkle.Leaves() {
            final long size = Math.min(leaves.size(), hashedCount);

            @Override public long size() { return size; }

            @Override public byte[] leaf(long index) { return leaves.leaf(index); }
        });
    }

    private List<byte[]> consistencyProof(long from, long to) {
        return tree().consistency(from, to);
    }

    @Override
    public void close() {
        if (closing) {
            joinWriter();
            return;
        }
        closing = true;
        LockSupport.unpark(writer);
        joinWriter();
        lock.lock();
        try {
            shut = true;
            try {
                segment.force(false);
            } catch (IOException e) {
                fail("fsync at close failed: " + e.getMessage());
            }
            for (FileChannel r : retired) closeQuietly(r);
            closeQuietly(segment);
            closeQuietly(checkpointLog);
        } finally {
            lock.unlock();
        }
        leaves.close();
        writerLock.close();
    }

    private void joinWriter() {
        try {
            writer.join();
            LockSupport.unpark(treeThread);
            treeThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- pieces

    /** An entry (or none: a barrier) waiting for the writer's next fsync; a thread to wake, or a callback to run. */
    private static final class Pending {
        final Prepared prepared;
        final Thread waiter;
        final java.util.function.Consumer<LedgerException> then;
        volatile boolean done;
        volatile long seq = -1;
        volatile String error;

        Pending(Prepared prepared, Thread waiter) {
            this(prepared, waiter, null);
        }

        Pending(Prepared prepared, Thread waiter, java.util.function.Consumer<LedgerException> then) {
            this.prepared = prepared;
            this.waiter = waiter;
            this.then = then;
        }

        void release() {
            done = true;
            if (then == null) {
                LockSupport.unpark(waiter);
                return;
            }
            try {
                then.accept(error == null ? null : new LedgerException(error));
            } catch (RuntimeException e) {
                // A caller's failure is the caller's: it must not stop the writer every other caller waits on.
            }
        }
    }

    /**
     * An entry serialized up to its seq and time, which are only known under the lock: the canonical bytes before
     * {@code "seq"}, between {@code "seq"} and {@code "time"}, and after {@code "time"} (keys sorted).
     */
    record Prepared(byte[] bytes, int cut1, int cut2) {
        static Prepared of(String type, Map<String, Object> body) {
            String[] keys = CanonicalJson.sortedKeys(body);
            // Keys in order: those before "seq", then up to "time", then the rest around "type"; one builder, two cuts.
            StringBuilder sb = new StringBuilder(1024).append('{');
            int cut1 = -1;
            int cut2 = -1;
            boolean typeDone = false;
            boolean first = true;
            for (String k : keys) {
                if (cut1 < 0 && k.compareTo("seq") > 0) {
                    sb.append(first ? "\"seq\":" : ",\"seq\":");
                    cut1 = sb.length();
                    first = false;
                }
                if (cut2 < 0 && k.compareTo("time") > 0) {
                    sb.append(",\"time\":\"");
                    cut2 = sb.length();
                    sb.append('"');
                }
                if (!typeDone && k.compareTo("type") > 0) {
                    typeDone = true;
                    sb.append(",\"type\":");
                    CanonicalJson.string(sb, type);
                }
                if (!first) sb.append(',');
                first = false;
                CanonicalJson.string(sb, k);
                sb.append(':');
                CanonicalJson.write(sb, body.get(k));
            }
            if (cut1 < 0) {
                sb.append(first ? "\"seq\":" : ",\"seq\":");
                cut1 = sb.length();
            }
            if (cut2 < 0) {
                sb.append(",\"time\":\"");
                cut2 = sb.length();
                sb.append('"');
            }
            if (!typeDone) {
                sb.append(",\"type\":");
                CanonicalJson.string(sb, type);
            }
            sb.append("}\n");
            return of(sb.toString(), cut1, cut2);
        }

        /** A serialized line with its two cuts given as char offsets. */
        static Prepared of(String text, int cut1, int cut2) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            if (bytes.length != text.length()) {
                cut1 = text.substring(0, cut1).getBytes(StandardCharsets.UTF_8).length;
                cut2 = text.substring(0, cut2).getBytes(StandardCharsets.UTF_8).length;
            }
            return new Prepared(bytes, cut1, cut2);
        }

        /** The line with its seq and time put in at the two cuts. */
        byte[] line(long seq, byte[] time) {
            int digits = 1;
            for (long x = seq; x >= 10; x /= 10) digits++;
            byte[] out = new byte[bytes.length + digits + time.length];
            System.arraycopy(bytes, 0, out, 0, cut1);
            for (int i = cut1 + digits - 1; i >= cut1; i--, seq /= 10) out[i] = (byte) ('0' + seq % 10);
            System.arraycopy(bytes, cut1, out, cut1 + digits, cut2 - cut1);
            System.arraycopy(time, 0, out, cut2 + digits, time.length);
            System.arraycopy(bytes, cut2, out, cut2 + digits + time.length, bytes.length - cut2);
            return out;
        }
    }
}
