package dev.warden.postgres.wire;

import dev.warden.core.Gate;
import dev.warden.core.Verdict;
import java.io.IOException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A session's judgements on a thread that may wait for a person's decision, and how a cancel, the client's leaving or
 * the session's end reach such a wait. The waiting thread may be interrupted only while it waits, never during its
 * I/O: an interrupt there would close a channel, the ledger's among them, and the ledger's would fail every session.
 */
final class ApprovalWait {
    private final Object guard = new Object();
    /** The thread waiting for a person's decision, while it waits (guarded by {@link #guard}). */
    private Thread waiting;
    /** A cancel came while the statement was judged, before any wait began (guarded by {@link #guard}). */
    private boolean cancelledWhileJudged;
    private volatile boolean judging;
    /** The client sent Terminate or closed its connection while a statement was judged: nobody waits for it. */
    private volatile boolean clientGone;

    /** A frame is being judged (on a thread that may wait, a hold among others). */
    boolean judging() {
        return judging;
    }

    /** A statement waits for a person's decision. */
    boolean waiting() {
        synchronized (guard) {
            return waiting != null;
        }
    }

    /** Runs a judgement on this thread, which {@link #end} may interrupt while it waits, and no longer. */
    Verdict judge(Supplier<Verdict> judgement) {
        synchronized (guard) {
            cancelledWhileJudged = false;
            judging = true;
        }
        try {
            return judgement.get();
        } finally {
            judging = false;
            synchronized (guard) {
                waiting = null;
            }
            // An interrupt that came while it waited, after the wait had ended on its own.
            Thread.interrupted();
        }
    }

    /**
     * How the judgement waits for a person: the hold's notice to the client first, then the wait.
     *
     * @param sessionClosed       whether the session ended
     * @param transactionUpstream whether locks are held while it waits (something of its transaction is, or may be,
     *                            on the server)
     */
    Gate.Hold hold(ClientOutput out, BooleanSupplier sessionClosed, boolean transactionUpstream) {
        return new Gate.Hold(held -> {
            try {
                out.send(Notice.notice(held.message()).bytes());
            } catch (IOException ignored) {
                // the wait goes on; the client will see the result or the connection end
            }
            // Only now may the thread be interrupted (see the class comment).
            synchronized (guard) {
                waiting = Thread.currentThread();
                // Nobody is left to get its result: a session that ended, or a client that went away, before the
                // wait began. The wait ends at once (the request expires), so no later approval can run it.
                // So does a statement the client cancelled while it was being judged.
                if (sessionClosed.getAsBoolean() || clientGone || cancelledWhileJudged) waiting.interrupt();
            }
        }, transactionUpstream);
    }

    /**
     * A cancel: ends the wait; before the wait began (the request being opened), the wait ends as soon as it begins. A
     * cancel that found nothing to end was lost, and the client waited out the whole timeout.
     */
    void cancel() {
        synchronized (guard) {
            if (!end() && judging) cancelledWhileJudged = true;
        }
    }

    /** The client went away: a wait on now, or one about to begin, ends, as nobody will read its result. */
    void clientLeft() {
        clientGone = true;
        end();
    }

    /**
     * Ends the wait, if one is on: the request expires ("the held session ended before the statement ran") and the
     * statement is refused, so an approval given later can never run it. True when there was one.
     */
    boolean end() {
        synchronized (guard) {
            if (waiting == null) return false;
            waiting.interrupt();
            return true;
        }
    }
}
