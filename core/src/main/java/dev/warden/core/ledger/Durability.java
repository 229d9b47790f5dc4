package dev.warden.core.ledger;

/**
 * How durable an entry is when {@code append} returns. {@code SYNCED}: fsynced (survives power loss).
 * {@code WRITTEN}: in the file (survives a crash of Warden); an fsync follows within a bounded interval.
 * {@code STAGED}: given its sequence number and its place in the ledger's order, its bytes possibly still in the
 * ledger's buffer: the caller must call {@link Ledger#writeStaged} with that number before it acts on the entry, and
 * then it is {@code WRITTEN}. An event loop stages the decisions of every session it serves in one pass, and one
 * write of the buffer covers them all.
 * {@code QUEUED}: handed to the writer, which writes it with its next batch, within the same bounded interval; the
 * caller does not wait and gets no sequence number (-1). For entries that record what already happened (outcomes),
 * never for the write-ahead decision.
 */
public enum Durability { SYNCED, WRITTEN, STAGED, QUEUED }
