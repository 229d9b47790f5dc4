package dev.warden.core.policy;

import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;

/**
 * One policy rule.
 *
 * @param reason   text shown to the agent on denial, or {@code null}
 * @param approval for {@code approve} rules, how to ask; otherwise {@code null}
 * @param line     where the rule starts in its file
 */
public record Rule(String name, Match match, Action action, String reason, ApprovalSpec approval, int line) {
}
