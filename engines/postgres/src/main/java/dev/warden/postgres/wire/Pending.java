package dev.warden.postgres.wire;

import dev.warden.core.Verdict;

/**
 * What the session forwarded and the relay still expects an answer to, in order. The relay matches upstream responses
 * against these to write outcomes, to confirm or drop tracked statements and portals, and to put a denial's error
 * where PostgreSQL would have put its own.
 */
sealed interface Pending {
    /** A Parse; on failure the tracked statement is dropped again. */
    record Parse(StatementTracker.Prepared statement) implements Pending {}

    /** A Bind; on failure the tracked portal is dropped again. */
    record Bind(StatementTracker.Portal portal) implements Pending {}

    record Describe() implements Pending {}

    record Close() implements Pending {}

    /** An Execute that was allowed; its outcome is written when it completes. */
    record Execute(Verdict verdict, long startNanos, Runnable onSuccess) implements Pending {}

    /** A Sync: ends at ReadyForQuery. {@code generation} counts Syncs, to know which portals a transaction end closes. */
    record Sync(long generation) implements Pending {}

    /** A simple Query that was allowed: everything up to ReadyForQuery belongs to it. */
    final class Query implements Pending {
        final Verdict verdict;
        final long startNanos;
        final Runnable onSuccess;
        final long generation;
        long rows = -1;
        String error;

        Query(Verdict verdict, long startNanos, Runnable onSuccess, long generation) {
            this.generation = generation;
            this.verdict = verdict;
            this.startNanos = startNanos;
            this.onSuccess = onSuccess;
        }
    }

    /**
     * A denial. In place of the denied message the session sent a statement that fails harmlessly upstream (so a
     * transaction block becomes aborted, exactly as PostgreSQL does on an error); the relay swaps that error for this
     * one. {@code simple}: the poison was a Query, whose ReadyForQuery follows.
     */
    record Denied(byte[] error, boolean simple, long generation) implements Pending {}

    /** Warden's own question ({@link SettingsReread}): its whole answer, up to its ReadyForQuery, is Warden's. */
    record Reread(SettingsReread question) implements Pending {}
}
