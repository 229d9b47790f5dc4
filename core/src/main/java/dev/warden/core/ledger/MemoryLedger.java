package dev.warden.core.ledger;

import java.util.ArrayList;
import java.util.List;

/** A ledger that keeps entries in memory, for tests and for commands that record nothing durable. */
public final class MemoryLedger implements Ledger {
    private final List<Entry> entries = new ArrayList<>();

    @Override
    public synchronized long append(Entry entry, Durability durability) {
        entries.add(entry);
        return entries.size() - 1;
    }

    /** Nothing to write: entries are kept at {@code append}. */
    @Override
    public void writeStaged(long seq) {}

    @Override
    public void afterSync(long seq, java.util.function.Consumer<LedgerException> then) {
        then.accept(null);
    }

    public synchronized List<Entry> entries() {
        return List.copyOf(entries);
    }

    @Override
    public boolean healthy() {
        return true;
    }

    @Override
    public void close() {}
}
