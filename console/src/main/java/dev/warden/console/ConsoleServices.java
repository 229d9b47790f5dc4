package dev.warden.console;

import dev.warden.core.approval.AgentSwitch;
import dev.warden.core.approval.Approvals;
import dev.warden.core.approval.Approvers;
import dev.warden.core.ledger.LedgerVerifier;
import dev.warden.core.metrics.Metrics;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What the console works on. Built by the service wiring ({@code warden proxy}, {@code warden demo}).
 *
 * @param approvals the approval store
 * @param approvers who may log in and decide (and which credentials are agents', to refuse them)
 * @param agents    the kill switch
 * @param dataDir   the data directory; the audit browser reads {@code <dataDir>/ledger/*.jsonl}
 * @param metrics   rendered at {@code /metrics}
 * @param healthy   false when the ledger has failed; {@code /healthz} then answers 503
 * @param verifier  the ledger's verification, or {@code null} when none is available
 * @param failures  where a wrong token is recorded (the ledger, through the gate)
 */
public record ConsoleServices(Approvals approvals, Approvers approvers, AgentSwitch agents, Path dataDir,
                              Metrics metrics, BooleanSupplier healthy, Supplier<Verification> verifier,
                              FailedLogins failures) {
    /** Records a wrong approver token from {@code address}, with the reason; may throw, which is logged. */
    @FunctionalInterface
    public interface FailedLogins {
        void record(String address, String reason) throws Exception;
    }

    /** Without a record of wrong tokens (they are still logged and throttled). */
    public ConsoleServices(Approvals approvals, Approvers approvers, AgentSwitch agents, Path dataDir, Metrics metrics,
                           BooleanSupplier healthy, Supplier<Verification> verifier) {
        this(approvals, approvers, agents, dataDir, metrics, healthy, verifier, (address, reason) -> {});
    }

    /** The outcome of verifying the ledger, shown in the audit browser. */
    public record Verification(boolean ok, String detail) {}

    /**
     * The file ledger's own verifier over {@code <dataDir>/ledger} (the tree, the checkpoints, the signing key), and
     * against {@code witness}, a file witness's copy of the checkpoints, when there is one: without it the console could
     * show "verified" for a log whose newest entries were deleted or which was rewritten under a new key.
     */
    public static Supplier<Verification> fileLedgerVerifier(Path dataDir, java.util.Optional<Path> witness) {
        return () -> {
            try {
                // Before the first checkpoint reaches it there is nothing to check against (a witness that fails is
                // logged and counted in /metrics by the ledger itself).
                LedgerVerifier.Report r = LedgerVerifier.verify(dataDir, new LedgerVerifier.Options(
                        witness.filter(java.nio.file.Files::exists), java.util.Optional.empty()));
                return new Verification(r.ok(), r.summary());
            } catch (java.io.IOException e) {
                return new Verification(false, "cannot read the ledger: " + e.getMessage());
            }
        };
    }
}
