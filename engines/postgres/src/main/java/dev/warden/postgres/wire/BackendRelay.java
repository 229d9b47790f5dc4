package dev.warden.postgres.wire;

import dev.warden.core.Outcome;
import java.io.IOException;
import java.util.Deque;

/**
 * Upstream to client. Reads in bulk and writes in bulk: it looks only at message headers, and at the bodies of the
 * few small messages that end a turn (CommandComplete, ErrorResponse, ReadyForQuery and the extended-protocol
 * acknowledgements). DataRow and everything else passes through without being parsed or copied.
 */
final class BackendRelay {
    private final ClientOutput client;
    private final Deque<Pending> pending;
    private final ClientSession session;
    private byte[] buf = new byte[65536];
    private int start;  // first byte not yet written to the client
    private int scan;   // first byte not yet examined
    private int end;    // first free byte
    private long skip;  // bytes of a passed-through message still to come
    /** Warden's own question is being answered: every message is looked at, its rows too (kept from the client). */
    private boolean rereading;
    // Outcomes are recorded after the response bytes went to the client, so the ledger write is not on its path.
    private final java.util.ArrayList<dev.warden.core.Verdict> doneVerdicts = new java.util.ArrayList<>();
    private final java.util.ArrayList<Outcome> doneOutcomes = new java.util.ArrayList<>();

    /** Where upstream bytes come from: a blocking stream, or a non-blocking channel (0: nothing there now). */
    interface Source {
        int read(byte[] b, int off, int len) throws IOException;
    }

    BackendRelay(ClientSession session) {
        this.client = session.out();
        this.pending = session.pending();
        this.session = session;
    }

    /** Reads once and relays what came; returns the bytes read. Throws when the upstream closed, died or misbehaves. */
    int readFrom(Source upstream) throws IOException {
        if (end == buf.length) makeRoom();
        int n = upstream.read(buf, end, buf.length - end);
        if (n < 0) throw new java.io.EOFException("the database closed the connection");
        if (n > 0) {
            end += n;
            process();
        }
        return n;
    }

    private void makeRoom() {
        // Only a partial message of interest (the rest was written) is left in the buffer; keep it, grow if needed.
        buf = Bytes.compact(buf, start, end, 1);
        scan -= start;
        end -= start;
        start = 0;
    }

    private void process() throws IOException {
        while (true) {
            if (skip > 0) {
                int take = (int) Math.min(skip, end - scan);
                scan += take;
                skip -= take;
                if (skip > 0) break;
                continue;
            }
            if (end - scan < 5) break;
            int type = buf[scan] & 0xff;
            int len = PgReader.getInt(buf, scan + 1);
            if (len < 4) throw new ProtocolException("invalid message length from the database");
            // A notice while Warden's question is answered is the question's (debug output, a LOG of its text).
            if (!interesting(type) && !rereading && !(type == 'N' && pending.peekFirst() instanceof Pending.Reread)) {
                long total = 1L + len;
                int take = (int) Math.min(total, end - scan);
                scan += take;
                skip = total - take;
                continue;
            }
            if (len > 16 << 20) throw new ProtocolException("oversized control message from the database");
            if (end - scan < 1 + len) break;
            byte[] replacement = handle(type, scan + 5, scan + 1 + len);
            if (replacement != null) {
                if (scan > start) client.relay(buf, start, scan - start, false);
                if (replacement.length > 0) client.relay(replacement, 0, replacement.length, false);
                start = scan + 1 + len;
            }
            scan += 1 + len;
        }
        if (scan > start) client.relay(buf, start, scan - start, skip > 0);
        start = scan;
        if (!doneVerdicts.isEmpty()) {
            for (int i = 0; i < doneVerdicts.size(); i++) session.record(doneVerdicts.get(i), doneOutcomes.get(i));
            doneVerdicts.clear();
            doneOutcomes.clear();
        }
        if (start == end) {
            start = scan = end = 0;
        } else if (start > buf.length / 2) {
            makeRoom();
        }
    }

    private static boolean interesting(int type) {
        return switch (type) {
            case 'C', 'E', 'Z', 'I', 's', '1', '2', '3', 'n', 'T', 'G', 'S' -> true;
            default -> false;
        };
    }

    /** Acts on a message of interest; returns bytes to write instead of it, or {@code null} to pass it on. */
    private byte[] handle(int type, int bodyStart, int bodyEnd) throws IOException {
        if (type == 'S') {
            SessionMessage.ParameterStatus ps = SessionMessage.ParameterStatus.read(
                    new Frame('S', java.util.Arrays.copyOfRange(buf, bodyStart, bodyEnd)));
            String why = ps.readsDifferently();
            if (why != null) {
                // Nothing after it may be relayed or settled: the session ends here, before its ReadyForQuery.
                session.readsDifferently(why);
                throw new ProtocolException("the server reads statements differently from Warden now (" + why + ")");
            }
            return null;
        }
        Pending head = pending.peekFirst();
        if (head instanceof Pending.Reread r) return reread(r.question(), type, bodyStart, bodyEnd);
        switch (type) {
            case 'Z' -> {
                char status = (char) buf[bodyStart];
                long generation = -1;
                Pending p;
                while ((p = pending.pollFirst()) != null) {
                    if (p instanceof Pending.Sync s) {
                        generation = s.generation();
                        break;
                    }
                    if (p instanceof Pending.Query q) {
                        generation = q.generation;
                        outcome(q.verdict, session.finished(q));
                        break;
                    }
                    if (p instanceof Pending.Denied d && d.simple()) {
                        generation = d.generation();
                        break;
                    }
                    abandon(p);
                }
                session.readyForQuery(status, generation);
            }
            case 'E' -> {
                session.copyEnded();
                session.upstreamError();
                if (head instanceof Pending.Denied d) {
                    if (!d.simple()) {
                        pending.pollFirst();
                        skipToSync();
                    }
                    return d.error();
                }
                if (head instanceof Pending.Query q) {
                    if (q.error == null) q.error = error(bodyStart, bodyEnd);
                    return null;
                }
                if (head == null || head instanceof Pending.Sync) return null;
                pending.pollFirst();
                fail(head, error(bodyStart, bodyEnd));
                skipToSync();
            }
            case 'C' -> {
                session.copyEnded();
                long rows = SessionMessage.CommandComplete.rows(buf, bodyStart, bodyEnd);
                if (head instanceof Pending.Query q) {
                    q.rows = q.rows < 0 ? rows : q.rows + Math.max(rows, 0);
                } else if (head instanceof Pending.Execute e) {
                    pending.pollFirst();
                    outcome(e.verdict(), Outcome.ok(rows, micros(e.startNanos())));
                    if (e.onSuccess() != null) e.onSuccess().run();
                }
            }
            case 'I', 's' -> {
                if (head instanceof Pending.Execute e) {
                    pending.pollFirst();
                    outcome(e.verdict(), Outcome.ok(type == 'I' ? 0 : -1, micros(e.startNanos())));
                }
            }
            case '1' -> {
                if (head instanceof Pending.Parse p) {
                    pending.pollFirst();
                    if (p.statement() != null) p.statement().confirmed = true;
                }
            }
            case '2' -> {
                if (head instanceof Pending.Bind b) {
                    pending.pollFirst();
                    if (b.portal() != null) b.portal().confirmed = true;
                }
            }
            case '3' -> {
                if (head instanceof Pending.Close) pending.pollFirst();
            }
            case 'n', 'T' -> {
                if (head instanceof Pending.Describe) pending.pollFirst();
            }
            case 'G' -> session.copyInStarted();
            default -> { }
        }
        return null;
    }

    private static final byte[] NOTHING = new byte[0];

    /**
     * A message while Warden's own question is answered: the answer's messages go to the question and none of them to
     * the client, its notices neither (with client_min_messages at log or debug and debug_print_parse on, the server
     * sends the question's text as a notice); a notification or parameter status is the client's, as ever. It ends no
     * unit of the client's.
     */
    private byte[] reread(SettingsReread question, int type, int bodyStart, int bodyEnd) throws ProtocolException {
        switch (type) {
            // ParseComplete first, so that its DataRow is looked at; then BindComplete, CommandComplete, CloseComplete.
            case '1', '2', '3', 'T', 'n', 'C', 'I', 's' -> rereading = true;
            case 'N' -> { }
            case 'D' -> question.row(java.util.Arrays.copyOfRange(buf, bodyStart, bodyEnd));
            case 'E' -> {
                rereading = true;
                question.failed(error(bodyStart, bodyEnd));
            }
            case 'Z' -> {
                pending.pollFirst();
                rereading = false;
                question.ready((char) buf[bodyStart]);
            }
            default -> {
                return null;
            }
        }
        return NOTHING;
    }

    /** After an error the server skips everything up to the next Sync: so do the expectations. */
    private void skipToSync() {
        Pending p;
        while ((p = pending.peekFirst()) != null && !(p instanceof Pending.Sync)) {
            pending.pollFirst();
            abandon(p);
        }
    }

    private void abandon(Pending p) {
        fail(p, "not executed: an earlier message of the same pipeline failed");
    }

    private void fail(Pending p, String error) {
        switch (p) {
            case Pending.Parse x -> { if (x.statement() != null) session.tracker().parseFailed(x.statement()); }
            case Pending.Bind x -> { if (x.portal() != null) session.tracker().bindFailed(x.portal()); }
            case Pending.Execute x -> outcome(x.verdict(), Outcome.error(error, micros(x.startNanos())));
            case Pending.Query q -> {
                if (q.error == null) q.error = error;
                outcome(q.verdict, session.finished(q));
            }
            default -> { }
        }
    }

    private void outcome(dev.warden.core.Verdict v, Outcome o) {
        session.completed(v, o);
        doneVerdicts.add(v);
        doneOutcomes.add(o);
    }

    private String error(int bodyStart, int bodyEnd) throws ProtocolException {
        Notice n = Notice.read(new Frame('E', java.util.Arrays.copyOfRange(buf, bodyStart, bodyEnd)));
        return n.code() + " " + n.message();
    }

    static long micros(long startNanos) {
        return (System.nanoTime() - startNanos) / 1000;
    }
}
