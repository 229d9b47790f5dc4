package dev.warden.core.approval;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.LedgerException;
import dev.warden.core.metrics.Metrics;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Approval requests kept in memory and, one JSON file each, under {@code <data_dir>/approvals/}. Every change is
 * written to a temporary file, fsynced and renamed over the old one, so a crash leaves either the old or the new
 * state. Every event is an {@link Entry.ApprovalEntry} in the ledger, synced; an approval is recorded before it can
 * be used, and if the ledger cannot record it nothing changes.
 *
 * <p>At start, requests that a previous Warden held on the wire ({@code hold} mode, pending or approved but not yet
 * used) are denied: the session that waited for them is gone, and nothing may run on their strength later.
 * {@code ticket} requests survive a restart as they were.
 */
public final class FileApprovals implements Approvals, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(FileApprovals.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int MAX_COMMENT = 1000;
    static final String WARDEN = "warden";
    /** Finished requests older than this are dropped at start; the ledger keeps their every event. */
    static final Duration RETENTION = Duration.ofDays(30);

    private final Path dir;
    private final Ledger ledger;
    private final Approvers approvers;
    private final Clock clock;
    private final Metrics metrics;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, ApprovalRequest> requests = new LinkedHashMap<>();
    private final List<Consumer<ApprovalEvent>> subscribers = new CopyOnWriteArrayList<>();
    private final Thread sweeper;
    private volatile boolean closed;

    private FileApprovals(Path dir, Ledger ledger, Approvers approvers, Clock clock, Metrics metrics) {
        this.dir = dir;
        this.ledger = ledger;
        this.approvers = approvers;
        this.clock = clock;
        this.metrics = metrics;
        this.sweeper = Thread.ofVirtual().name("approvals-sweeper").unstarted(this::sweepLoop);
    }

    /** Opens the store under {@code <dataDir>/approvals}, recovering what a previous run left. */
    public static FileApprovals open(Path dataDir, Ledger ledger, Approvers approvers) throws IOException {
        return open(dataDir, ledger, approvers, Clock.systemUTC(), Metrics.shared());
    }

    public static FileApprovals open(Path dataDir, Ledger ledger, Approvers approvers, Clock clock, Metrics metrics)
            throws IOException {
        Path dir = dataDir.resolve("approvals");
        Files.createDirectories(dir);
        FileApprovals a = new FileApprovals(dir, ledger, approvers, clock, metrics);
        a.recover();
        metrics.gauge("warden_pending_requests", a::pendingCount);
        a.sweeper.start();
        return a;
    }

    private void recover() throws IOException {
        List<ApprovalRequest> loaded = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : files) {
                try {
                    loaded.add(ApprovalJson.read(JSON.readValue(f.toFile(), new TypeReference<Map<String, Object>>() {})));
                } catch (IOException | RuntimeException e) {
                    // An unreadable request cannot be approved or used; keep it aside for a person to look at.
                    Path aside = f.resolveSibling(f.getFileName() + ".unreadable");
                    Files.move(f, aside, StandardCopyOption.REPLACE_EXISTING);
                    LOG.log(System.Logger.Level.WARNING, "approval request " + f + " is unreadable (" + e.getMessage()
                            + "); moved to " + aside + "; it can never be used");
                }
            }
        }
        loaded.sort(Comparator.comparing(ApprovalRequest::created));
        Instant now = clock.instant();
        for (ApprovalRequest r : loaded) {
            boolean finished = r.status() == ApprovalRequest.Status.DENIED || r.status() == ApprovalRequest.Status.EXPIRED
                    || r.status() == ApprovalRequest.Status.USED;
            if (finished && r.created().isBefore(now.minus(RETENTION))) {
                Files.deleteIfExists(dir.resolve(r.id() + ".json"));
                continue;
            }
            boolean live = r.status() == ApprovalRequest.Status.PENDING || r.status() == ApprovalRequest.Status.APPROVED;
            if (live && r.decision().approval().mode() == ApprovalSpec.Mode.HOLD) {
                // Persist the denial before recording it: if the ledger is down, the request must still never run.
                r = with(r, ApprovalRequest.Status.DENIED, r.expires(), r.approvedBy(), WARDEN,
                        "Warden restarted while the statement was held; the statement did not run");
                write(r);
                recordQuietly(r, null, "denied", r.comment());
            } else if (live && !now.isBefore(r.expires())) {
                r = with(r, ApprovalRequest.Status.EXPIRED, r.expires(), r.approvedBy(), r.decidedBy(), r.comment());
                write(r);
                recordQuietly(r, null, "expired", "expired while Warden was stopped");
            }
            requests.put(r.id(), r);
        }
    }

    @Override
    public ApprovalRequest open(Operation operation, Classification classification, Decision decision, boolean inTransaction) {
        Instant now = clock.instant();
        ApprovalSpec spec = decision.approval();
        ApprovalRequest r = new ApprovalRequest(newId(), operation, operation.statementHash(), classification, decision,
                now, now.plus(spec.timeout()), ApprovalRequest.Status.PENDING, List.of(), null, null, inTransaction, List.of());
        lock.lock();
        try {
            record(r, null, "requested", null);
            write(r);
            requests.put(r.id(), r);
        } finally {
            lock.unlock();
        }
        publish(new ApprovalEvent("requested", r, operation.agent()));
        return r;
    }

    @Override
    public Optional<ApprovalRequest> redeem(Operation operation, dev.warden.core.Classification c) {
        String hash = operation.statementHash();
        ApprovalRequest used = null;
        lock.lock();
        try {
            Instant now = clock.instant();
            for (ApprovalRequest r : requests.values()) {
                if (r.status() == ApprovalRequest.Status.APPROVED
                        && r.decision().approval().mode() == ApprovalSpec.Mode.TICKET
                        && r.operation().agent().equals(operation.agent())
                        && r.operation().database().equals(operation.database())
                        && r.operation().engine().equals(operation.engine())
                        && r.hash().equals(hash)
                        && r.sameEffect(c)
                        && now.isBefore(r.expires())) {
                    used = transition(r, ApprovalRequest.Status.USED, r.expires(), r.approvedBy(), r.decidedBy(), r.comment(),
                            null, "used", "redeemed by session " + operation.sessionId());
                    break;
                }
            }
        } catch (IllegalStateException e) {
            // The use could not be recorded: the statement does not run.
            LOG.log(System.Logger.Level.ERROR, "approval could not be redeemed: " + e.getMessage());
            return Optional.empty();
        } finally {
            lock.unlock();
        }
        if (used == null) return Optional.empty();
        publish(new ApprovalEvent("used", used, operation.agent()));
        return Optional.of(used);
    }

    @Override
    public ApprovalRequest await(String id, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<ApprovalEvent> events = new ArrayList<>();
        metrics.heldStarted();
        lock.lock();
        try {
            while (true) {
                ApprovalRequest r = requests.get(id);
                if (r == null) throw new IllegalArgumentException("no approval request " + id);
                switch (r.status()) {
                    case APPROVED -> {
                        try {
                            ApprovalRequest used = transition(r, ApprovalRequest.Status.USED, r.expires(), r.approvedBy(),
                                    r.decidedBy(), r.comment(), null, "used", "ran on the held session " + r.operation().sessionId());
                            events.add(new ApprovalEvent("used", used, r.operation().agent()));
                            return used;
                        } catch (IllegalStateException e) {
                            ApprovalRequest refused = with(r, ApprovalRequest.Status.DENIED, r.expires(), r.approvedBy(), WARDEN,
                                    "the ledger cannot record the use of the approval");
                            requests.put(id, refused);
                            writeQuietly(refused);
                            return refused;
                        }
                    }
                    case PENDING -> {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            ApprovalRequest e = expire(r, "no decision within " + timeout.toSeconds() + "s");
                            events.add(new ApprovalEvent("expired", e, null));
                            return e;
                        }
                        try {
                            changed.awaitNanos(left);
                        } catch (InterruptedException ie) {
                            ApprovalRequest now = requests.get(id);
                            if (now.status() == ApprovalRequest.Status.PENDING || now.status() == ApprovalRequest.Status.APPROVED) {
                                ApprovalRequest e = expire(now, "the held session ended before the statement ran");
                                events.add(new ApprovalEvent("expired", e, null));
                            }
                            throw ie;
                        }
                    }
                    default -> {
                        return r;
                    }
                }
            }
        } finally {
            lock.unlock();
            metrics.heldEnded();
            events.forEach(this::publish);
        }
    }

    @Override
    public ApprovalRequest decide(String id, String approver, boolean approve, String comment) {
        if (approvers.isAgent(approver)) throw new IllegalArgumentException("an agent identity can never approve or deny");
        if (!approvers.mayDecide(approver)) throw new IllegalArgumentException("'" + approver + "' is not a configured approver");
        String note = cleanComment(comment);
        ApprovalRequest result;
        ApprovalEvent lapsed = null;
        lock.lock();
        try {
            ApprovalRequest r = requests.get(id);
            if (r == null) throw new IllegalArgumentException("no approval request " + id);
            Instant now = clock.instant();
            if (r.status() == ApprovalRequest.Status.PENDING && !now.isBefore(r.expires())) {
                lapsed = new ApprovalEvent("expired", expire(r, "no decision in time"), null);
                throw new IllegalStateException("request " + id + " has expired");
            }
            if (r.status() != ApprovalRequest.Status.PENDING) {
                throw new IllegalStateException("request " + id + " is already " + r.status().name().toLowerCase());
            }
            if (approve) {
                if (r.approvedBy().contains(approver)) {
                    throw new IllegalStateException("request " + id + " is already approved by " + approver
                            + "; rule \"" + r.decision().rule() + "\" needs " + r.decision().approval().approvers() + " different approvers");
                }
                List<String> by = new ArrayList<>(r.approvedBy());
                by.add(approver);
                boolean enough = by.size() >= r.decision().approval().approvers();
                result = transition(r.withComment(approver, note), enough ? ApprovalRequest.Status.APPROVED : ApprovalRequest.Status.PENDING,
                        enough ? now.plus(r.decision().approval().validFor()) : r.expires(), by, approver, note,
                        approver, "approved", note);
            } else {
                result = transition(r.withComment(approver, note), ApprovalRequest.Status.DENIED, r.expires(), r.approvedBy(), approver, note,
                        approver, "denied", note);
            }
        } finally {
            lock.unlock();
            if (lapsed != null) publish(lapsed);
        }
        publish(new ApprovalEvent(approve ? "approved" : "denied", result, approver));
        return result;
    }

    /**
     * Denies every pending request of an agent (its kill switch was thrown); returns how many. Held statements
     * waiting for them are refused at once.
     */
    @Override
    public int denyAllOf(String agent, String by, String comment) {
        List<ApprovalRequest> denied = new ArrayList<>();
        lock.lock();
        try {
            for (ApprovalRequest r : List.copyOf(requests.values())) {
                if (r.operation().agent().equals(agent)
                        && (r.status() == ApprovalRequest.Status.PENDING || r.status() == ApprovalRequest.Status.APPROVED)) {
                    String note = cleanComment(comment);
                    ApprovalRequest d = with(r.withComment(by, note), ApprovalRequest.Status.DENIED, r.expires(), r.approvedBy(), by, note);
                    // Deny even when the ledger cannot say so: refusing is the safe side.
                    writeQuietly(d);
                    requests.put(d.id(), d);
                    recordQuietly(d, by, "denied", d.comment());
                    denied.add(d);
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        denied.forEach(d -> publish(new ApprovalEvent("denied", d, by)));
        return denied.size();
    }

    @Override
    public Optional<ApprovalRequest> get(String id) {
        lock.lock();
        try {
            return Optional.ofNullable(requests.get(id));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<ApprovalRequest> list() {
        lock.lock();
        try {
            List<ApprovalRequest> all = new ArrayList<>(requests.values());
            all.sort(Comparator.comparing(ApprovalRequest::created).reversed());
            return all;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public AutoCloseable subscribe(Consumer<ApprovalEvent> subscriber) {
        subscribers.add(subscriber);
        return () -> subscribers.remove(subscriber);
    }

    public long pendingCount() {
        lock.lock();
        try {
            return requests.values().stream().filter(r -> r.status() == ApprovalRequest.Status.PENDING).count();
        } finally {
            lock.unlock();
        }
    }

    /** Expires pending requests past their timeout and approvals past their validity. Runs every second. */
    public void sweep() {
        List<ApprovalEvent> events = new ArrayList<>();
        lock.lock();
        try {
            Instant now = clock.instant();
            for (ApprovalRequest r : List.copyOf(requests.values())) {
                boolean live = r.status() == ApprovalRequest.Status.PENDING || r.status() == ApprovalRequest.Status.APPROVED;
                if (live && !now.isBefore(r.expires())) {
                    events.add(new ApprovalEvent("expired", expire(r, r.status() == ApprovalRequest.Status.APPROVED
                            ? "the approval lapsed unused" : "no decision in time"), null));
                }
            }
        } finally {
            lock.unlock();
        }
        events.forEach(this::publish);
    }

    private void sweepLoop() {
        while (!closed) {
            try {
                Thread.sleep(1000);
                sweep();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "approval sweep failed: " + e);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        sweeper.interrupt();
    }

    // --- inside the lock ---

    /** Records, then stores, then makes visible. Throws {@link IllegalStateException} when it cannot record or store. */
    private ApprovalRequest transition(ApprovalRequest r, ApprovalRequest.Status status, Instant expires, List<String> approvedBy,
                                       String decidedBy, String comment, String actor, String verdict, String entryComment) {
        ApprovalRequest next = with(r, status, expires, approvedBy, decidedBy, comment);
        record(next, actor, verdict, entryComment);
        write(next);
        requests.put(next.id(), next);
        changed.signalAll();
        return next;
    }

    /** Expiry always takes effect, even when the ledger cannot record it: a lapsed request must not run. */
    private ApprovalRequest expire(ApprovalRequest r, String why) {
        ApprovalRequest e = with(r, ApprovalRequest.Status.EXPIRED, r.expires(), r.approvedBy(), r.decidedBy(), why);
        writeQuietly(e);
        requests.put(e.id(), e);
        recordQuietly(e, null, "expired", why);
        changed.signalAll();
        return e;
    }

    private void record(ApprovalRequest r, String approver, String verdict, String comment) {
        try {
            ledger.append(new Entry.ApprovalEntry(r.id(), r.hash(), approver, verdict, comment), Durability.SYNCED);
            metrics.approvalEvent(verdict);
        } catch (LedgerException | RuntimeException e) {
            throw new IllegalStateException("the ledger cannot record the " + verdict + " event of request " + r.id()
                    + "; nothing changed: " + e.getMessage(), e);
        }
    }

    private void recordQuietly(ApprovalRequest r, String approver, String verdict, String comment) {
        try {
            record(r, approver, verdict, comment);
        } catch (IllegalStateException e) {
            LOG.log(System.Logger.Level.ERROR, e.getMessage());
        }
    }

    private void write(ApprovalRequest r) {
        try {
            Path tmp = dir.resolve(r.id() + ".json.tmp");
            byte[] bytes = JSON.writeValueAsBytes(ApprovalJson.write(r));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(bytes));
                ch.force(true);
            }
            Path target = dir.resolve(r.id() + ".json");
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException ignored) {
                // Not every file system lets a directory be synced; the rename is still atomic.
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot store approval request " + r.id() + ": " + e.getMessage(), e);
        }
    }

    private void writeQuietly(ApprovalRequest r) {
        try {
            write(r);
        } catch (IllegalStateException e) {
            LOG.log(System.Logger.Level.ERROR, e.getMessage());
        }
    }

    // --- events ---

    private void publish(ApprovalEvent e) {
        for (Consumer<ApprovalEvent> s : subscribers) {
            try {
                s.accept(e);
            } catch (RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "approval event subscriber failed: " + ex);
            }
        }
    }

    private static ApprovalRequest with(ApprovalRequest r, ApprovalRequest.Status status, Instant expires,
                                        List<String> approvedBy, String decidedBy, String comment) {
        return new ApprovalRequest(r.id(), r.operation(), r.hash(), r.classification(), r.decision(), r.created(),
                expires, status, approvedBy, decidedBy, comment, r.inTransaction(), r.comments());
    }

    private static String cleanComment(String comment) {
        if (comment == null || comment.isBlank()) return null;
        String c = comment.strip();
        return c.length() > MAX_COMMENT ? c.substring(0, MAX_COMMENT) : c;
    }

    /** 120 random bits in lower-case base32: unguessable, and safe in a file name and a URL. */
    static String newId() {
        byte[] b = new byte[15];
        RANDOM.nextBytes(b);
        String alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
        StringBuilder s = new StringBuilder("r");
        int buffer = 0, bits = 0;
        for (byte x : b) {
            buffer = (buffer << 8) | (x & 0xff);
            bits += 8;
            while (bits >= 5) {
                s.append(alphabet.charAt((buffer >>> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        return s.toString();
    }
}
