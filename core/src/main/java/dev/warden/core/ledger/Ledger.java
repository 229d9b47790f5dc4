package dev.warden.core.ledger;

/**
 * The append-only record of every action and decision. {@code append} returns the entry's sequence number only
 * once the entry is as durable as asked; if it cannot be, it throws and the caller denies.
 */
public interface Ledger extends AutoCloseable {
    long append(Entry entry, Durability durability) throws LedgerException;

    /**
     * Makes every entry up to {@code seq} (appended {@code STAGED}) {@code WRITTEN}; throws when one of them could not
     * be written, and then the caller must not act on it. Not a default method: a ledger that wraps another must pass
     * it on, or staged decisions would not be written ahead.
     */
    void writeStaged(long seq) throws LedgerException;

    /**
     * Runs {@code then} once every entry up to {@code seq} is {@code SYNCED} (fsynced), with {@code null}, or with the
     * reason it cannot be; without waiting, on whichever thread finds it done (the caller's when it already is). For
     * callers that must not block, such as an event loop holding a write until its decision is durable. Not a
     * default method, for the reason {@link #writeStaged} is not.
     */
    void afterSync(long seq, java.util.function.Consumer<LedgerException> then);

    /** False once the ledger has failed to write; the service reports itself unhealthy. */
    boolean healthy();

    /** Whether an append at this durability waits for an fsync (a configuration may make every append wait). */
    default boolean waitsForSync(Durability durability) {
        return durability == Durability.SYNCED;
    }

    @Override
    void close();
}
