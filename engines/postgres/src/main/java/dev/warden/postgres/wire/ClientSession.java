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
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One authenticated client and its own upstream connection: what the client sends is judged through the gate and
 * forwarded when it may run; {@link BackendRelay} carries the answers back. A denial never reaches the upstream: in
 * its place goes a statement that fails harmlessly, so that PostgreSQL's own error handling (skip to Sync, abort the
 * transaction block) stays in step, and the relay swaps that error for the denial.
 *
 * <p>No I/O of its own: {@link LoopSession} feeds it frames ({@link #handle}) and upstream bytes from an
 * {@link EventLoop}. Handling a frame {@code withoutWaiting} does only what cannot block; when the gate would have to
 * wait (a classification to compute, a catalog to reload, a row estimate, a denial or approval to record) it answers
 * {@link Step#NEEDS_THREAD} having changed nothing, and the driver handles the same frame again on a thread that may
 * block. Decisions made without waiting are staged in the ledger: what they allow goes upstream only once they are
 * written ({@link #flushUpstream}), or fsynced where the ledger asks for it ({@link #syncPending}).
 */
final class ClientSession {
    private static final byte[] POISON_QUERY = poisonQuery();
    private static final byte[] POISON_PARSE = poisonParse();

    /** What became of a frame. */
    enum Step { NEXT, END, NEEDS_THREAD }

    private final PgFrontEnd frontEnd;
    private final java.io.Closeable clientTransport;
    private final ClientOutput out;
    private final UpstreamConnection upstream;
    private final OutputStream upOut;
    private final Deque<Pending> pending = new ConcurrentLinkedDeque<>();
    private final StatementTracker tracker = new StatementTracker();
    /** The session's database's catalog (its target's, fixed for the process), or null. */
    private final dev.warden.core.engine.Catalog catalog;
    private final Gate gate;
    private final String agent;
    private final DatabaseConfig database;
    private final String sessionId;
    private final String clientAddress;
    private final List<String> initialSearchPath;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final SearchPathTracker paths;
    private final SettingsAsker asker;
    /** Schema changes the catalog cannot see yet: while there is one, statements are judged with its doubt. */
    private final SchemaChanges changes = new SchemaChanges();
    /** The context of the statement being handled: its search path, as {@link #paths} says it is when it runs. */
    private volatile ClassifyContext context;
    private volatile char transactionStatus = 'I';
    private volatile boolean copyIn;
    /**
     * An allowed {@code COPY … FROM STDIN} went upstream and the client has not ended its data yet: data it pipelined
     * behind the COPY, before the server's CopyInResponse, goes upstream too, in order, as PostgreSQL reads it
     * (dropped, the server waited for it forever). A COPY the server refuses ignores it, as it ignores CopyData outside
     * a COPY.
     */
    private volatile boolean copyAhead;
    private final ApprovalWait approval = new ApprovalWait();
    private long generation;
    private boolean skipToSync;
    /** Extended-protocol messages went out since the last Sync. */
    private boolean extendedOpen;
    /** The server reported an error since its last ReadyForQuery (set and cleared by the relay). */
    private volatile boolean failedSinceReady;

    /**
     * @param clientTransport closes the client's connection
     * @param out             the client's side, for the relay and for notices
     * @param upOut           the upstream's side: forwarded messages
     */
    ClientSession(PgFrontEnd frontEnd, StartupHandshake.Established s, java.io.Closeable clientTransport, ClientOutput out,
                  UpstreamConnection upstream, OutputStream upOut, String sessionId) {
        this.frontEnd = frontEnd;
        this.clientTransport = clientTransport;
        this.out = out;
        this.upstream = upstream;
        this.upOut = upOut;
        this.gate = frontEnd.gate();
        this.batch = new UpstreamBatch(gate);
        this.agent = s.agent();
        this.database = s.database();
        this.catalog = gate.target(database.name()).map(t -> t.catalog()).orElse(null);
        this.sessionId = sessionId;
        this.clientAddress = s.clientAddress();
        this.initialSearchPath = s.searchPath();
        this.paths = new SearchPathTracker(initialSearchPath, database.upstream().user(),
                names -> tracker.preparedView(names, this::reclassify));
        this.asker = new SettingsAsker(paths, tracker, pending, upOut, database.statementTimeout(), failure -> frontEnd.log(
                "warden: session " + sessionId + " could not read its search path and role from the server: " + failure));
        this.context = contextFor(paths.view(0));
    }

    StatementTracker tracker() {
        return tracker;
    }

    String agent() {
        return agent;
    }

    String id() {
        return sessionId;
    }

    DatabaseConfig database() {
        return database;
    }

    ClientOutput out() {
        return out;
    }

    Deque<Pending> pending() {
        return pending;
    }

    boolean closed() {
        return closed.get();
    }

    /** A frame is being judged (on a thread that may wait, a hold among others). */
    boolean judging() {
        return approval.judging();
    }

    /** True when nothing is in flight: a shutdown or the idle timeout may close it now. */
    boolean idle() {
        return pending.isEmpty() && !approval.judging();
    }

    /** The rest of the startup: parameter statuses, the cancel key, ReadyForQuery. */
    void greet(byte[] messages) throws IOException {
        out.send(messages);
    }

    /** Handles one client message; {@code withoutWaiting}: see the class comment. */
    Step handle(Frame f, boolean withoutWaiting) throws IOException {
        int type = f.type();
        if (type == 'X') return Step.END;
        if (skipToSync && type != 'S') return Step.NEXT;
        if ((type == 'Q' || type == 'F') && extendedOpen && !extendedSettled()) {
            // After an error the server ignores everything up to the Sync, this too, and while an answer is still to
            // come Warden cannot know whether one happened: the replies would no longer match what they answer.
            throw new ProtocolException("a simple Query or FunctionCall inside an extended-protocol pipeline: send Sync"
                    + " first, or wait for the answers to what came before it");
        }
        boolean done = switch (type) {
            case 'Q' -> simpleQuery(f, withoutWaiting);
            case 'P' -> parse(f, withoutWaiting);
            case 'B' -> bind(f, withoutWaiting);
            case 'E' -> execute(f, withoutWaiting);
            case 'D' -> {
                Describe.read(f);
                yield forward(new Pending.Describe(), f);
            }
            case 'C' -> {
                Close c = Close.read(f);
                if (c.kind() == 'S') tracker.closeStatement(c.name());
                else tracker.closePortal(c.name());
                yield forward(new Pending.Close(), f);
            }
            case 'S' -> {
                skipToSync = false;
                yield forward(new Pending.Sync(++generation), f);
            }
            case 'H' -> {
                batch.add(f);
                yield true;
            }
            case 'd', 'c', 'f' -> {
                // COPY data goes upstream only behind an allowed COPY ... FROM STDIN.
                if (copyIn || copyAhead) {
                    if (type != 'd') {
                        copyIn = false;
                        copyAhead = false;
                    }
                    batch.addData(f);
                }
                yield true;
            }
            // The function's OID is resolved through the live catalog: that may wait.
            case 'F' -> !withoutWaiting && functionCall(f);
            default -> throw new ProtocolException("unexpected message type '" + (char) type + "'");
        };
        if (!done) return Step.NEEDS_THREAD;
        // Set once a frame is handled, so that while one is judged on another thread it says whether what was collected
        // before it leaves a pipeline open (what flushUpstream records as sent).
        if (type == 'P' || type == 'B' || type == 'E' || type == 'D' || type == 'C') extendedOpen = true;
        // A Query (or FunctionCall) ends the extended protocol's implicit transaction as a Sync does: it commits it,
        // or rolls it back on an error, and ends with ReadyForQuery.
        else if (type == 'S' || type == 'Q' || type == 'F') extendedOpen = false;
        // What runs nothing may wait for a held statement behind it (see beforeWait): at most what one pass read.
        if (type == 'H' || batch.runs() && batch.size() > 65536) flushUpstream();
        return Step.NEXT;
    }

    /**
     * Everything sent upstream is answered, without an error since the last ReadyForQuery: the server is not skipping
     * to a Sync, so a Query sent now runs, and its answers are its own. asyncpg does this: Parse, Describe and Flush
     * for the COPY's column types, then the COPY as a Query, without a Sync between them. The relay sets the error
     * before it takes the answered message off {@link #pending}, so an empty queue says the flag is up to date.
     */
    private boolean extendedSettled() {
        return pending.isEmpty() && !failedSinceReady && batch.size() == 0;
    }

    // ---- simple query

    private boolean simpleQuery(Frame f, boolean withoutWaiting) throws IOException {
        Query q = Query.read(f);
        if (unseenCodeRunning()) {
            denyMessage("warden: refused: " + UNSEEN_CODE, true);
            return true;
        }
        Operation op = operation(q.sql(), List.of());
        Classified classified = classifyForNextUnit(op, withoutWaiting);
        if (classified == null) return false;
        SearchPathTracker.View path = classified.path();
        Classification c = classified.classification();
        SqlSessionTracking.Effect effect = SqlSessionTracking.of(q.sql(), c, tracker);
        // PREPARE classifies its body when applied.
        if (withoutWaiting && effect.kind() == SqlSessionTracking.Effect.Kind.PREPARE) return false;
        List<PathEffect> pathEffects = SearchPathTracker.effects(q.sql(), c, withoutWaiting);
        if (pathEffects == null) return false;
        String refusal = effect.refusal() != null ? effect.refusal() : paths.refusal(generation + 1, path, pathEffects);
        if (refusal != null) {
            denyMessage("warden: refused: " + refusal, true);
            return true;
        }
        Verdict v = judge(op, c, withoutWaiting, true);
        if (v == null) return false;
        if (!v.run()) {
            deny(v, true);
            return true;
        }
        Runnable onSuccess = effect.apply(this);
        sent(v, pathEffects);
        return forward(new Pending.Query(v, System.nanoTime(), onSuccess, ++generation), v, withoutWaiting, f);
    }

    // ---- extended query

    private boolean parse(Frame f, boolean withoutWaiting) throws IOException {
        Parse p = Parse.read(f);
        if (unseenCodeRunning()) {
            denyMessage("warden: refused: " + UNSEEN_CODE, false);
            return true;
        }
        Operation op = operation(p.sql(), List.of());
        Classified classified = classifyForNextUnit(op, withoutWaiting);
        if (classified == null) return false;
        Classification c = withParameterTypes(classified.classification(), p.parameterTypes(), withoutWaiting);
        if (c == null) return false;
        if (gate.preview(op, c).action() == dev.warden.core.Action.DENY) {
            // The text alone condemns it: refuse at Parse, with the decision on record. An approval is asked for at
            // Execute, where the statement runs (and may be held), not here.
            Verdict v = withoutWaiting ? judge(op, c, true, false) : judgeUnlessApproval(op, c);
            if (v == null && withoutWaiting) return false;
            if (v != null && !v.run()) {
                deny(v, false);
                return true;
            }
        }
        StatementTracker.Prepared held = p.name().isEmpty() ? null : tracker.statement(p.name());
        if (held != null && held.confirmed) {
            // An error upstream too; were the upstream no longer to hold the name (dropped where Warden could not
            // see it), Bind and Execute would be judged by the old text: so it never goes there.
            denyMessage("warden: refused: prepared statement \"" + p.name() + "\" already exists", false);
            return true;
        }
        StatementTracker.Prepared st = tracker.parse(p.name(), p.sql(), c, p.parameterTypes());
        if (st != null) st.context = context;
        return forward(new Pending.Parse(st), f);
    }

    private boolean bind(Frame f, boolean withoutWaiting) throws IOException {
        Bind b = Bind.read(f);
        StatementTracker.Prepared st = tracker.statement(b.statement());
        StatementTracker.Portal held = b.portal().isEmpty() ? null : tracker.portal(b.portal());
        if (held != null && held.confirmed) {
            denyMessage("warden: refused: portal \"" + b.portal() + "\" already exists", false);
            return true;
        }
        // A statement prepared earlier and bound first in its unit: the last moment the server can be asked.
        SearchPathTracker.View path = paths.view(generation + 1);
        if (st != null && path.unknown()) path = settled(path, st.classification, withoutWaiting);
        if (path == null) return false;
        StatementTracker.Portal portal = tracker.bind(b.portal(), st, b.rendered(st == null ? null : st.parameterTypes), generation + 1);
        // The server plans the portal at Bind: under the search path of that moment.
        if (portal != null) portal.searchPath = path;
        return forward(new Pending.Bind(portal), f);
    }

    private boolean execute(Frame f, boolean withoutWaiting) throws IOException {
        Execute e = Execute.read(f);
        StatementTracker.Portal p = tracker.portal(e.portal());
        if (p == null || p.refusal != null || p.statement == null) {
            String why = p == null ? "portal \"" + e.portal() + "\" is not known to Warden" : p.refusal;
            denyMessage("warden: refused: " + why, false);
            return true;
        }
        SqlSessionTracking.Effect effect = SqlSessionTracking.of(p.statement.text, p.statement.classification, tracker);
        if (withoutWaiting && effect.kind() == SqlSessionTracking.Effect.Kind.PREPARE) return false;
        Verdict v = p.verdict;
        String refusal = effect.refusal();
        Classification c = p.statement.classification;
        List<PathEffect> pathEffects = List.of();
        if (v == null && refusal == null) {
            // Judged under the path the portal was planned with; classified again when that is not the path of its
            // Parse, as the server analyses it again.
            SearchPathTracker.View path = p.searchPath != null ? p.searchPath : paths.view(generation + 1);
            context = contextFor(path);
            // Classified again, too, when the role changed ("$user" in the path follows it, and so does the server's
            // analysis), or a schema change the catalog cannot see yet came or went since its Parse.
            ClassifyContext judged = p.statement.context;
            if (judged == null || path.path() != null && !context.sameNames(judged)
                    || !java.util.Objects.equals(context.schemaDoubt(), judged.schemaDoubt())) {
                c = classify(operation(p.statement.text, List.of()), withoutWaiting);
                if (c == null) return false;
                c = withParameterTypes(c, p.statement.parameterTypes, withoutWaiting);
                if (c == null) return false;
            }
            pathEffects = SearchPathTracker.effects(p.statement.text, c, withoutWaiting);
            if (pathEffects == null) return false;
            refusal = paths.refusal(generation + 1, path, pathEffects);
        }
        if (refusal != null) {
            denyMessage("warden: refused: " + refusal, false);
            return true;
        }
        if (v == null) {
            v = judge(operation(p.statement.text, p.parameters), c, withoutWaiting, true);
            if (v == null) return false;
            // Later Executes of the same portal fetch more rows of what was judged here.
            if (v.run()) p.verdict = v;
        }
        if (!v.run()) {
            deny(v, false);
            return true;
        }
        Runnable onSuccess = effect.apply(this);
        sent(v, pathEffects);
        return forward(new Pending.Execute(v, System.nanoTime(), onSuccess), v, withoutWaiting, f);
    }

    // ---- fast path

    /** What the Parse's declared parameter types run, added; {@code null} when finding out needs a wait. */
    private Classification withParameterTypes(Classification c, int[] types, boolean withoutWaiting) {
        if (withoutWaiting && ParameterTypes.mayWait(types, catalog)) return null;
        return ParameterTypes.judge(c, types, catalog, context.schemaDoubt());
    }

    private boolean functionCall(Frame f) throws IOException {
        QueryMessage.FunctionCall call = QueryMessage.FunctionCall.read(f);
        Classification c = FastPathCall.classify(call.functionOid(), catalog);
        String text = c.statements().getFirst().text();
        SearchPathTracker.View path = paths.view(generation + 1);
        if (path.unknown()) path = settled(path, c, false);
        context = contextFor(path);
        Verdict v = judge(operation(text, call.rendered()), c, false, true);
        if (!v.run()) {
            deny(v, true);
            return true;
        }
        sent(v, SearchPathTracker.effects(text, c, false));
        return forward(new Pending.Query(v, System.nanoTime(), null, ++generation), v, false, f);
    }

    /** The role the server says the session acts as at its start ({@code SHOW role}; {@code none}: the user). */
    void startsAs(String role) {
        paths.startsAs(role);
        context = contextFor(paths.view(0));
    }

    /**
     * {@code path} of the next unit, made known by asking the server where it may be asked now ({@link SettingsAsker});
     * {@code null} when that needs a thread that may wait.
     */
    private SearchPathTracker.View settled(SearchPathTracker.View path, Classification c, boolean withoutWaiting) throws IOException {
        boolean quiet = pending.isEmpty() && batch.size() == 0 && !extendedOpen && !copyIn && !copyAhead;
        return asker.settled(path, generation + 1, c.kind(), transactionStatus, quiet, withoutWaiting);
    }

    /** A text classified under the path (and role) it was classified with. */
    private record Classified(SearchPathTracker.View path, Classification classification) {}

    /**
     * The text classified under the path of the next unit, where that path is not known after the server was asked
     * ({@link #settled}); {@code null} when that needs a thread that may wait.
     */
    private Classified classifyForNextUnit(Operation op, boolean withoutWaiting) throws IOException {
        SearchPathTracker.View path = paths.view(generation + 1);
        context = contextFor(path);
        Classification c = classify(op, withoutWaiting);
        if (c == null) return null;
        if (!path.unknown()) return new Classified(path, c);
        SearchPathTracker.View asked = settled(path, c, withoutWaiting);
        if (asked == null) return null;
        if (asked != path) {
            context = contextFor(asked);
            c = classify(op, withoutWaiting);
            if (c == null) return null;
        }
        return new Classified(asked, c);
    }

    /** The context of a statement that runs under this path, with the doubt of a schema change not seen yet. */
    private ClassifyContext contextFor(SearchPathTracker.View path) {
        return changes.applyTo(paths.context(path));
    }

    /**
     * The unit of the last statement sent that runs code Warden cannot see into (approved code, or DDL that may fire
     * an event trigger). Such code may change how the server reads the text of what follows
     * (standard_conforming_strings, client_encoding), which the server reports only with that unit's ReadyForQuery
     * (the relay ends the session then): a text sent before that would be read by the server one way and judged by
     * Warden another.
     */
    private volatile long unseenCodeUnit = -1;
    static final String UNSEEN_CODE = "an earlier statement runs code Warden cannot see into, which may change how the"
            + " server reads the text of the next one; wait for its result (its ReadyForQuery: in the extended protocol,"
            + " after a Sync), then send the statement again";

    private boolean unseenCodeRunning() {
        return answered < unseenCodeUnit;
    }

    /** The relay read a setting report after which the server reads texts differently from Warden: nothing more runs. */
    void readsDifferently(String why) {
        fatal("55000", "warden: the server now reads statements differently from Warden's parser (" + why + ", set by"
                + " code that ran on the server); nothing more is judged on this session, reconnect");
    }

    /** What an allowed statement going upstream (in the next unit) changes in the session's state. */
    private void sent(Verdict v, List<PathEffect> pathEffects) {
        // An event trigger runs code for DDL as approved code does; without a catalog that says there is none, DDL
        // may fire one (fail closed).
        boolean eventTriggers = !(catalog instanceof dev.warden.postgres.catalog.SchemaInfo s) || s.eventTriggers();
        boolean unseen = SearchPathTracker.runsUnseenCode(v, eventTriggers);
        if (unseen) unseenCodeUnit = generation + 1;
        paths.sent(generation + 1, unseen ? SearchPathTracker.withOpaque(v, pathEffects, eventTriggers) : pathEffects);
        changes.sent(v, generation + 1);
        // Alone in its unit and outside any transaction: once it completes, the session has no temporary object left
        // (a rollback around it would bring them back).
        if (pathEffects.size() == 1 && pathEffects.getFirst().dropsTemporaryObjects() && nothingBefore()) {
            changes.discarding(generation + 1);
        }
        for (dev.warden.core.Statement s : v.classification().statements()) {
            if ("COPY FROM".equals(s.command())) copyAhead = true;
        }
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
            batch.addStandIn(POISON_QUERY);
        } else {
            pending.addLast(new Pending.Denied(error, false, generation));
            paths.denied(generation + 1);
            batch.addStandIn(POISON_PARSE);
            // PostgreSQL skips to the next Sync after an error; the denied pipeline's remaining messages go nowhere.
            skipToSync = true;
        }
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

    /** The classification, or {@code null} when it cannot be had without waiting. */
    private Classification classify(Operation op, boolean withoutWaiting) {
        return withoutWaiting ? gate.classifyWithoutWaiting(op, context).orElse(null) : gate.classify(op, context);
    }

    /** The verdict, or {@code null} when it cannot be had without waiting. {@code mayHold}: an approval may hold it. */
    private Verdict judge(Operation op, Classification c, boolean withoutWaiting, boolean mayHold) {
        if (withoutWaiting) return gate.judgeWithoutWaiting(op, c, context).orElse(null);
        // Locks are held while it waits when its transaction is (or may be) on the server: beforeWait sent what had to go.
        return approval.judge(() -> gate.judge(op, c, context, mayHold ? approval.hold(out, closed::get, transactionUpstream()) : null));
    }

    /** The verdict at Parse, or {@code null} when an approval rule leaves it to Execute. */
    private Verdict judgeUnlessApproval(Operation op, Classification c) {
        return approval.judge(() -> gate.judgeUnlessApproval(op, c, context).orElse(null));
    }

    private Operation operation(String text, List<String> params) {
        return new Operation(agent, database.name(), "postgres", text, params, dev.warden.core.approval.StatedReason.parse(text), sessionId, clientAddress, Instant.now());
    }

    // ---- forwarding

    private final UpstreamBatch batch;
    /** The Sync generation whose ReadyForQuery answers all that went upstream (one more while a pipeline is open). */
    private long sentThrough;
    /** The Sync generation of the last ReadyForQuery. */
    private volatile long answered;

    /** Sends what was collected; the driver calls it once it has handled every whole message it has. */
    void flushUpstream() throws IOException {
        // Nothing leaves while a decision among what waits is not durable yet (the driver flushes again once it is).
        if (batch.waitsForSync()) return;
        if (batch.size() > 0) {
            try {
                batch.sendTo(upOut);
            } catch (LedgerException e) {
                ledgerFailed(e);
                throw new IOException("the decisions could not be written ahead", e);
            }
            sentThrough = extendedOpen ? generation + 1 : generation;
        }
        upOut.flush();
    }

    /**
     * Something of the transaction the next statement joins may be on the server already: a transaction block is open,
     * or not all that went upstream is answered (a pipeline before its Sync, a unit that may have opened a block).
     */
    private boolean transactionUpstream() {
        return transactionStatus != 'I' || answered < sentThrough;
    }

    /** Nothing that runs waits to go upstream, and nothing of a transaction is there: what comes next starts afresh. */
    private boolean nothingBefore() {
        return !batch.runs() && !transactionUpstream();
    }

    /**
     * Before a frame is judged on a thread that may wait for a person (minutes): what came before it goes upstream
     * first if something among it runs (the client waits for it, a cancel must reach it) or its transaction is there
     * already. Otherwise it runs nothing (a Parse, Bind, Describe, Close) and stays here, in order, until the decision:
     * sent now, the server would analyse and plan the held statement in an implicit transaction and keep its locks for
     * the whole wait, so a migration's ALTER TABLE queues behind it, and every later query behind the ALTER.
     */
    void beforeWait() throws IOException {
        if (!nothingBefore()) flushUpstream();
    }

    /**
     * The client's end: what it sent before still goes upstream, unless none of it runs and no transaction is there
     * to commit (a held statement's Parse and Bind and the failing stand-in of its refusal): that is not sent for no one.
     */
    void flushAtEnd() throws IOException {
        if (nothingBefore()) batch.drop();
        flushUpstream();
    }

    /** {@code staged}: judged without waiting, so its decision may still have to be written, or fsynced, first. */
    private boolean forward(Pending p, Verdict v, boolean staged, Frame f) {
        // The expectation is queued before the bytes leave, so the relay always finds it.
        pending.addLast(p);
        batch.addAllowed(f, v, staged);
        return true;
    }

    private boolean forward(Pending p, Frame f) {
        pending.addLast(p);
        batch.add(f);
        return true;
    }

    /**
     * Decisions among what waits to go upstream must be fsynced first: nothing leaves, and nothing may be handled on
     * another thread, until the driver had {@link #afterSync} call back and called {@link #synced}.
     */
    boolean syncPending() {
        return batch.waitsForSync();
    }

    /** Calls {@code then} once the pending decisions are durable, or with the reason they cannot be. Any thread. */
    void afterSync(java.util.function.Consumer<LedgerException> then) {
        batch.afterSync(then);
    }

    /** The decisions {@link #afterSync} waited for are durable: what waits may go. */
    void synced() {
        batch.synced();
    }

    /** Decisions that cannot be recorded: what they were for never runs, and neither does anything else here. */
    void ledgerFailed(LedgerException e) {
        batch.drop();
        fatal("58030", "warden: the audit ledger cannot record decisions; nothing more runs (" + e.getMessage() + ")");
    }

    // ---- called by the relay

    void readyForQuery(char status, long gen) {
        failedSinceReady = false;
        transactionStatus = status;
        if (gen >= 0) answered = gen;
        paths.ended(status, gen);
        if (status == 'I' && gen >= 0) tracker.transactionEnded(gen);
        // A transaction that changed the schema ended (committed or not): the catalog's cache may be out of date.
        if (changes.ended(status, gen)) invalidateCatalog();
    }

    /** A simple Query (or function call) completed: its session effects now, its outcome for the ledger. */
    Outcome finished(Pending.Query q) {
        long micros = BackendRelay.micros(q.startNanos);
        if (q.error == null && q.onSuccess != null) q.onSuccess.run();
        return q.error == null ? Outcome.ok(q.rows, micros) : Outcome.error(q.error, micros);
    }

    private void invalidateCatalog() {
        try {
            if (catalog != null) catalog.invalidate();
        } catch (RuntimeException e) {
            frontEnd.log("warden: the catalog could not be invalidated: " + e.getMessage());
        }
    }

    /** Called as soon as a statement completed, before the client sees it: what must not wait. */
    void completed(Verdict v, Outcome o) {
        // At once, not only when its transaction ends: other sessions see what an autocommit statement changed.
        if (v != null && o.error() == null && v.changesSchema()) {
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

    void copyInStarted() {
        copyIn = true;
    }

    void copyEnded() {
        copyIn = false;
    }

    // ---- session state changed by allowed SQL

    /** The relay saw an ErrorResponse: the unit it belongs to did not run to its end. */
    void upstreamError() {
        failedSinceReady = true;
        paths.error();
        changes.error();
    }

    /** A prepared statement's text under a search path or role other than the one it was classified with. */
    private Classification reclassify(String text, ClassifyContext names) {
        return gate.classify(operation(text, List.of()), names);
    }

    Classification classifyBody(String body) {
        return gate.classify(operation(body, List.of()), context);
    }

    // ---- cancel and shutdown

    UpstreamConnection upstream() {
        return upstream;
    }

    /** A CancelRequest for this session: cancels the running statement, and ends an approval wait. */
    void cancel() {
        // What runs upstream is cancelled as PostgreSQL would, a statement pipelined before a held one among them (the
        // client waited for it to finish); a backend reading its next command ignores a cancel. First, so that it
        // cannot reach what the hold's end lets go next.
        upstream.cancel();
        approval.cancel();
    }

    /** A statement waits for a person's decision. */
    boolean holding() {
        return approval.waiting();
    }

    /**
     * The client sent Terminate or closed its connection while a frame was being judged: nobody will read what a
     * held statement returns, so it is not held for an approval that would run it for no one. What it sent before
     * still runs, as PostgreSQL runs what a client sent before it went away.
     */
    void clientLeft() {
        approval.clientLeft();
    }

    // ---- how sessions end early (the same words whichever driver noticed)

    void idleTimeout() {
        fatal("57P05", "terminating connection due to idle-session timeout (warden: idle for "
                + database.listener().idleTimeout().toSeconds() + "s)");
    }

    void protocolViolation(ProtocolException e) {
        fatal("08P01", "warden: protocol violation: " + e.getMessage());
    }

    void upstreamLost(IOException e) {
        if (!closed.get()) {
            fatal("08006", "warden: the connection to the database was lost (" + e.getMessage() + "); reconnect to get a new session");
        }
    }

    void relayFailed(RuntimeException e) {
        if (!closed.get()) fatal("XX000", "warden: internal error in the session relay: " + e);
    }

    void fatal(String code, String message) {
        out.sendQuietly(Notice.error("FATAL", code, message).bytes());
        close();
    }

    /** Ends the session now, both sides. */
    void close() {
        boolean first = closed.compareAndSet(false, true);
        asker.sessionEnded();
        // A held statement never runs on a session that is gone (the upstream died, the kill switch, shutdown).
        approval.end();
        if (first) sayGoodbyeUpstream();
        closeUpstream();
        if (first) closeClient();
    }

    /**
     * The client's own Terminate: the upstream gets one after everything sent before it, and the client's side ends
     * now. The upstream's socket stays open: the driver reads (and drops) the server's last answers until the server
     * closes, then {@link #close}s. Closing a socket with unread answers in it would reset the connection, and the
     * server could lose statements it had not read yet.
     */
    void terminated() {
        if (!closed.compareAndSet(false, true)) return;
        asker.sessionEnded();
        approval.end();
        sayGoodbyeUpstream();
        closeClient();
    }

    private void sayGoodbyeUpstream() {
        try {
            upOut.write(UpstreamConnection.TERMINATE);
        } catch (IOException | RuntimeException ignored) {
            // closing anyway
        }
    }

    private void closeUpstream() {
        try {
            // Over TLS, a close_notify after the Terminate: the server sees the connection end cleanly.
            upOut.close();
        } catch (IOException | RuntimeException ignored) {
            // closing anyway
        }
        upstream.close();
    }

    private void closeClient() {
        // The agent's slot before the client's socket: a client that reconnects as soon as it sees the end finds it free.
        frontEnd.ended(this);
        try {
            clientTransport.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
