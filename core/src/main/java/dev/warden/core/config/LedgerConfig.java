package dev.warden.core.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code ledger:} section of {@code warden.yaml}.
 *
 * @param syncAll            {@code sync: all}: every append waits for the fsync, allowed reads too
 * @param segmentSize        bytes after which a new segment file starts
 * @param checkpointInterval how often a signed checkpoint is written while entries arrive
 * @param fsyncInterval      the longest a {@code written} entry waits for its fsync
 * @param signingKey         the Ed25519 signing key file; empty: {@code <data_dir>/ledger/signing.key}, created at first start
 * @param origin             the checkpoint origin line; empty: the signing key's name
 * @param witnesses          where checkpoints are pushed besides the data directory
 * @param redactLiterals     replace every literal in recorded statements (the exact text's hash is kept)
 */
public record LedgerConfig(boolean syncAll, long segmentSize, Duration checkpointInterval, Duration fsyncInterval,
                           Optional<Path> signingKey, Optional<String> origin, List<WitnessConfig> witnesses,
                           boolean redactLiterals) {
    public static final long DEFAULT_SEGMENT_SIZE = 64L * 1024 * 1024;
    public static final LedgerConfig DEFAULTS = new LedgerConfig(false, DEFAULT_SEGMENT_SIZE, Duration.ofSeconds(1),
            Duration.ofMillis(10), Optional.empty(), Optional.empty(), List.of(), false);

    public LedgerConfig {
        if (segmentSize < 4096) throw new IllegalArgumentException("segment_size must be at least 4096 bytes");
        // The verifier reads a segment whole.
        if (segmentSize > 1L << 30) throw new IllegalArgumentException("segment_size must be at most 1GiB");
        if (checkpointInterval.isNegative() || checkpointInterval.isZero()) throw new IllegalArgumentException("checkpoint_interval must be positive");
        if (fsyncInterval.isNegative() || fsyncInterval.isZero()) throw new IllegalArgumentException("fsync_interval must be positive");
        witnesses = List.copyOf(witnesses);
    }

    public LedgerConfig withSyncAll(boolean all) {
        return new LedgerConfig(all, segmentSize, checkpointInterval, fsyncInterval, signingKey, origin, witnesses, redactLiterals);
    }

    public LedgerConfig withSegmentSize(long size) {
        return new LedgerConfig(syncAll, size, checkpointInterval, fsyncInterval, signingKey, origin, witnesses, redactLiterals);
    }

    public LedgerConfig withCheckpointInterval(Duration d) {
        return new LedgerConfig(syncAll, segmentSize, d, fsyncInterval, signingKey, origin, witnesses, redactLiterals);
    }

    public LedgerConfig withSigningKey(Path key) {
        return new LedgerConfig(syncAll, segmentSize, checkpointInterval, fsyncInterval, Optional.of(key), origin, witnesses, redactLiterals);
    }

    public LedgerConfig withWitnesses(List<WitnessConfig> w) {
        return new LedgerConfig(syncAll, segmentSize, checkpointInterval, fsyncInterval, signingKey, origin, w, redactLiterals);
    }

    public LedgerConfig withRedactLiterals(boolean r) {
        return new LedgerConfig(syncAll, segmentSize, checkpointInterval, fsyncInterval, signingKey, origin, witnesses, r);
    }

    /** One witness: an append-only file (outside the data directory) or an HTTP endpoint. */
    public sealed interface WitnessConfig {
        record File(Path path) implements WitnessConfig {}

        record Url(URI uri) implements WitnessConfig {}
    }
}
