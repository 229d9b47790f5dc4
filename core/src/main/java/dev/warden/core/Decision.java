package dev.warden.core;

import java.util.List;

/**
 * The policy's answer for an operation.
 *
 * @param action   allow, approve or deny
 * @param rule     the deciding rule's name, or {@code null} when no rule matched (default deny) or the built-in
 *                 transaction-control allowance applied
 * @param reasons  why, for the agent and the ledger
 * @param approval how to ask for approval when the action is {@code approve}, otherwise {@code null}
 */
public record Decision(Action action, String rule, List<String> reasons, ApprovalSpec approval) {
    public Decision {
        if (action == null) throw new IllegalArgumentException("action is null");
        reasons = List.copyOf(reasons);
        if (action == Action.APPROVE && approval == null) approval = ApprovalSpec.DEFAULT;
    }

    public static Decision deny(String rule, String reason) {
        return new Decision(Action.DENY, rule, List.of(reason), null);
    }

    /** One line for the agent: the rule and the first reason. */
    public String summary() {
        String r = reasons.isEmpty() ? "" : ": " + reasons.getFirst();
        return switch (action) {
            case ALLOW -> "allowed" + (rule == null ? "" : " by rule \"" + rule + "\"") + r;
            case APPROVE -> "needs approval under rule \"" + rule + "\"" + r;
            case DENY -> (rule == null ? "denied" : "denied by rule \"" + rule + "\"") + r;
        };
    }
}
