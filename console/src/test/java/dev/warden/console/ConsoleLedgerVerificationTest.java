package dev.warden.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.config.LedgerConfig;
import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.FileLedger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console's "verified" checked the log against itself only, never against the configured file witness: a log
 * whose newest entries were deleted with their checkpoints, or rewritten under a new key, still showed as verified
 * there. It now checks against the witness's copy once the witness holds a checkpoint.
 */
class ConsoleLedgerVerificationTest {
    @TempDir
    Path dir;

    @Test
    void theConsoleVerifiesAgainstTheFileWitness() throws Exception {
        Path witness = dir.resolve("elsewhere/witness.notes");
        LedgerConfig withWitness = LedgerConfig.DEFAULTS.withCheckpointInterval(Duration.ofHours(1))
                .withWitnesses(List.of(new LedgerConfig.WitnessConfig.File(witness)));
        try (FileLedger l = FileLedger.open(dir.resolve("first"), withWitness)) {
            l.append(entry(), Durability.SYNCED);
            l.checkpointNow();
        }
        // Another log in the place of the first: consistent in itself, signed by another key.
        Path data = dir.resolve("second");
        try (FileLedger l = FileLedger.open(data, LedgerConfig.DEFAULTS.withCheckpointInterval(Duration.ofHours(1)))) {
            l.append(entry(), Durability.SYNCED);
            l.checkpointNow();
        }
        assertThat(ConsoleServices.fileLedgerVerifier(data, Optional.empty()).get().ok()).isTrue();
        ConsoleServices.Verification v = ConsoleServices.fileLedgerVerifier(data, Optional.of(witness)).get();
        assertThat(v.ok()).as(v.detail()).isFalse();
        assertThat(v.detail()).contains("witness");
        // A witness that holds nothing yet (before the first checkpoint reaches it) is no failure.
        assertThat(ConsoleServices.fileLedgerVerifier(data, Optional.of(dir.resolve("nothing-yet"))).get().ok()).isTrue();
    }

    static Entry entry() {
        Operation op = new Operation("claude", "shop", "postgres", "SELECT 1", List.of(), null, "s1", "127.0.0.1", null);
        return new Entry.DecisionEntry(op, Classification.unknown("SELECT 1", "test"), Decision.deny(null, "test"), "policy", null);
    }
}
