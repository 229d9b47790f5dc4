package dev.warden.postgres.wire;

import dev.warden.postgres.catalog.SearchPath;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Warden's own question to the server: which search path, {@code role} setting and session user the session has now.
 * Asked on the session's upstream connection where Warden cannot follow them (after code a person approved, which
 * may call {@code set_config}; a computed {@code set_config}; an error that leaves them unclear), and only while
 * nothing of the client is on its way or in flight there, so that it cannot be mixed up with what the client sent.
 * {@link BackendRelay} reads the answer and keeps all of it from the client. It is Warden's housekeeping, not an
 * agent's action: it is not judged by the policy and not recorded in the ledger.
 *
 * <p>Each call is schema-qualified and {@code session_user} is a keyword, so no object of the session's path can
 * stand in for what it calls; the values come back in the server's own spelling ({@code "$user", public}), read with
 * the same parser as the startup's {@code SHOW search_path}.
 *
 * <p>It goes through the extended protocol under a statement and portal name of its own, closed again before its
 * Sync: a simple Query would drop the client's unnamed prepared statement and unnamed portal, which the client may
 * still bind or read on from (the server would then refuse them while Warden still tracks them).
 */
final class SettingsReread {
    static final String SQL = "SELECT pg_catalog.current_setting('search_path'), pg_catalog.current_setting('role'),"
            + " session_user";

    /** The settings, or why there are none. */
    sealed interface Answer {
        record Known(SearchPathTracker.Settings settings, char status) implements Answer {}

        record Failed(String why) implements Answer {}
    }

    private final CompletableFuture<Answer> answer = new CompletableFuture<>();
    // Relay thread only, until the answer is complete.
    private SearchPathTracker.Settings row;
    private String error;

    /**
     * Parse, Bind, Execute, Close of both and Sync, under {@code name}, which no statement or portal of the client has.
     * The statement is closed first too: a question whose Bind failed (a cursor the client declared under that name)
     * skipped its Closes, and the statement it left would make every later question fail.
     */
    static byte[] messages(String name) {
        PgWriter w = new PgWriter();
        new QueryMessage.Close('S', name).write(w);
        new QueryMessage.Parse(name, SQL, new int[0]).write(w);
        new QueryMessage.Bind(name, name, new int[0], new byte[0][], new int[0]).write(w);
        new QueryMessage.Execute(name, 0).write(w);
        new QueryMessage.Close('P', name).write(w);
        new QueryMessage.Close('S', name).write(w);
        QueryMessage.sync(w);
        return w.toByteArray();
    }

    /**
     * Sends the question upstream under {@code name} and waits for its answer; a question not answered in time counts
     * as failed (its answer is still consumed when it comes). The caller makes sure nothing of the client is on its way
     * or in flight, and that the client has no statement or portal of that name.
     */
    Answer ask(java.util.Deque<Pending> pending, java.io.OutputStream upstream, String name, Duration timeout) throws java.io.IOException {
        // Queued before the bytes leave, as for the client's messages, so that the relay knows whose answer it is.
        pending.addLast(new Pending.Reread(this));
        upstream.write(messages(name));
        upstream.flush();
        return await(timeout);
    }

    // ---- relay thread

    /** A DataRow of the answer: three text values. */
    void row(byte[] body) {
        try {
            PgReader r = new PgReader(body);
            if (r.int16() != 3 || row != null) throw new ProtocolException("not the one row of three values asked for");
            String path = text(r);
            String role = text(r);
            String user = text(r);
            row = new SearchPathTracker.Settings(List.copyOf(SearchPath.parse(path)), role, user, null);
        } catch (ProtocolException | IllegalArgumentException e) {
            error = "its answer could not be read: " + e.getMessage();
        }
    }

    private static String text(PgReader r) throws ProtocolException {
        int len = r.int32();
        if (len < 0) throw new ProtocolException("a value is NULL");
        return new String(r.bytes(len), StandardCharsets.UTF_8);
    }

    /** The server's ErrorResponse to it (25P02 in an aborted transaction, a cancel, a shutdown, a name in use). */
    void failed(String why) {
        if (error == null) error = why;
    }

    /** Its ReadyForQuery: the answer is complete. */
    void ready(char status) {
        if (error == null && row == null) error = "the server returned no row";
        answer.complete(error != null ? new Answer.Failed(error) : new Answer.Known(row, status));
    }

    // ---- any thread

    /** The session ended before the answer came. */
    void abandon(String why) {
        answer.complete(new Answer.Failed(why));
    }

    private Answer await(Duration timeout) {
        try {
            return answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return new Answer.Failed("no answer within " + timeout.toSeconds() + "s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer.Failed("interrupted");
        } catch (ExecutionException e) {
            return new Answer.Failed(String.valueOf(e.getCause()));
        }
    }
}
