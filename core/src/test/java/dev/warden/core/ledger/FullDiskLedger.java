package dev.warden.core.ledger;

import java.util.function.Consumer;

/** A ledger that can record nothing, as on a full disk: every write fails, and it says it is unhealthy. */
public final class FullDiskLedger implements Ledger {
    public long append(Entry entry, Durability durability) throws LedgerException {
        throw new LedgerException("disk full");
    }

    public void writeStaged(long seq) throws LedgerException {
        throw new LedgerException("disk full");
    }

    public void afterSync(long seq, Consumer<LedgerException> then) {
        then.accept(new LedgerException("disk full"));
    }

    public boolean healthy() {
        return false;
    }

    public void close() {}
}
