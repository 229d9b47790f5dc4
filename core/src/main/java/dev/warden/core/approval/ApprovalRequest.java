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
 * @param comment     the deciding approver's comment (or why it expired), or {@code null}
 * @param inTransaction something of the statement's transaction is, or may be, on the server while it waits (a
 *                    transaction block, or what a pipeline sent before it): its locks are held meanwhile
 * @param comments    every approver's comment, in the order given: under a rule that asks two approvers, the second
 *                    sees why the first said yes
 */
public record ApprovalRequest(String id, Operation operation, String hash, Classification classification,
                              Decision decision, Instant created, Instant expires, Status status,
                              List<String> approvedBy, String decidedBy, String comment, boolean inTransaction,
                              List<ApproverComment> comments) {
    public enum Status { PENDING, APPROVED, DENIED, EXPIRED, USED }

    /** What one approver wrote when deciding. */
    public record ApproverComment(String by, String comment) {}

    public ApprovalRequest {
        approvedBy = List.copyOf(approvedBy);
        comments = comments == null ? List.of() : List.copyOf(comments);
    }

    /** This request with {@code by}'s comment added (unchanged when there is none). */
    public ApprovalRequest withComment(String by, String comment) {
        if (comment == null) return this;
        List<ApproverComment> all = new java.util.ArrayList<>(comments);
        all.add(new ApproverComment(by, comment));
        return new ApprovalRequest(id, operation, hash, classification, decision, created, expires, status, approvedBy,
                decidedBy, this.comment, inTransaction, all);
    }

    /**
     * Whether a statement classified as {@code c} does what the approver saw: per statement the same kind, objects
     * (name, access, columns) and functions. The hash binds the text; this binds what the text meant when approved.
     */
    public boolean sameEffect(Classification c) {
        if (classification == null || c == null || classification.statements().size() != c.statements().size()) return false;
        for (int i = 0; i < c.statements().size(); i++) {
            var a = classification.statements().get(i);
            var b = c.statements().get(i);
            if (a.kind() != b.kind() || !a.objects().equals(b.objects())
                    || !java.util.Set.copyOf(a.functions()).equals(java.util.Set.copyOf(b.functions()))) {
                return false;
            }
        }
        return true;
    }
}
