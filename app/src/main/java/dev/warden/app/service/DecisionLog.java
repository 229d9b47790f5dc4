package dev.warden.app.service;

import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.LedgerException;
import dev.warden.core.ledger.Redactor;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A ledger in front of a ledger: every decision it records is also one line at info level on stderr. Lines are
 * formatted and written in batches by a writer thread, so a statement never waits for the terminal.
 */
final class DecisionLog implements Ledger {
    private record Line(long seq, Instant time, Entry.DecisionEntry entry) {}

    private static final long BATCH_MILLIS = 5;

    private final Ledger ledger;
    private final PrintStream out;
    private final Redactor redactor;
    // Lock-free: sixteen sessions offering to a LinkedBlockingQueue contended on its lock (measured: futex waits).
    private static final int MAX_QUEUED = 100_000;
    private final ConcurrentLinkedQueue<Line> lines = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    private final Thread writer;
    private volatile boolean closed;

    DecisionLog(Ledger ledger, PrintStream out) {
        this(ledger, out, new Redactor(false));
    }

    /** @param redactor the ledger's ({@code redact_literals}): a line shows no more of the text than the entry does */
    DecisionLog(Ledger ledger, PrintStream out, Redactor redactor) {
        this.ledger = ledger;
        this.out = out;
        this.redactor = redactor;
        this.writer = Thread.ofPlatform().daemon().name("decision-log").start(this::drain);
    }

    @Override
    public long append(Entry entry, Durability durability) throws LedgerException {
        long seq = ledger.append(entry, durability);
        if (entry instanceof Entry.DecisionEntry d) {
            Line l = new Line(seq, Instant.now(), d);
            if (queued.incrementAndGet() > MAX_QUEUED) {
                // The writer is far behind: write this one here rather than drop it.
                queued.decrementAndGet();
                out.println(format(l, redactor));
            } else {
                lines.add(l);
            }
        }
        return seq;
    }

    private void drain() {
        List<Line> batch = new ArrayList<>();
        StringBuilder b = new StringBuilder();
        while (!closed || !lines.isEmpty()) {
            try {
                // Polled every few milliseconds: one write per batch, not one per statement, and no wake-up per line.
                if (lines.isEmpty()) {
                    if (!closed) Thread.sleep(BATCH_MILLIS);
                    continue;
                }
                Line next;
                while (batch.size() < 4096 && (next = lines.poll()) != null) batch.add(next);
                queued.addAndGet(-batch.size());
                for (Line l : batch) format(l, redactor, b).append('\n');
                // Bytes straight to the stream: PrintStream.print(CharSequence) goes through a char encoder.
                byte[] bytes = b.toString().getBytes(out.charset());
                out.write(bytes, 0, bytes.length);
                out.flush();
                b.setLength(0);
                batch.clear();
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One line; built by hand (no regex, no date formatter per line) because it runs for every statement. */
    static String format(Line l, Redactor redactor) {
        return format(l, redactor, new StringBuilder(160)).toString();
    }

    // The writer thread's (and the overflow path's, under the lock of the caller) cache of the second's text.
    private static long cachedSecond = Long.MIN_VALUE;
    private static String cachedPrefix = "";

    private static synchronized String secondPrefix(long second) {
        if (second != cachedSecond) {
            cachedPrefix = java.time.LocalDateTime.ofEpochSecond(second, 0, java.time.ZoneOffset.UTC)
                    .format(java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss")) + ".";
            cachedSecond = second;
        }
        return cachedPrefix;
    }

    /** Appends one line to {@code b}: built by hand (no regex, no date formatter per line), it runs per statement. */
    static StringBuilder format(Line l, Redactor redactor, StringBuilder b) {
        Entry.DecisionEntry d = l.entry();
        long millis = l.time().toEpochMilli();
        int ms = (int) Math.floorMod(millis, 1000L);
        b.append(secondPrefix(Math.floorDiv(millis, 1000L)));
        if (ms < 100) b.append('0');
        if (ms < 10) b.append('0');
        b.append(ms).append("Z INFO decision seq=").append(l.seq())
                .append(" action=").append(d.decision().action().label())
                .append(" rule=");
        if (d.decision().rule() == null) b.append('-');
        else b.append('"').append(d.decision().rule()).append('"');
        b.append(" kind=").append(d.classification().kind().label())
                .append(" agent=").append(d.operation().agent())
                .append(" database=").append(d.operation().database());
        if (d.approvalId() != null) b.append(" approval=").append(d.approvalId());
        b.append(" text=\"");
        // Redacted as the ledger entry is: a role's password always, every literal with redact_literals.
        String text = redactor.redact(d.operation().engine(), d.operation().text());
        int n = 0;
        boolean space = false;
        for (int i = 0; i < text.length() && n < 200; i++) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c)) {
                space = true;
                continue;
            }
            if (space && n > 0) {
                b.append(' ');
                n++;
            }
            space = false;
            if (c == '"') b.append('\\');
            b.append(c);
            n++;
        }
        if (n >= 200) b.append("...");
        return b.append('"');
    }

    @Override
    public void writeStaged(long seq) throws LedgerException {
        ledger.writeStaged(seq);
    }

    @Override
    public void afterSync(long seq, java.util.function.Consumer<LedgerException> then) {
        ledger.afterSync(seq, then);
    }

    @Override
    public boolean waitsForSync(Durability durability) {
        return ledger.waitsForSync(durability);
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
