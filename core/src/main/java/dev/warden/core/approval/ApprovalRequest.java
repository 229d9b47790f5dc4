package dev.warden.core.approval;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import java.time.Instant;
import java.util.List;

/**
 * A request for a person to allow one exact operation.
 *
 * @param id          opaque, unguessable id
 * @param operation   the exact operation (agent, database, engine, text, parameters, stated reason)
 * @param hash        {@link Operation#statementHash()}: what an approval binds
 * @param decision    the {@code approve} decision with the rule and its {@link dev.warden.core.ApprovalSpec}
 * @param created     when it was opened
 * @param expires     pending: when it times out; approved: when the approval lapses
 * @param approvedBy  approvers who said yes so far
 * @param decidedBy   who decided it last, or {@code null}
 * @param comment     the deciding approver's comment, or {@code null}
 * @param inTransaction the statement waits inside an open transaction block (its locks are held meanwhile)
 */
public record ApprovalRequest(String id, Operation operation, String hash, Classification classification,
                              Decision decision, Instant created, Instant expires, Status status,
                              List<String> approvedBy, String decidedBy, String comment, boolean inTransaction) {
    public enum Status { PENDING, APPROVED, DENIED, EXPIRED, USED }

    public ApprovalRequest {
        approvedBy = List.copyOf(approvedBy);
    }
}
