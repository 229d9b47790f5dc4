package dev.warden.app.service;

import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.LedgerException;
import java.io.PrintStream;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A ledger in front of a ledger: every decision it records is also one line at info level on stderr. Lines are
 * formatted and written in batches by a writer thread, so a statement never waits for the terminal.
 */
final class DecisionLog implements Ledger {
    private static final Pattern SPACE = Pattern.compile("\\s+");

    private record Line(long seq, Instant time, Entry.DecisionEntry entry) {}

    private final Ledger ledger;
    private final PrintStream out;
    private final LinkedBlockingQueue<Line> lines = new LinkedBlockingQueue<>(100_000);
    private final Thread writer;
    private volatile boolean closed;

    DecisionLog(Ledger ledger, PrintStream out) {
        this.ledger = ledger;
        this.out = out;
        this.writer = Thread.ofPlatform().daemon().name("decision-log").start(this::drain);
    }

    @Override
    public long append(Entry entry, Durability durability) throws LedgerException {
        long seq = ledger.append(entry, durability);
        if (entry instanceof Entry.DecisionEntry d) {
            Line l = new Line(seq, Instant.now(), d);
            if (!lines.offer(l)) out.println(format(l));
        }
        return seq;
    }

    private void drain() {
        List<Line> batch = new ArrayList<>();
        StringBuilder b = new StringBuilder();
        while (!closed || !lines.isEmpty()) {
            try {
                Line first = lines.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                lines.drainTo(batch, 4096);
                for (Line l : batch) b.append(format(l)).append('\n');
                out.print(b);
                out.flush();
                b.setLength(0);
                batch.clear();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    static String format(Line l) {
        Entry.DecisionEntry d = l.entry();
        String text = SPACE.matcher(d.operation().text()).replaceAll(" ");
        if (text.length() > 200) text = text.substring(0, 200) + "...";
        return l.time().truncatedTo(ChronoUnit.MILLIS) + " INFO decision seq=" + l.seq()
                + " action=" + d.decision().action().label()
                + " rule=" + (d.decision().rule() == null ? "-" : "\"" + d.decision().rule() + "\"")
                + " kind=" + d.classification().kind().label()
                + " agent=" + d.operation().agent() + " database=" + d.operation().database()
                + (d.approvalId() == null ? "" : " approval=" + d.approvalId())
                + " text=\"" + text.replace("\"", "\\\"") + "\"";
    }

    @Override
    public boolean healthy() {
        return ledger.healthy();
    }

    @Override
    public void close() {
        closed = true;
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ledger.close();
    }
}
