package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvals;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/** An in-memory approval store for the front-end tests (the real one has its own module and tests). */
final class TestApprovals implements Approvals {
    private final Map<String, ApprovalRequest> requests = new ConcurrentHashMap<>();

    @Override
    public synchronized ApprovalRequest open(Operation op, Classification c, Decision d, boolean inTransaction) {
        ApprovalRequest r = new ApprovalRequest(UUID.randomUUID().toString(), op, op.statementHash(), c, d, Instant.now(),
                Instant.now().plus(d.approval().timeout()), ApprovalRequest.Status.PENDING, List.of(), null, null, inTransaction, List.of());
        requests.put(r.id(), r);
        notifyAll();
        return r;
    }

    @Override
    public Optional<ApprovalRequest> redeem(Operation operation, dev.warden.core.Classification c) {
        return Optional.empty();
    }

    @Override
    public synchronized ApprovalRequest await(String id, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (requests.get(id).status() == ApprovalRequest.Status.PENDING) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                set(id, ApprovalRequest.Status.EXPIRED, null);
                break;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        ApprovalRequest r = requests.get(id);
        if (r.status() == ApprovalRequest.Status.APPROVED) set(id, ApprovalRequest.Status.USED, r.decidedBy());
        return r;
    }

    @Override
    public synchronized ApprovalRequest decide(String id, String approver, boolean approve, String comment) {
        ApprovalRequest r = set(id, approve ? ApprovalRequest.Status.APPROVED : ApprovalRequest.Status.DENIED, approver);
        notifyAll();
        return r;
    }

    private ApprovalRequest set(String id, ApprovalRequest.Status s, String by) {
        ApprovalRequest r = requests.get(id);
        ApprovalRequest n = new ApprovalRequest(r.id(), r.operation(), r.hash(), r.classification(), r.decision(), r.created(),
                r.expires(), s, by == null ? List.of() : List.of(by), by, null, r.inTransaction(), r.comments());
        requests.put(id, n);
        return n;
    }

    /** Waits until a request is pending and returns it. */
    synchronized ApprovalRequest awaitPending(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (ApprovalRequest r : requests.values()) if (r.status() == ApprovalRequest.Status.PENDING) return r;
            long left = deadline - System.nanoTime();
            if (left <= 0) throw new AssertionError("no approval request was opened");
            wait(Math.max(1, left / 1_000_000));
        }
    }

    @Override
    public Optional<ApprovalRequest> get(String id) {
        return Optional.ofNullable(requests.get(id));
    }

    @Override
    public List<ApprovalRequest> list() {
        return new ArrayList<>(requests.values());
    }
}
