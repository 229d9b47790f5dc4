package dev.warden.core;

/**
 * What a front end acts on: run the operation or refuse it.
 *
 * @param run            true when the operation may be forwarded now
 * @param decision       the policy decision (for an approved statement: the {@code approve} decision)
 * @param classification what the operation was judged to be
 * @param seq            the ledger sequence number of the decision entry; the outcome entry points to it
 * @param approvalId     the approval request, when one was involved, otherwise {@code null}
 * @param message        for a refusal, the message the agent sees (engines render it as their own error)
 */
public record Verdict(boolean run, Decision decision, Classification classification, long seq,
                      String approvalId, String message) {
}
