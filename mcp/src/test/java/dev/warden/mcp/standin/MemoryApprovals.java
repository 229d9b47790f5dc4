package dev.warden.mcp.standin;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.approval.Approvals;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * TEST STAND-IN until the approvals store (the approvals issue) is in main: the {@link Approvals} contract in memory,
 * single-use and bound to agent, database and statement hash.
 */
public final class MemoryApprovals implements Approvals {
    private final Map<String, ApprovalRequest> byId = new LinkedHashMap<>();

    @Override
    public synchronized ApprovalRequest open(Operation op, Classification c, Decision d, boolean inTransaction) {
        Instant now = Instant.now();
        ApprovalRequest r = new ApprovalRequest(UUID.randomUUID().toString(), op, op.statementHash(), c, d, now,
                now.plus(d.approval().timeout()), Status.PENDING, List.of(), null, null, inTransaction);
        byId.put(r.id(), r);
        return r;
    }

    @Override
    public synchronized Optional<ApprovalRequest> redeem(Operation op, dev.warden.core.Classification c) {
        String hash = op.statementHash();
        for (ApprovalRequest r : byId.values()) {
            if (r.status() == Status.APPROVED && r.operation().agent().equals(op.agent())
                    && r.operation().database().equals(op.database()) && r.hash().equals(hash) && r.sameEffect(c)
                    && r.expires().isAfter(Instant.now())) {
                ApprovalRequest used = with(r, Status.USED, r.decidedBy(), r.comment(), r.approvedBy(), r.expires());
                byId.put(r.id(), used);
                return Optional.of(used);
            }
        }
        return Optional.empty();
    }

    @Override
    public ApprovalRequest await(String id, Duration timeout) {
        throw new UnsupportedOperationException("the MCP server never holds");
    }

    @Override
    public synchronized ApprovalRequest decide(String id, String approver, boolean approve, String comment) {
        ApprovalRequest r = byId.get(id);
        if (r == null) throw new IllegalArgumentException("no request " + id);
        if (r.status() != Status.PENDING) throw new IllegalStateException("request " + id + " is " + r.status());
        List<String> by = new ArrayList<>(r.approvedBy());
        if (approve) by.add(approver);
        ApprovalRequest next = with(r, approve ? Status.APPROVED : Status.DENIED, approver, comment, by,
                approve ? Instant.now().plus(r.decision().approval().validFor()) : r.expires());
        byId.put(id, next);
        return next;
    }

    @Override
    public synchronized Optional<ApprovalRequest> get(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    @Override
    public synchronized List<ApprovalRequest> list() {
        return List.copyOf(byId.values());
    }

    private static ApprovalRequest with(ApprovalRequest r, Status s, String by, String comment, List<String> approvedBy, Instant expires) {
        return new ApprovalRequest(r.id(), r.operation(), r.hash(), r.classification(), r.decision(), r.created(),
                expires, s, approvedBy, by, comment, r.inTransaction());
    }
}
