package dev.warden.core.ledger;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;

/**
 * What the ledger records. The ledger adds {@code seq}, {@code time} and {@code type} and serializes entries
 * canonically; these records hold the rest.
 */
public sealed interface Entry {
    String type();

    /** A decision about one operation, written before the operation is forwarded. */
    record DecisionEntry(Operation operation, Classification classification, Decision decision, String policyHash,
                         String approvalId) implements Entry {
        public String type() { return "decision"; }
    }

    /** What happened upstream, pointing to the decision's seq. */
    record OutcomeEntry(long decisionSeq, Outcome outcome) implements Entry {
        public String type() { return "outcome"; }
    }

    /**
     * An approval event: {@code requested}, {@code approved}, {@code denied}, {@code expired}, {@code used}, or an
     * administrative action such as {@code agent_disabled}; {@code approver} is the person, or {@code null}.
     */
    record ApprovalEntry(String requestId, String statementHash, String approver, String verdict, String comment)
            implements Entry {
        public String type() { return "approval"; }
    }

    /** A policy was loaded. */
    record PolicyEntry(String source, String policyHash, int rules) implements Entry {
        public String type() { return "policy"; }
    }

    /** Recovery at start: what was found and where it went. */
    record RecoveryEntry(String segment, long validBytes, long quarantinedBytes, String quarantineFile)
            implements Entry {
        public String type() { return "recovery"; }
    }
}
