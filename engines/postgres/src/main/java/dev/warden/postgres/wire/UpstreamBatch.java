package dev.warden.postgres.wire;

import dev.warden.core.Gate;
import dev.warden.core.Verdict;
import dev.warden.core.ledger.LedgerException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.function.Consumer;

/**
 * The messages for the upstream collected while the driver works through what the client sent in one go, and the
 * decisions among them that must be on record first: written ahead before the bytes leave, or fsynced where the ledger
 * asks for it ({@link #waitsForSync}). One per session, used by the thread handling its frames.
 */
final class UpstreamBatch {
    private final PgWriter messages = new PgWriter();
    private final Gate gate;
    /** Something among the messages runs: an Execute, a Query, a FunctionCall, COPY data. */
    private boolean runs;
    /** The highest seq among the decisions of the messages: written ahead before they leave; -1 when none. */
    private long writeAheadOf = -1;
    /** The highest seq among those decisions that must be fsynced first, until they are; -1 when none. */
    private long syncAheadOf = -1;

    UpstreamBatch(Gate gate) {
        this.gate = gate;
    }

    /** A message that runs nothing by itself (Parse, Bind, Describe, Close, Sync, Flush). */
    void add(Frame f) {
        f.writeTo(messages);
    }

    /** COPY data: it runs as part of its COPY. */
    void addData(Frame f) {
        f.writeTo(messages);
        runs = true;
    }

    /** A stand-in for a refusal, which fails upstream so that the server's error handling stays in step. */
    void addStandIn(byte[] message) {
        messages.bytes(message);
    }

    /**
     * A message that runs what {@code v} allowed. {@code staged}: judged without waiting, so its decision may still
     * have to be fsynced before it leaves.
     */
    void addAllowed(Frame f, Verdict v, boolean staged) {
        f.writeTo(messages);
        runs = true;
        if (v.seq() > writeAheadOf) writeAheadOf = v.seq();
        if (staged && v.seq() > syncAheadOf && gate.waitsForSync(v)) syncAheadOf = v.seq();
    }

    int size() {
        return messages.size();
    }

    /** Something among the messages runs. */
    boolean runs() {
        return runs;
    }

    /** A decision among the messages must be fsynced before they leave: see {@link #afterSync}. */
    boolean waitsForSync() {
        return syncAheadOf >= 0;
    }

    /** Calls {@code then} once the decisions waited for are durable, or with the reason they cannot be. Any thread. */
    void afterSync(Consumer<LedgerException> then) {
        gate.afterSync(syncAheadOf, then);
    }

    /** The decisions {@link #afterSync} waited for are durable. */
    void synced() {
        syncAheadOf = -1;
    }

    /**
     * Writes the decisions ahead and sends the messages; only once none waits for an fsync ({@link #waitsForSync}).
     *
     * @throws LedgerException the decisions could not be written: nothing was sent
     */
    void sendTo(OutputStream upstream) throws IOException, LedgerException {
        if (syncAheadOf >= 0) throw new IllegalStateException("a decision among the messages is not durable yet");
        if (writeAheadOf >= 0) {
            gate.writeAhead(writeAheadOf);
            writeAheadOf = -1;
        }
        messages.writeTo(upstream);
        drop();
    }

    /** Forgets the messages: they never go. */
    void drop() {
        messages.reset();
        runs = false;
    }
}
