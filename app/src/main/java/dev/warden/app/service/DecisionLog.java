package dev.warden.app.service;

import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.LedgerException;
import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** A ledger in front of a ledger: every decision it records is also one line at info level on stderr. */
final class DecisionLog implements Ledger {
    private final Ledger ledger;
    private final PrintStream out;

    DecisionLog(Ledger ledger, PrintStream out) {
        this.ledger = ledger;
        this.out = out;
    }

    @Override
    public long append(Entry entry, Durability durability) throws LedgerException {
        long seq = ledger.append(entry, durability);
        if (entry instanceof Entry.DecisionEntry d) {
            String text = d.operation().text().replaceAll("\\s+", " ");
            if (text.length() > 200) text = text.substring(0, 200) + "...";
            out.println(Instant.now().truncatedTo(ChronoUnit.MILLIS) + " INFO decision seq=" + seq
                    + " action=" + d.decision().action().label()
                    + " rule=" + (d.decision().rule() == null ? "-" : "\"" + d.decision().rule() + "\"")
                    + " kind=" + d.classification().kind().label()
                    + " agent=" + d.operation().agent() + " database=" + d.operation().database()
                    + (d.approvalId() == null ? "" : " approval=" + d.approvalId())
                    + " text=\"" + text.replace("\"", "\\\"") + "\"");
        }
        return seq;
    }

    @Override
    public boolean healthy() {
        return ledger.healthy();
    }

    @Override
    public void close() {
        ledger.close();
    }
}
