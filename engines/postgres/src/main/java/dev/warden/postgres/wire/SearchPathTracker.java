package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.classify.PathEffect;
import dev.warden.postgres.classify.PathEffect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The session's search path as the server holds it, followed the way PostgreSQL's GUC stack does: {@code SET} and
 * {@code SET LOCAL} take effect at once; the end of a transaction keeps {@code SET} and drops {@code SET LOCAL}; a
 * rollback (also a {@code COMMIT} of a failed block, and an error in an implicit transaction) restores the path from
 * before the transaction; savepoints keep their own copies. The implicit transaction of a multi-statement Query, or
 * of the extended-protocol messages up to a Sync, counts as a block.
 *
 * <p>Statements are sent in <em>units</em> (a simple Query, or everything up to a Sync) numbered as the session
 * numbers them. Inside a unit a statement runs only if those before it succeeded, so it is classified as if they
 * did. When a unit ends, its ReadyForQuery (and whether it carried an error) settles what the server really did; when
 * that is ambiguous, the path becomes unknown. A statement sent while an earlier unit that matters is still running
 * cannot know its path either. Unknown means refused (fail closed), with a message that says how to go on.
 */
final class SearchPathTracker {
    static final String UNKNOWN_PATH = "Warden cannot tell which search path the server uses now (after a statement"
            + " whose effect on it cannot be read, or an error in a transaction that changed it); run SET search_path TO …"
            + " outside a transaction block (or reconnect), then send the statement again";
    static final String IN_FLIGHT = "an earlier statement that changes the search path or ends a transaction block has"
            + " not completed yet, so the search path this statement would use is not known; wait for its result, then"
            + " send the statement again";
    static final String MIXED = "this text changes the search path and then ends or rolls back a transaction (or a"
            + " savepoint) before using it; send those statements as separate queries so that Warden can follow the path";

    private record Frame(String name, List<String> current, List<String> session) {}

    /**
     * {@code current}: what name lookups use now; {@code session}: what a commit keeps; {@code txStart}: what a
     * rollback restores; {@code tx}: 0 none, 1 implicit, 2 explicit block; {@code frames}: savepoints ({@code null}
     * when not known); {@code dead}: an error ended the unit early, its remaining statements do not run.
     */
    private record State(List<String> current, List<String> session, List<String> txStart, int tx, boolean aborted,
                         List<Frame> frames, boolean dead) {
        State with(List<String> c, List<String> s) {
            return new State(c, s, txStart, tx, aborted, frames, dead);
        }

        boolean dirty() {
            if (!Objects.equals(current, txStart) || !Objects.equals(session, txStart) || frames == null) return true;
            for (Frame f : frames) {
                if (!Objects.equals(f.current, txStart) || !Objects.equals(f.session, txStart)) return true;
            }
            return false;
        }
    }

    private record Unit(long id, List<PathEffect> effects) {}

    /** The path to classify a statement with, or {@code null} and why not. */
    record View(List<String> path, String refusal) {}

    private final List<String> initial;
    private final Function<List<String>, Map<String, Classification>> prepared;
    private final List<Unit> inFlight = new ArrayList<>();
    private State confirmed;
    private State optimistic;
    private long optimisticUnit = -1;
    private volatile boolean errorSeen;
    private ClassifyContext lastContext;
    private View cachedView = new View(null, null);

    /** @param prepared the session's prepared statements as seen under a given path */
    SearchPathTracker(List<String> initial, Function<List<String>, Map<String, Classification>> prepared) {
        this.initial = List.copyOf(initial);
        this.prepared = prepared;
        this.confirmed = new State(this.initial, this.initial, null, 0, false, List.of(), false);
        this.optimistic = confirmed;
        this.lastContext = new ClassifyContext(this.initial, prepared.apply(this.initial));
    }

    // ---- session thread

    /**
     * The path a statement of {@code unit} sent now runs with. Earlier units still running (a driver may send BEGIN
     * and the next statement without waiting) may each succeed or fail at any of their statements: the path is known
     * only when every such outcome leaves the same one.
     */
    synchronized View view(long unit) {
        if (inFlight.isEmpty() && optimistic.current != null) {
            // The common case: nothing that matters is running, the path is what the last unit left.
            if (cachedView.path != optimistic.current) cachedView = new View(optimistic.current, null);
            return cachedView;
        }
        List<State> cs = candidates(unit);
        if (cs == null) return new View(null, IN_FLIGHT);
        List<String> p = cs.getFirst().current;
        for (State c : cs) {
            if (!Objects.equals(c.current, p)) return new View(null, IN_FLIGHT);
        }
        return p == null ? new View(null, UNKNOWN_PATH) : new View(p, null);
    }

    /** Every state a statement of {@code unit} sent now may meet; {@code null} when there are too many to follow. */
    private List<State> candidates(long unit) {
        List<State> cs = List.of(confirmed);
        for (Unit u : inFlight) {
            if (u.id >= unit) {
                List<State> own = new ArrayList<>(cs.size());
                for (State c : cs) own.add(run(c, u.effects, u.effects.size(), false));
                return own;
            }
            List<State> next = new ArrayList<>();
            for (State c : cs) {
                add(next, endUnit(run(c, u.effects, u.effects.size(), false)));
                for (int k = 0; k <= u.effects.size(); k++) add(next, endUnit(run(c, u.effects, k, true)));
            }
            if (next.size() > 64) return null;
            cs = next;
        }
        // No effects registered yet for this unit: an earlier unit that was still being sent has ended.
        return cs;
    }

    private static void add(List<State> states, State s) {
        if (!states.contains(s)) states.add(s);
    }

    /** The context to classify with: the path of {@code view}, or (when unknown) the last known one. */
    synchronized ClassifyContext context(View view) {
        List<String> p = view.path != null ? view.path : lastContext.searchPath();
        if (!p.equals(lastContext.searchPath())) lastContext = new ClassifyContext(p, prepared.apply(p));
        return lastContext;
    }

    /**
     * The effects of a classified text, one per statement ({@code List.of()} when it cannot touch the path);
     * {@code null} when {@code withoutWaiting} and the text would have to be parsed first.
     */
    static List<PathEffect> effects(String text, Classification c, boolean withoutWaiting) {
        if (!PathEffect.possible(c)) return List.of();
        List<PathEffect> effects = withoutWaiting ? PathEffect.cached(text) : PathEffect.of(text);
        if (effects == null || effects.size() != c.statements().size()) return effects;
        // EXECUTE of a prepared set_config changes the path where its own text does not show it.
        List<PathEffect> out = effects;
        for (int i = 0; i < effects.size(); i++) {
            dev.warden.core.Statement st = c.statements().get(i);
            if (!"EXECUTE".equals(st.command()) || !PathEffect.callsSetConfig(st)) continue;
            if (out == effects) out = new java.util.ArrayList<>(effects);
            out.set(i, PathEffect.UNKNOWN);
        }
        return out;
    }

    /**
     * Why a text must be refused before it runs, or {@code null}. {@code view} is the path it was classified with.
     */
    synchronized String refusal(long unit, View view, List<PathEffect> effects) {
        if (view.path == null) {
            // Only commands whose meaning does not depend on the path may go on (they are how to get out of it).
            if (effects.isEmpty()) return view.refusal;
            for (PathEffect e : effects) if (!e.utility() || e.kind() == Type.NONE || e.kind() == Type.UNKNOWN) return view.refusal;
            return null;
        }
        if (effects.size() < 2) return null;
        // The classifier follows SET inside one text in order, not through COMMIT/ROLLBACK: where the real path
        // before a statement differs from that linear reading, the text cannot be judged as one.
        List<State> cs = candidates(unit);
        if (cs == null) return IN_FLIGHT;
        for (State start : cs) {
            State s = start;
            List<String> linear = view.path;
            for (PathEffect e : effects) {
                if (s.dead) break;
                if (!Objects.equals(s.current, linear)) return MIXED;
                s = step(s, e);
                linear = switch (e.kind()) {
                    case SET, SET_LOCAL -> e.path();
                    case RESET, RESET_LOCAL, DISCARD_ALL -> ClassifyContext.DEFAULT_SEARCH_PATH;
                    case UNKNOWN -> null;
                    default -> linear;
                };
            }
        }
        return null;
    }

    /** The statements of {@code unit} were forwarded: from now on later statements see their effects. */
    synchronized void sent(long unit, List<PathEffect> effects) {
        State s = stateFor(unit);
        if (effects.isEmpty() && !(s.tx == 2 && s.dirty()) && !has(unit)) return;
        Unit u = unit(unit);
        u.effects.addAll(effects);
        State next = s;
        for (PathEffect e : effects) next = step(next, e);
        optimistic = next;
        optimisticUnit = unit;
    }

    /** A denial: the session sent a statement that fails upstream in its place. */
    synchronized void denied(long unit) {
        State s = stateFor(unit);
        // Outside a block, a failure in a unit that changed nothing rolls back nothing that matters here.
        if (s.tx != 2 && !has(unit)) return;
        Unit u = unit(unit);
        u.effects.add(FAIL);
        optimistic = step(s, FAIL);
        optimisticUnit = unit;
    }

    // ---- relay thread

    /** The server reported an error: the unit that ends next did not run to its end. */
    void error() {
        errorSeen = true;
    }

    /** The server finished unit {@code gen} with this transaction status: settle what it did. */
    synchronized void ended(char status, long gen) {
        boolean failed = errorSeen;
        errorSeen = false;
        if (gen < 0) {
            confirmed = unknown(status);
            inFlight.clear();
            reset();
            return;
        }
        List<PathEffect> effects = List.of();
        boolean lost = false;
        while (!inFlight.isEmpty() && inFlight.getFirst().id <= gen) {
            Unit u = inFlight.removeFirst();
            if (u.id == gen) effects = u.effects;
            else lost = true;  // a unit that ended without its own ReadyForQuery: nothing certain about it
        }
        List<State> outcomes = new ArrayList<>();
        if (!failed) {
            outcomes.add(endUnit(run(confirmed, effects, effects.size(), false)));
        } else {
            for (int k = 0; k <= effects.size(); k++) outcomes.add(endUnit(run(confirmed, effects, k, true)));
        }
        State merged = null;
        for (State o : outcomes) {
            if (!matches(o, status)) continue;
            merged = merged == null ? o : merge(merged, o);
        }
        confirmed = merged == null || lost ? unknown(status) : merged;
        reset();
    }

    // ---- the model

    private static final PathEffect FAIL = new PathEffect(Type.UNKNOWN, null, "\0fail", false, false);

    private State stateFor(long unit) {
        return optimisticUnit == unit || optimisticUnit < 0 ? optimistic : endUnit(optimistic);
    }

    private boolean has(long unit) {
        return !inFlight.isEmpty() && inFlight.getLast().id == unit;
    }

    private Unit unit(long id) {
        if (has(id)) return inFlight.getLast();
        // A unit with no effects of its own still ends the one before (its implicit transaction).
        if (optimisticUnit >= 0 && optimisticUnit != id) {
            optimistic = endUnit(optimistic);
            optimisticUnit = -1;
        }
        Unit u = new Unit(id, new ArrayList<>());
        inFlight.add(u);
        return u;
    }

    /** Recomputes what later statements see from what is confirmed and what is still running. */
    private void reset() {
        State s = confirmed;
        long last = -1;
        for (Unit u : inFlight) {
            if (last >= 0) s = endUnit(s);
            for (PathEffect e : u.effects) s = step(s, e);
            last = u.id;
        }
        optimistic = s;
        optimisticUnit = last;
    }

    private State run(State s, List<PathEffect> effects, int ok, boolean fails) {
        for (int i = 0; i < ok; i++) s = step(s, effects.get(i));
        return fails ? fail(begin(s)) : s;
    }

    private static State begin(State s) {
        return s.tx == 0 ? new State(s.current, s.session, s.current, 1, false, List.of(), s.dead) : s;
    }

    /** One statement that runs (unless the unit already failed, or the block is aborted). */
    private State step(State s0, PathEffect e) {
        if (s0.dead) return s0;
        if (e == FAIL) return fail(begin(s0));
        State s = begin(s0);
        Type k = e.kind();
        if (s.aborted && k != Type.COMMIT && k != Type.ROLLBACK && k != Type.ROLLBACK_TO) return fail(s);
        return switch (k) {
            case NONE -> s;
            case SET -> s.with(e.path(), e.path());
            case SET_LOCAL -> s.with(e.path(), s.session);
            case RESET -> s.with(initial, initial);
            case RESET_LOCAL -> s.with(initial, s.session);
            case UNKNOWN -> s.with(null, null);
            case DISCARD_ALL -> s.tx == 2 ? fail(s) : s.with(initial, initial);
            case BEGIN -> new State(s.current, s.session, s.txStart, 2, false, s.frames, false);
            case COMMIT, PREPARE_TRANSACTION -> s.aborted ? rollback(s, e.chain()) : commit(s, e.chain());
            case ROLLBACK -> rollback(s, e.chain());
            case SAVEPOINT -> {
                if (s.tx != 2) yield fail(s);
                if (s.frames == null) yield s;
                List<Frame> f = new ArrayList<>(s.frames);
                f.add(new Frame(e.name(), s.current, s.session));
                yield new State(s.current, s.session, s.txStart, 2, false, List.copyOf(f), false);
            }
            case RELEASE, ROLLBACK_TO -> {
                if (s.tx != 2) yield fail(s);
                if (s.frames == null) {
                    yield k == Type.RELEASE ? s : new State(null, null, s.txStart, 2, false, null, false);
                }
                int i = s.frames.size() - 1;
                while (i >= 0 && !s.frames.get(i).name.equals(e.name())) i--;
                if (i < 0) yield fail(s);
                if (k == Type.RELEASE) yield new State(s.current, s.session, s.txStart, 2, s.aborted, List.copyOf(s.frames.subList(0, i)), false);
                Frame f = s.frames.get(i);
                yield new State(f.current, f.session, s.txStart, 2, false, List.copyOf(s.frames.subList(0, i + 1)), false);
            }
        };
    }

    private static State commit(State s, boolean chain) {
        State out = new State(s.session, s.session, null, 0, false, List.of(), false);
        return chain ? new State(out.current, out.session, out.current, 2, false, List.of(), false) : out;
    }

    private static State rollback(State s, boolean chain) {
        State out = new State(s.txStart, s.txStart, null, 0, false, List.of(), false);
        return chain ? new State(out.current, out.session, out.current, 2, false, List.of(), false) : out;
    }

    /** An error: an explicit block becomes aborted (settings stay until it ends); an implicit one rolls back. */
    private static State fail(State s) {
        if (s.tx == 2) return new State(s.current, s.session, s.txStart, 2, true, s.frames, true);
        State r = rollback(s, false);
        return new State(r.current, r.session, null, 0, false, List.of(), true);
    }

    /** The end of a unit (Sync or the end of a Query): an implicit transaction commits. */
    private static State endUnit(State s) {
        State r = s.tx == 1 ? commit(s, false) : s;
        return r.dead ? new State(r.current, r.session, r.txStart, r.tx, r.aborted, r.frames, false) : r;
    }

    private static boolean matches(State s, char status) {
        return switch (status) {
            case 'I' -> s.tx == 0;
            case 'T' -> s.tx == 2 && !s.aborted;
            case 'E' -> s.tx == 2 && s.aborted;
            default -> false;
        };
    }

    private static State merge(State a, State b) {
        return new State(same(a.current, b.current), same(a.session, b.session), same(a.txStart, b.txStart), a.tx,
                a.aborted, Objects.equals(a.frames, b.frames) ? a.frames : null, false);
    }

    private static <T> T same(T a, T b) {
        return Objects.equals(a, b) ? a : null;
    }

    private static State unknown(char status) {
        int tx = status == 'I' ? 0 : 2;
        return new State(null, null, null, tx, status == 'E', tx == 0 ? List.of() : null, false);
    }
}
