package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.Gate;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;
import dev.warden.core.Verdict;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.ledger.LedgerException;
import dev.warden.postgres.classify.PathEffect;
import dev.warden.postgres.wire.QueryMessage.Bind;
import dev.warden.postgres.wire.QueryMessage.Close;
import dev.warden.postgres.wire.QueryMessage.Describe;
import dev.warden.postgres.wire.QueryMessage.Execute;
import dev.warden.postgres.wire.QueryMessage.Parse;
import dev.warden.postgres.wire.QueryMessage.Query;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Instant;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One authenticated client and its own upstream connection. This thread reads the client, judges what it sends
 * through the gate and forwards what may run; a second thread ({@link BackendRelay}) carries the answers back. A
 * denial never reaches the upstream: in its place goes a statement that fails harmlessly, so that PostgreSQL's own
 * error handling (skip to Sync, abort the transaction block) stays in step, and the relay swaps that error for the
 * denial.
 */
final class ClientSession {
    private static final byte[] POISON_QUERY = poisonQuery();
    private static final byte[] POISON_PARSE = poisonParse();

    private final PgFrontEnd frontEnd;
    private final Socket socket;
    private final InputStream clientIn;
    private final FrameReader reader;
    private final ClientOutput out;
    private final UpstreamConnection upstream;
    private final OutputStream upOut;
    private final Deque<Pending> pending = new ConcurrentLinkedDeque<>();
    private final StatementTracker tracker = new StatementTracker();
    private final Gate gate;
    private final String agent;
    private final DatabaseConfig database;
    private final String sessionId;
    private final String clientAddress;
    private final List<String> initialSearchPath;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final SearchPathTracker paths;
    private volatile char transactionStatus = 'I';
    private volatile boolean copyIn;
    private volatile boolean judging;
    private volatile boolean holding;
    private volatile Thread readerThread;
    private volatile String closeReason;
    private long generation;
    private boolean skipToSync;

    ClientSession(PgFrontEnd frontEnd, StartupHandshake.Established s, UpstreamConnection upstream, String sessionId) {
        this.frontEnd = frontEnd;
        this.socket = s.socket();
        this.clientIn = s.in();
        this.reader = new FrameReader(s.in(), s.database().listener().maxMessageBytes());
        this.out = new ClientOutput(s.out());
        this.upstream = upstream;
        this.upOut = upstream.out();
        this.gate = frontEnd.gate();
        this.agent = s.agent();
        this.database = s.database();
        this.sessionId = sessionId;
        this.clientAddress = s.clientAddress();
        this.initialSearchPath = s.searchPath();
        this.paths = new SearchPathTracker(initialSearchPath, path -> tracker.preparedView(path, this::reclassify));
    }

    StatementTracker tracker() {
        return tracker;
    }

    String agent() {
        return agent;
    }

    /** True when nothing is in flight: a shutdown may close it now. */
    boolean idle() {
        return pending.isEmpty() && !judging;
    }

    /** The rest of the startup: parameter statuses, the cancel key, ReadyForQuery. */
    void greet(byte[] messages) throws IOException {
        out.send(messages);
    }

    /** Reads the client until it leaves, misbehaves or the upstream dies. */
    void run() {
        readerThread = Thread.currentThread();
        Thread relay = (PgFrontEnd.PLATFORM ? Thread.ofPlatform().daemon() : Thread.ofVirtual()).name("pg-relay-" + sessionId).start(this::relay);
        try {
            long idleMillis = database.listener().idleTimeout().toMillis();
            socket.setSoTimeout(idleMillis > 0 ? (int) Math.min(idleMillis, Integer.MAX_VALUE) : 0);
            while (!closed.get()) {
                Frame f;
                try {
                    f = reader.read();
                } catch (SocketTimeoutException e) {
                    if (!pending.isEmpty()) continue;
                    fatal("57P05", "terminating connection due to idle-session timeout (warden: idle for "
                            + database.listener().idleTimeout().toSeconds() + "s)");
                    return;
                }
                if (!handle(f)) return;
                // Whatever the client sent in one go goes upstream in one go.
                if (reader.buffered() == 0) upOut.flush();
            }
        } catch (ProtocolException e) {
            fatal("08P01", "warden: protocol violation: " + e.getMessage());
        } catch (EOFException e) {
            // the client left
        } catch (IOException e) {
            if (closeReason == null) closeReason = "client connection: " + e.getMessage();
        } finally {
            close();
            try {
                relay.join(2000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void relay() {
        try {
            new BackendRelay(upstream.in(), out, pending, this).run();
        } catch (IOException e) {
            if (!closed.get()) {
                fatal("08006", "warden: the connection to the database was lost (" + e.getMessage()
                        + "); reconnect to get a new session");
            }
        } catch (RuntimeException e) {
            if (!closed.get()) fatal("XX000", "warden: internal error in the session relay: " + e);
        } finally {
            close();
        }
    }

    /** Returns false when the session ends. */
    private boolean handle(Frame f) throws IOException {
        int type = f.type();
        if (type == 'X') return false;
        if (skipToSync && type != 'S') return true;
        switch (type) {
            case 'Q' -> simpleQuery(f);
            case 'P' -> parse(f);
            case 'B' -> bind(f);
            case 'E' -> execute(f);
            case 'D' -> {
                Describe.read(f);
                forward(new Pending.Describe(), f);
            }
            case 'C' -> {
                Close c = Close.read(f);
                if (c.kind() == 'S') tracker.closeStatement(c.name());
                else tracker.closePortal(c.name());
                forward(new Pending.Close(), f);
            }
            case 'S' -> {
                skipToSync = false;
                forward(new Pending.Sync(++generation), f);
            }
            case 'H' -> f.writeTo(raw());
            case 'd', 'c', 'f' -> {
                // COPY data goes upstream only while an allowed COPY ... FROM STDIN is running.
                if (copyIn) {
                    if (type != 'd') copyIn = false;
                    f.writeTo(raw());
                }
            }
            case 'F' -> functionCall(f);
            default -> throw new ProtocolException("unexpected message type '" + (char) type + "'");
        }
        flushRaw();
        return true;
    }

    // ---- simple query

    private void simpleQuery(Frame f) throws IOException {
        Query q = Query.read(f);
        Operation op = operation(q.sql(), List.of());
        SearchPathTracker.View path = paths.view(generation + 1);
        ClassifyContext context = paths.context(path);
        Classification c = gate.classify(op, context);
        SqlSessionTracking.Effect effect = SqlSessionTracking.of(q.sql(), c);
        List<PathEffect> pathEffects = SearchPathTracker.effects(q.sql(), c);
        String refusal = effect.refusal() != null ? effect.refusal() : paths.refusal(generation + 1, path, pathEffects);
        if (refusal != null) {
            denyMessage("warden: refused: " + refusal, true);
            return;
        }
        Verdict v = judge(() -> gate.judge(op, c, context, hold()));
        if (!v.run()) {
            deny(v, true);
            return;
        }
        Runnable onSuccess = effect.apply(this);
        paths.sent(generation + 1, pathEffects);
        forward(new Pending.Query(v, System.nanoTime(), onSuccess, ++generation), f);
    }

    // ---- extended query

    private void parse(Frame f) throws IOException {
        Parse p = Parse.read(f);
        Operation op = operation(p.sql(), List.of());
        ClassifyContext context = paths.context(paths.view(generation + 1));
        Classification c = gate.classify(op, context);
        if (gate.preview(op, c).action() == dev.warden.core.Action.DENY) {
            // The text alone condemns it: refuse at Parse, with the decision on record.
            Verdict v = judge(() -> gate.judge(op, c, context, null));
            if (!v.run()) {
                deny(v, false);
                return;
            }
        }
        StatementTracker.Prepared st = tracker.parse(p.name(), p.sql(), c, p.parameterTypes());
        if (st != null) st.searchPath = context.searchPath();
        forward(new Pending.Parse(st), f);
    }

    private void bind(Frame f) throws IOException {
        Bind b = Bind.read(f);
        StatementTracker.Prepared st = tracker.statement(b.statement());
        StatementTracker.Portal portal = tracker.bind(b.portal(), st, b.rendered(st == null ? null : st.parameterTypes), generation + 1);
        if (portal != null) portal.searchPath = paths.view(generation + 1);
        forward(new Pending.Bind(portal), f);
    }

    private void execute(Frame f) throws IOException {
        Execute e = Execute.read(f);
        StatementTracker.Portal p = tracker.portal(e.portal());
        if (p == null || p.refusal != null || p.statement == null) {
            String why = p == null ? "portal \"" + e.portal() + "\" is not known to Warden" : p.refusal;
            denyMessage("warden: refused: " + why, false);
            return;
        }
        SqlSessionTracking.Effect effect = SqlSessionTracking.of(p.statement.text, p.statement.classification);
        Verdict v = p.verdict;
        List<PathEffect> pathEffects = List.of();
        String refusal = effect.refusal();
        Classification c = p.statement.classification;
        ClassifyContext context = null;
        if (v == null && refusal == null) {
            // Judged under the path the portal was planned with (at Bind); classified again if that is not the
            // path of its Parse, as the server analyses it again.
            SearchPathTracker.View path = p.searchPath != null ? p.searchPath : paths.view(generation + 1);
            context = paths.context(path);
            if (path.path() != null && !path.path().equals(p.statement.searchPath)) {
                c = gate.classify(operation(p.statement.text, List.of()), context);
            }
            pathEffects = SearchPathTracker.effects(p.statement.text, c);
            refusal = paths.refusal(generation + 1, path, pathEffects);
        }
        if (refusal != null) {
            denyMessage("warden: refused: " + refusal, false);
            return;
        }
        if (v == null) {
            Operation op = operation(p.statement.text, p.parameters);
            Classification judged = c;
            ClassifyContext ctx = context;
            v = judge(() -> gate.judge(op, judged, ctx, hold()));
            // Later Executes of the same portal fetch more rows of what was judged here.
            if (v.run()) p.verdict = v;
        }
        if (!v.run()) {
            deny(v, false);
            return;
        }
        Runnable onSuccess = effect.apply(this);
        paths.sent(generation + 1, pathEffects);
        forward(new Pending.Execute(v, System.nanoTime(), onSuccess), f);
    }

    // ---- fast path

    private void functionCall(Frame f) throws IOException {
        QueryMessage.FunctionCall call = QueryMessage.FunctionCall.read(f);
        Classification c = FastPathCall.classify(call.functionOid(),
                gate.target(database.name()).map(t -> t.catalog()).orElse(null));
        String text = c.statements().getFirst().text();
        Operation op = operation(text, List.of());
        ClassifyContext context = paths.context(paths.view(generation + 1));
        Verdict v = judge(() -> gate.judge(op, c, context, hold()));
        if (!v.run()) {
            deny(v, true);
            return;
        }
        paths.sent(generation + 1, SearchPathTracker.effects(text, c));
        forward(new Pending.Query(v, System.nanoTime(), null, ++generation), f);
    }

    // ---- denial

    private void deny(Verdict v, boolean simple) throws IOException {
        denyMessage(v.message() == null ? "warden: " + v.decision().summary() : v.message(), simple);
    }

    private void denyMessage(String message, boolean simple) throws IOException {
        byte[] error = Notice.error("ERROR", "42501", message).bytes();
        if (simple) {
            pending.addLast(new Pending.Denied(error, true, ++generation));
            paths.denied(generation);
            raw().bytes(POISON_QUERY);
        } else {
            pending.addLast(new Pending.Denied(error, false, generation));
            paths.denied(generation + 1);
            raw().bytes(POISON_PARSE);
            // PostgreSQL skips to the next Sync after an error; the denied pipeline's remaining messages go nowhere.
            skipToSync = true;
        }
        flushRaw();
    }

    private static byte[] poisonQuery() {
        PgWriter w = new PgWriter();
        new Query("warden_denied").write(w);
        return w.toByteArray();
    }

    private static byte[] poisonParse() {
        PgWriter w = new PgWriter();
        // A syntax error: nothing is created, nothing runs; a named target so the unnamed statement is untouched.
        new Parse("warden_denied", "warden_denied", new int[0]).write(w);
        return w.toByteArray();
    }

    // ---- gate helpers

    private interface Judgement {
        Verdict get();
    }

    private Verdict judge(Judgement j) {
        judging = true;
        try {
            return j.get();
        } finally {
            judging = false;
            holding = false;
            Thread.interrupted();
        }
    }

    private Gate.Hold hold() {
        return new Gate.Hold(held -> {
            holding = true;
            try {
                // Earlier pipelined messages reach the server before the (possibly long) wait.
                flushRaw();
                upOut.flush();
                out.send(Notice.notice(held.message()).bytes());
            } catch (IOException ignored) {
                // the wait goes on; the client will see the result or the connection end
            }
        }, transactionStatus != 'I');
    }

    private Operation operation(String text, List<String> params) {
        return new Operation(agent, database.name(), "postgres", text, params, dev.warden.core.approval.StatedReason.parse(text), sessionId, clientAddress, Instant.now());
    }

    // ---- forwarding

    private final PgWriter raw = new PgWriter();

    private PgWriter raw() {
        return raw;
    }

    private void flushRaw() throws IOException {
        if (raw.size() > 0) {
            raw.writeTo(upOut);
            raw.reset();
        }
    }

    private void forward(Pending p, Frame f) throws IOException {
        // The expectation is queued before the bytes leave, so the relay always finds it.
        pending.addLast(p);
        f.writeTo(raw);
        if (raw.size() > 65536) flushRaw();
    }

    // ---- called by the relay

    void readyForQuery(char status, long gen) {
        transactionStatus = status;
        paths.ended(status, gen);
        if (status == 'I' && gen >= 0) tracker.transactionEnded(gen);
        if (status == 'I' && ddlSinceIdle) {
            // A transaction that ran DDL ended (committed or not): the catalog's cache may be out of date.
            ddlSinceIdle = false;
            invalidateCatalog();
        }
    }

    /** A simple Query (or function call) completed: its session effects now, its outcome for the ledger. */
    Outcome finished(Pending.Query q) {
        long micros = BackendRelay.micros(q.startNanos);
        if (q.error == null && q.onSuccess != null) q.onSuccess.run();
        return q.error == null ? Outcome.ok(q.rows, micros) : Outcome.error(q.error, micros);
    }

    private volatile boolean ddlSinceIdle;

    private void invalidateCatalog() {
        try {
            gate.target(database.name()).ifPresent(t -> t.catalog().invalidate());
        } catch (RuntimeException e) {
            frontEnd.log("warden: the catalog could not be invalidated: " + e.getMessage());
        }
    }

    /** Called as soon as a statement completed, before the client sees it: what must not wait. */
    void completed(Verdict v, Outcome o) {
        if (v != null && v.classification() != null && o.error() == null && changesSchema(v.classification())) {
            ddlSinceIdle = true;
            invalidateCatalog();
        }
    }

    /** The outcome entry, written once the response is on its way to the client. */
    void record(Verdict v, Outcome o) {
        try {
            gate.outcome(v, o);
        } catch (LedgerException | RuntimeException e) {
            frontEnd.log("warden: the ledger could not record an outcome: " + e.getMessage());
        }
    }

    private static boolean changesSchema(Classification c) {
        for (dev.warden.core.Statement st : c.statements()) {
            if (st.kind() == dev.warden.core.Kind.DDL || st.kind() == dev.warden.core.Kind.DCL) return true;
        }
        return false;
    }

    void copyInStarted() {
        copyIn = true;
    }

    void copyEnded() {
        copyIn = false;
    }

    // ---- session state changed by allowed SQL

    /** The relay saw an ErrorResponse: the unit it belongs to did not run to its end. */
    void upstreamError() {
        paths.error();
    }

    /** A prepared statement's text under a search path other than the one it was classified with. */
    private Classification reclassify(String text, List<String> path) {
        return gate.classify(operation(text, List.of()), new ClassifyContext(path, java.util.Map.of()));
    }

    Classification classifyBody(String body) {
        return gate.classify(operation(body, List.of()), paths.context(paths.view(generation + 1)));
    }

    // ---- cancel and shutdown

    UpstreamConnection upstream() {
        return upstream;
    }

    /** A CancelRequest for this session: cancels the running statement, or ends an approval wait. */
    void cancel() {
        Thread t = readerThread;
        // Only the approval wait is interrupted: an interrupt during I/O would close the ledger's channel.
        if (holding && t != null) t.interrupt();
        else upstream.cancel();
    }

    void fatal(String code, String message) {
        if (closeReason == null) closeReason = message;
        out.sendQuietly(Notice.error("FATAL", code, message).bytes());
        close();
    }

    void close() {
        if (!closed.compareAndSet(false, true)) return;
        upstream.close();
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        frontEnd.ended(this);
    }
}
