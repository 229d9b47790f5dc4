package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.classify.EventTriggers;
import dev.warden.postgres.classify.PathEffect;
import dev.warden.postgres.classify.PathEffect.Setting;
import dev.warden.postgres.classify.PathEffect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The session's search path and role as the server holds them, followed the way PostgreSQL's GUC stack does:
 * {@code SET} and {@code SET LOCAL} take effect at once; the end of a transaction keeps {@code SET} and drops
 * {@code SET LOCAL}; a rollback (also a {@code COMMIT} of a failed block, and an error in an implicit transaction)
 * restores the settings from before the transaction; savepoints keep their own copies. The role is followed as the
 * server's {@code role} and {@code session_authorization} settings, which together give the role the session acts as
 * ({@code current_user}), which {@code "$user"} in the path stands for. The implicit transaction of a multi-statement Query, or
 * of the extended-protocol messages up to a Sync, counts as a block.
 *
 * <p>Statements are sent in <em>units</em> (a simple Query, or everything up to a Sync) numbered as the session
 * numbers them. Inside a unit a statement runs only if those before it succeeded, so it is classified as if they
 * did. When a unit ends, its ReadyForQuery (and whether it carried an error) settles what the server really did; when
 * that is ambiguous, the path becomes unknown. A statement sent while an earlier unit that matters is still running
 * cannot know its path either. Where the path or role is unknown, the session asks the server once nothing is in
 * flight ({@link SettingsReread}) and {@link #reread} takes its answer; until then, or where it cannot ask, unknown
 * means refused (fail closed), with a message that says how to go on.
 */
final class SearchPathTracker {
    static final String UNKNOWN_PATH = "Warden cannot tell which search path the server uses now (after a statement"
            + " whose effect on it cannot be read, or an error in a transaction that changed it), and asks the server only"
            + " once everything sent before has completed; wait for those results, then send the statement again (or run"
            + " SET search_path TO …)";
    static final String ABORTED = "Warden cannot tell which search path the server uses now, and cannot ask the server"
            + " while the transaction is aborted; end it with ROLLBACK, then send the statement again";

    /** Asking the server ({@link SettingsReread}) failed: {@code why}. */
    static String askFailed(String why) {
        return "Warden cannot tell which search path the server uses now, and asking the server failed (" + why
                + "); run SET search_path TO … outside a transaction block (or reconnect), then send the statement again";
    }
    static final String IN_FLIGHT = "an earlier statement that changes the search path or ends a transaction block has"
            + " not completed yet, so the search path this statement would use is not known; wait for its result, then"
            + " send the statement again";
    static final String MIXED = "this text changes the search path and then ends or rolls back a transaction (or a"
            + " savepoint) before using it; send those statements as separate queries so that Warden can follow the path";

    static final String ROLE_IN_FLIGHT = "an earlier statement that may change the role (or end a transaction that"
            + " changed it) has not completed yet";
    static final String ROLE_AFTER_ERROR = "an error in a transaction that changed the role left unclear which role";
    static final String ROLE_AFTER_AUTHORIZATION = "a rollback after SET SESSION AUTHORIZATION (the server then"
            + " restores the role in an order Warden does not follow)";
    static final String ROLE_AFTER_RESET_AUTHORIZATION = "a reset of the session authorization (RESET SESSION"
            + " AUTHORIZATION, SET SESSION AUTHORIZATION DEFAULT, DISCARD ALL), which leaves the role at the session's"
            + " default or at none depending on the server's version";

    /**
     * The settings names depend on. {@code path}: the search path; {@code role}: the {@code role} setting (a role's
     * name, or {@code none}: the session user); {@code user}: the session user. {@code null} where not known, and
     * {@code why} (for the role).
     */
    record Settings(List<String> path, String role, String user, String why) {
        /** The role the session acts as ({@code current_user}), or {@code null} when not known. */
        String currentUser() {
            return role == null ? null : role.equals("none") ? user : role;
        }

        Settings withPath(List<String> p) {
            return new Settings(p, role, user, why);
        }

        Settings withRole(String r, String w) {
            return new Settings(path, r, user, r == null ? w : why);
        }

        Settings withUser(String u) {
            return new Settings(path, "none", u, why);
        }

        /** What both have in common; unknown where they differ. */
        Settings merge(Settings o, String whyRole) {
            if (equals(o)) return this;
            boolean sameRole = Objects.equals(currentUser(), o.currentUser()) && Objects.equals(role, o.role)
                    && Objects.equals(user, o.user);
            return new Settings(same(path, o.path), sameRole ? role : null, sameRole ? user : null,
                    sameRole ? why : Objects.requireNonNullElse(why, whyRole));
        }
    }

    private record Frame(String name, Settings current, Settings session) {}

    /**
     * {@code current}: what name lookups use now; {@code session}: what a commit keeps; {@code txStart}: what a
     * rollback restores; {@code tx}: 0 none, 1 implicit, 2 explicit block; {@code frames}: savepoints ({@code null}
     * when not known); {@code dead}: an error ended the unit early, its remaining statements do not run.
     */
    private record State(Settings current, Settings session, Settings txStart, int tx, boolean aborted,
                         List<Frame> frames, boolean dead) {
        State with(Settings c, Settings s) {
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

    /**
     * The path to classify a statement with, or {@code null} and why not ({@code refusal}); the role it acts as
     * ({@code current_user}), or {@code null} and why not ({@code roleUnknown}).
     */
    record View(List<String> path, String refusal, String role, String roleUnknown) {
        /** Whether something names depend on is not known: the path, or the role {@code "$user"} stands for. */
        boolean unknown() {
            return path == null || role == null;
        }

        /** The same, refused for another reason when the path is not known. */
        View refusedFor(String why) {
            return path == null ? new View(null, why, role, roleUnknown) : this;
        }
    }

    private Settings initial;
    private final Function<ClassifyContext, Map<String, Classification>> prepared;
    private final List<Unit> inFlight = new ArrayList<>();
    private State confirmed;
    private State optimistic;
    private long optimisticUnit = -1;
    private volatile boolean errorSeen;
    private ClassifyContext lastContext;
    private View cachedView;
    private Settings cachedFrom;

    /**
     * @param user     the session user (the upstream user Warden logs in as)
     * @param prepared the session's prepared statements as seen with a given path and role
     */
    SearchPathTracker(List<String> initial, String user, Function<ClassifyContext, Map<String, Classification>> prepared) {
        this.prepared = prepared;
        startsAs(new Settings(List.copyOf(initial), "none", user, null));
    }

    private void startsAs(Settings start) {
        this.initial = start;
        this.confirmed = new State(start, start, null, 0, false, List.of(), false);
        this.optimistic = confirmed;
        ClassifyContext base = new ClassifyContext(start.path, Map.of()).withRole(start.currentUser(), null);
        this.lastContext = base.withPrepared(prepared.apply(base));
    }

    /**
     * The {@code role} setting the session starts with (a role's or database's default; {@code none}: the session
     * user), which {@code RESET ROLE} returns to. Before any statement.
     */
    synchronized void startsAs(String role) {
        startsAs(initial.withRole(role, null));
    }

    // ---- session thread

    /**
     * The path a statement of {@code unit} sent now runs with. Earlier units still running (a driver may send BEGIN
     * and the next statement without waiting) may each succeed or fail at any of their statements: the path is known
     * only when every such outcome leaves the same one.
     */
    synchronized View view(long unit) {
        if (inFlight.isEmpty() && optimistic.current.path != null) {
            // The common case: nothing that matters is running, the settings are what the last unit left.
            if (cachedFrom != optimistic.current) {
                cachedView = view(optimistic.current, null);
                cachedFrom = optimistic.current;
            }
            return cachedView;
        }
        List<State> cs = candidates(unit);
        if (cs == null) return new View(null, IN_FLIGHT, null, ROLE_IN_FLIGHT);
        Settings s = cs.getFirst().current;
        for (State c : cs) {
            if (!Objects.equals(c.current.path, s.path)) return view(s, IN_FLIGHT);
            s = s.merge(c.current, ROLE_IN_FLIGHT);
        }
        return view(s, s.path == null ? UNKNOWN_PATH : null);
    }

    private static View view(Settings s, String refusal) {
        String role = s.currentUser();
        return new View(refusal == null ? s.path : null, refusal, role,
                role == null ? Objects.requireNonNullElse(s.why, ROLE_IN_FLIGHT) : null);
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

    /** The context to classify with: the path and role of {@code view}, or (when unknown) the last known path. */
    synchronized ClassifyContext context(View view) {
        List<String> p = view.path != null ? view.path : lastContext.searchPath();
        ClassifyContext base = new ClassifyContext(p, Map.of()).withRole(view.role, view.roleUnknown);
        if (!base.sameNames(lastContext)) lastContext = base.withPrepared(prepared.apply(base));
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
     * A statement a person approved runs code nobody proved (a function that may call {@code set_config('search_path',
     * …)} or {@code set_config('role', …)}): after it, neither the path nor the role is known, until the server is
     * asked ({@link SettingsReread}). So does a statement that may fire an event trigger, where the database has one
     * ({@code eventTriggers}: {@link EventTriggers}). {@code effects} as {@link #effects} gave them; for a verdict that
     * {@link #runsUnseenCode} (the caller asked first).
     */
    static List<PathEffect> withOpaque(dev.warden.core.Verdict v, List<PathEffect> effects, boolean eventTriggers) {
        List<dev.warden.core.Statement> sts = v.classification().statements();
        boolean approved = approvedCode(v);
        List<PathEffect> out = null;
        for (int i = 0; i < sts.size(); i++) {
            dev.warden.core.Statement st = sts.get(i);
            boolean fires = eventTriggers && EventTriggers.mayFire(st);
            if (!fires && !(approved && st.kind() == dev.warden.core.Kind.UNKNOWN)) continue;
            // Already unknown for every setting; one that is unknown for the role only may still move the path.
            if (i < effects.size() && effects.get(i).kind() == Type.UNKNOWN && effects.get(i).setting() == null) continue;
            if (out == null) {
                out = new ArrayList<>(effects);
                while (out.size() < sts.size()) out.add(PathEffect.NONE);
            }
            out.set(i, PathEffect.opaque(fires ? st.brief() + ", which may fire an event trigger" : st.brief()));
        }
        return out == null ? effects : out;
    }

    /**
     * Whether a statement that may run runs code nobody proved: a person approved it, or, where the database has an
     * event trigger ({@code eventTriggers}), it may fire one. See {@link #withOpaque}.
     */
    static boolean runsUnseenCode(dev.warden.core.Verdict v, boolean eventTriggers) {
        if (approvedCode(v)) return true;
        if (!eventTriggers) return false;
        for (dev.warden.core.Statement st : v.classification().statements()) if (EventTriggers.mayFire(st)) return true;
        return false;
    }

    /** A person approved it: its code is not proven. */
    private static boolean approvedCode(dev.warden.core.Verdict v) {
        return v.changesSchema() && v.classification().kind() == dev.warden.core.Kind.UNKNOWN;
    }

    /**
     * Why a text must be refused before it runs, or {@code null}. {@code view} is the path (and role) it was
     * classified with.
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
            // The role the classifier follows through the text: only SET [LOCAL] ROLE name; null where it is unknown.
            String role = view.role;
            for (PathEffect e : effects) {
                if (s.dead) break;
                if (!Objects.equals(s.current.path, linear)) return MIXED;
                if (role != null && !role.equals(s.current.currentUser())) return MIXED;
                s = step(s, e);
                if (e.touchesRole()) role = e.roleSet();
                // Only what may change the path moves the linear path: an unknown change of the role alone (set_config
                // of the role or session authorization) leaves it where it was, in the classifier as on the server.
                boolean pathUnknown = e.kind() == Type.UNKNOWN && (e.setting() == null || e.setting() == Setting.SEARCH_PATH);
                if (e.setting() != Setting.SEARCH_PATH && e.kind() != Type.DISCARD_ALL && !pathUnknown) continue;
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

    /** No unit of the session is in flight: what is confirmed is what the next statement meets. */
    synchronized boolean settled() {
        return inFlight.isEmpty();
    }

    /**
     * The settings as the server reported them just now ({@link SettingsReread}), with nothing of the session in
     * flight, its transaction status {@code status}. Outside a block they are the session's. Inside one they are what
     * names resolve with now, but whether they were set with or without LOCAL cannot be told: what a commit keeps stays
     * what it was (unknown, when it was), so after the block the server is asked again. A rollback restores what
     * was before the block, as ever. False, and nothing changes, where the status is not the one Warden followed.
     */
    synchronized boolean reread(Settings read, char status) {
        State c = confirmed;
        if (!inFlight.isEmpty() || c.aborted) return false;
        if (status == 'I' && c.tx == 0) {
            confirmed = new State(read, read, null, 0, false, List.of(), false);
        } else if (status == 'T' && c.tx == 2) {
            confirmed = new State(read, c.session, c.txStart, 2, false, c.frames, false);
        } else {
            return false;
        }
        reset();
        return true;
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

    private static final PathEffect FAIL = new PathEffect(Type.UNKNOWN, null, null, "\0fail", false, false);

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
            case NONE, DISCARD_TEMP -> s;
            case SET, RESET, UNKNOWN -> setting(s, e, true);
            case SET_LOCAL, RESET_LOCAL -> setting(s, e, false);
            // DISCARD ALL is SET SESSION AUTHORIZATION DEFAULT and RESET ALL: the path the session started with, and
            // the role as a reset of the session authorization leaves it.
            case DISCARD_ALL -> {
                if (s.tx == 2) yield fail(s);
                Settings after = resetAuthorization(initial);
                yield s.with(after, after);
            }
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
                    yield k == Type.RELEASE ? s : new State(UNKNOWN, UNKNOWN, s.txStart, 2, false, null, false);
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

    /**
     * {@code x} after a reset of the session authorization: the user Warden logs in as again, and the role as the server
     * leaves it. Since the fix of CVE-2024-10978 (14.14, 15.9, 16.5, 17.1) the server resets the role with the session
     * authorization, to the session's default (a role's or database's {@code SET role}); before it, no role was
     * active afterwards. Where that default is a role, the two differ, and which one the server does is not read from
     * the text: the role is unknown, and the server is asked.
     */
    private Settings resetAuthorization(Settings x) {
        Settings back = x.withUser(initial.user);
        return "none".equals(initial.role) ? back : back.withRole(null, ROLE_AFTER_RESET_AUTHORIZATION);
    }

    /** {@code SET}, {@code RESET} or an unknown change of one setting; {@code session}: kept at commit too. */
    private State setting(State s, PathEffect e, boolean session) {
        boolean reset = e.kind() == Type.RESET || e.kind() == Type.RESET_LOCAL;
        Setting which = e.setting();
        java.util.function.UnaryOperator<Settings> change = switch (which == null ? Setting.SEARCH_PATH : which) {
            case SEARCH_PATH -> x -> {
                Settings p = x.withPath(e.kind() == Type.UNKNOWN ? null : reset ? initial.path : e.path());
                return which == null ? p.withRole(null, Objects.requireNonNullElse(e.name(),
                        "an earlier statement whose effect on the role cannot be read")) : p;
            };
            case ROLE -> x -> x.withRole(e.kind() == Type.UNKNOWN ? null : reset ? initial.role : e.name(),
                    e.name() == null ? "a statement that may change the role in a way Warden cannot read" : e.name());
            case SESSION_AUTHORIZATION -> x -> e.kind() == Type.UNKNOWN ? x.withRole(null, e.name())
                    : reset ? resetAuthorization(x) : x.withUser(e.name());
        };
        State out = s.with(change.apply(s.current), session ? change.apply(s.session) : s.session);
        if (which != Setting.SESSION_AUTHORIZATION || e.kind() == Type.UNKNOWN) return out;
        // Restoring the session authorization (commit of SET LOCAL, rollback) also ends a SET ROLE, or not, depending
        // on the order the server restores them in: what a restore brings back has an unknown role.
        java.util.function.UnaryOperator<Settings> blur = x -> x == null ? null : x.withRole(null, ROLE_AFTER_AUTHORIZATION);
        List<Frame> frames = out.frames == null ? null
                : out.frames.stream().map(f -> new Frame(f.name, blur.apply(f.current), blur.apply(f.session))).toList();
        return new State(out.current, session ? out.session : blur.apply(out.session), blur.apply(out.txStart), out.tx,
                out.aborted, frames, out.dead);
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
        return new State(a.current.merge(b.current, ROLE_AFTER_ERROR), a.session.merge(b.session, ROLE_AFTER_ERROR),
                a.txStart == null ? null : a.txStart.merge(b.txStart, ROLE_AFTER_ERROR), a.tx,
                a.aborted, Objects.equals(a.frames, b.frames) ? a.frames : null, false);
    }

    private static <T> T same(T a, T b) {
        return Objects.equals(a, b) ? a : null;
    }

    private static final Settings UNKNOWN = new Settings(null, null, null, "an answer of the server Warden could not place");

    private static State unknown(char status) {
        int tx = status == 'I' ? 0 : 2;
        return new State(UNKNOWN, UNKNOWN, tx == 0 ? null : UNKNOWN, tx, status == 'E', tx == 0 ? List.of() : null, false);
    }
}
