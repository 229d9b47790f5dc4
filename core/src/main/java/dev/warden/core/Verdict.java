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
 * @param changesSchema  running it may change the schema an engine's catalog cached ({@link Kind#mayChangeSchema()}
 *                       of a statement's kind, or of the kind it has when a rule declares its unproven functions
 *                       readers): the front end has the catalog read again after it, and judges nothing of the session
 *                       on the catalog meanwhile
 */
public record Verdict(boolean run, Decision decision, Classification classification, long seq,
                      String approvalId, String message, boolean changesSchema) {
    /** A verdict whose {@link #changesSchema} is what the classification alone says (approved, not declared). */
    public Verdict(boolean run, Decision decision, Classification classification, long seq, String approvalId, String message) {
        this(run, decision, classification, seq, approvalId, message, classification != null && classification.mayChangeSchema());
    }
}
