package dev.warden.postgres.wire;

import dev.warden.core.Kind;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Deque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * When a session asks the server for its search path and role ({@link SettingsReread}), and what it makes of the
 * answer: where the next unit's path is not known, it is asked once nothing is on its way or in flight; where it may
 * not be asked, or asking failed, the path stays unknown and statements are refused with the reason. One per session;
 * its calls come from the thread judging the session's frames, {@link #sessionEnded} from any thread.
 */
final class SettingsAsker {
    private final SearchPathTracker paths;
    private final StatementTracker tracker;
    private final Deque<Pending> pending;
    private final OutputStream upOut;
    private final Duration timeout;
    private final Consumer<String> log;

    /** The question while it is answered, so that the session's end can end the wait. */
    private volatile SettingsReread asking;
    private volatile boolean ended;
    /** Why the server was not asked, or its answer is not known, and the unit that was for. */
    private String notAsked;
    private long notAskedFor = -1;

    /**
     * @param statementTimeout the database's; the question waits that long and 5 s more (30 s more when there is none)
     * @param log              where a failed question is reported
     */
    SettingsAsker(SearchPathTracker paths, StatementTracker tracker, Deque<Pending> pending, OutputStream upOut,
                  Duration statementTimeout, Consumer<String> log) {
        this.paths = paths;
        this.tracker = tracker;
        this.pending = pending;
        this.upOut = upOut;
        this.timeout = (statementTimeout == null || statementTimeout.isZero() ? Duration.ofSeconds(30) : statementTimeout)
                .plusSeconds(5);
        this.log = log;
    }

    /**
     * {@code path} (of unit {@code unit}, not fully known), made known by asking the server where that may be done now:
     * with nothing of the client on its way or in flight upstream ({@code quiet}: the server answers in order, and a
     * question inside an open pipeline would end its implicit transaction), outside an aborted transaction (the
     * question would fail), and not before a transaction command ({@code kind}) inside a block (a query before
     * {@code SET TRANSACTION} would make it fail; those do not depend on the path). Otherwise {@code path} as it is,
     * refused with the reason that applies. {@code null} when asking needs a thread that may wait.
     */
    SearchPathTracker.View settled(SearchPathTracker.View path, long unit, Kind kind, char transactionStatus,
                                   boolean quiet, boolean withoutWaiting) throws IOException {
        // Not asked at this unit's Parse, for a reason its Bind (where the path is taken) must give too.
        if (notAskedFor == unit) return path.refusedFor(notAsked);
        String why;
        if (transactionStatus == 'E' && paths.settled()) {
            why = SearchPathTracker.ABORTED;
        } else if (!paths.settled() || !quiet || transactionStatus == 'T' && kind == Kind.TCL) {
            return path;
        } else {
            if (withoutWaiting) return null;
            String failure = ask();
            if (failure == null) return paths.view(unit);
            why = SearchPathTracker.askFailed(failure);
        }
        notAsked = why;
        notAskedFor = unit;
        return paths.view(unit).refusedFor(why);
    }

    /** Asks the server and follows its answer; returns why not, or {@code null}. Owns the upstream's side meanwhile. */
    private String ask() throws IOException {
        SettingsReread question = new SettingsReread();
        asking = question;
        SettingsReread.Answer answer;
        try {
            if (ended) return "the session ended";
            answer = question.ask(pending, upOut, freeName(), timeout);
        } finally {
            asking = null;
        }
        String failure = switch (answer) {
            case SettingsReread.Answer.Known k -> paths.reread(k.settings(), k.status()) ? null
                    : "the server's transaction status '" + k.status() + "' is not the one Warden followed";
            case SettingsReread.Answer.Failed failed -> failed.why();
        };
        if (failure != null) log.accept(failure);
        return failure;
    }

    /**
     * A name the client's statements and portals do not have, nor, by its random part, a cursor the client declared in
     * SQL (a clash would fail the question's Bind and so abort the client's transaction block).
     */
    private String freeName() {
        String name = "warden_reread_" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        while (tracker.statement(name) != null || tracker.portal(name) != null) name += "_";
        return name;
    }

    /** The session ended: a question being answered fails now, and none is asked any more. */
    void sessionEnded() {
        ended = true;
        SettingsReread question = asking;
        if (question != null) question.abandon("the session ended");
    }
}
