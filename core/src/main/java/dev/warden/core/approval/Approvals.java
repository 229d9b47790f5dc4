package dev.warden.core.approval;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The approval store. Requests bind the exact operation (agent, database, statement hash); an approval is used
 * once and expires. Only configured approvers decide; agents never can.
 */
public interface Approvals {
    /** Opens a pending request. */
    ApprovalRequest open(Operation operation, Classification classification, Decision decision, boolean inTransaction);

    /**
     * Ticket mode: finds an approved, unexpired, unused request for exactly this agent, database and statement
     * hash whose statement does the same as {@code c} says this one does ({@link ApprovalRequest#sameEffect}: the
     * same text can mean another table under another search path, or another body behind {@code EXECUTE p}), marks it
     * used and returns it.
     */
    Optional<ApprovalRequest> redeem(Operation operation, dev.warden.core.Classification c);

    /**
     * Hold mode: waits until the request is decided or the timeout passes (then it is expired). An approved request
     * is marked used before this returns, so it runs once.
     */
    ApprovalRequest await(String id, Duration timeout) throws InterruptedException;

    /** Records one approver's verdict. Throws {@link IllegalArgumentException} or {@link IllegalStateException} when not allowed. */
    ApprovalRequest decide(String id, String approver, boolean approve, String comment);

    Optional<ApprovalRequest> get(String id);

    List<ApprovalRequest> list();

    /** Tells the subscriber about every event from now on; closing the handle stops it. Subscribers must be quick. */
    default AutoCloseable subscribe(Consumer<ApprovalEvent> subscriber) {
        return () -> {};
    }

    /** Denies every pending or approved-but-unused request of an agent (its kill switch was thrown); returns how many. */
    default int denyAllOf(String agent, String by, String comment) {
        return 0;
    }
}
