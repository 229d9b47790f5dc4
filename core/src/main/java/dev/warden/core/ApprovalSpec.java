package dev.warden.core;

import java.time.Duration;

/**
 * How an {@code approve} rule wants its approval: {@code hold} waits on the wire, {@code ticket} denies at once
 * and lets the identical statement run once after approval.
 */
public record ApprovalSpec(Mode mode, int approvers, Duration timeout, Duration validFor) {
    public enum Mode { HOLD, TICKET }

    public static final ApprovalSpec DEFAULT = new ApprovalSpec(Mode.HOLD, 1, Duration.ofMinutes(5), Duration.ofMinutes(10));

    public ApprovalSpec {
        if (approvers < 1 || approvers > 2) throw new IllegalArgumentException("approvers must be 1 or 2");
    }
}
