package dev.warden.postgres.catalog;

import dev.warden.core.Classification;
import dev.warden.core.Operation;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.catalog.CatalogSnapshot.Relation;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The live catalog of one upstream PostgreSQL database, read over a Warden-owned connection: relations and
 * columns, function attributes, name resolution through a search path, sensitivity tags and row estimates.
 *
 * <p>The catalog is cached as one {@link CatalogSnapshot}. It is read again when {@link #invalidate()} says DDL ran,
 * and on a timer. Every time what the classifier may have learned from it changes (a different snapshot, a lost
 * connection, a reconnect), {@link #generation()} grows and the {@link #onChange} listeners run, so caches built
 * on it are dropped. Until it has loaded, while the database cannot be reached, and after a read that failed, name
 * questions go to the offline table, {@link #live()} is false and {@link #unavailable()} says why.
 */
public final class PostgresCatalog implements Catalog, SchemaInfo {
    /**
     * @param refreshEvery    how often the catalog is read again without being told
     * @param checkEvery      how often the connection is checked (a restarted server or a dropped database is
     *                        noticed within this time even when nothing is asked)
     * @param estimateTimeout statement timeout of one EXPLAIN
     * @param connectTimeout  how long connecting may take
     * @param retryAfter      after a failed connect, how long questions go to the offline table before trying again
     */
    public record Options(Duration refreshEvery, Duration checkEvery, Duration estimateTimeout, Duration connectTimeout,
                          Duration retryAfter) {
        public static final Options DEFAULTS = new Options(Duration.ofSeconds(60), Duration.ofSeconds(5),
                Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(2));
    }

    private final DatabaseConfig database;
    private final ColumnTags tags;
    private final SchemaInfo offline;
    private final Options options;
    private final ReentrantLock lock = new ReentrantLock();
    private final AtomicLong generation = new AtomicLong(1);
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService timer;

    private Connection connection; // guarded by lock
    private volatile CatalogSnapshot snapshot;
    // DDL seen by the front end, and how many of those the snapshot includes: an invalidation that arrives while a
    // read is under way is not lost.
    private final AtomicLong invalidations = new AtomicLong();
    private volatile long invalidationsSeen;
    private volatile String lastError = "not loaded yet";
    private volatile boolean backingOff;
    private volatile long lastFailure;
    private volatile boolean closed;
    private volatile List<String> defaultSearchPath;
    private final java.util.concurrent.atomic.AtomicBoolean reconnecting = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile long lastLoad = System.nanoTime();

    /**
     * @param tags    the configuration's {@code tags:}, tag name to globs over {@code schema.table.column}
     * @param offline answers name questions while no live catalog is loaded (the built-in function table)
     */
    public PostgresCatalog(DatabaseConfig database, Map<String, List<String>> tags, SchemaInfo offline, Options options) {
        this.database = database;
        this.tags = new ColumnTags(tags);
        this.offline = offline;
        this.options = options;
        this.timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("warden-catalog-" + database.name()).factory());
        long every = Math.max(1, Math.min(options.checkEvery().toMillis(), options.refreshEvery().toMillis()));
        timer.scheduleWithFixedDelay(this::tick, 0, every, TimeUnit.MILLISECONDS);
    }

    // ----- what the gate and the front end call -----

    /**
     * DDL (or a COMMIT of a transaction that ran DDL) passed through: the next question reads the catalog again.
     * Cheap; call it from any thread.
     */
    @Override
    public void invalidate() {
        invalidations.incrementAndGet();
    }

    private boolean stale() {
        return invalidations.get() != invalidationsSeen;
    }

    /** Grows whenever cached answers may be wrong; classification caches keyed on an older value are stale. */
    @Override
    public long generation() {
        current();
        return generation.get();
    }

    /**
     * Asks the database first, in one query, which relations of those names it has that the snapshot lacks; only then
     * is the whole catalog read again (a read of thousands of tables takes a few hundred milliseconds; the question,
     * one round trip). A session's temporary tables and misspelt names are never found: the catalog's connection sees
     * no other session's temporary schema. When the question fails, the catalog is read again (a read that fails
     * drops the snapshot: fail closed).
     */
    @Override
    public boolean reloadIfMade(Set<String> relationNames) {
        CatalogSnapshot snap = snapshot;
        if (closed || snap == null || relationNames.isEmpty()) return false;
        boolean made = false;
        lock.lock();
        try {
            Connection c = connection();
            try (var st = c.prepareStatement(CatalogLoader.RELATIONS_NAMED)) {
                st.setArray(1, c.createArrayOf("text", relationNames.toArray()));
                try (var rs = st.executeQuery()) {
                    while (rs.next() && !made) made = snap.relation(rs.getString(1) + "." + rs.getString(2)).isEmpty();
                }
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            made = true;
        } finally {
            lock.unlock();
        }
        if (!made) return false;
        long before = generation.get();
        refresh();
        return generation.get() != before;
    }

    /** Runs after every generation change (outside the catalog's lock). */
    public void onChange(Runnable listener) {
        listeners.add(listener);
    }

    /** Reads the catalog now. Returns false when it could not, with the reason in {@link #lastError()}. */
    public boolean refresh() {
        boolean changed = false;
        boolean ok = false;
        long asked = System.nanoTime();
        lock.lock();
        try {
            if (closed) return false;
            // Another thread read it while this one waited for the lock.
            if (snapshot != null && !stale() && lastLoad - asked >= 0) return true;
            // Or failed to reach the database while this one waited: do not wait for a second connect timeout.
            if (backingOff && lastFailure - asked >= 0) return false;
            // A second attempt only when the first one failed on a connection made earlier (the server restarted
            // since): a fresh connect that fails is not retried at once.
            boolean retry = connection != null;
            for (int attempt = 0; attempt < (retry ? 2 : 1) && !ok; attempt++) {
                try {
                    boolean reconnected = connection == null;
                    long invalidated = invalidations.get();
                    Connection c = connection();
                    CatalogSnapshot next;
                    try {
                        next = CatalogLoader.load(c);
                    } finally {
                        c.rollback();
                    }
                    invalidationsSeen = invalidated;
                    lastLoad = System.nanoTime();
                    backingOff = false;
                    CatalogSnapshot prev = snapshot;
                    if (reconnected || !next.equals(prev)) {
                        snapshot = next;
                        generation.incrementAndGet();
                        changed = true;
                    }
                    ok = true;
                } catch (SQLException e) {
                    changed |= failed(e);
                }
            }
            if (!ok) {
                // A snapshot that could not be read again is not kept, even on a connection that stands (a statement
                // timeout, a cancel, a privilege): DDL may have made it wrong, and while reading keeps failing it would
                // stay wrong. Until a read succeeds, questions go to the offline table, which proves nothing it cannot.
                lastFailure = System.nanoTime();
                backingOff = true;
                if (snapshot != null) {
                    snapshot = null;
                    generation.incrementAndGet();
                    changed = true;
                }
            }
        } finally {
            lock.unlock();
        }
        if (changed) notifyListeners();
        return ok;
    }

    /**
     * The search path a new upstream session starts with ({@code search_path} after the role's and the database's
     * settings), parsed; empty until the catalog has connected. A front end starts each session's
     * {@link ClassifyContext} with it (unless the client's startup options set one) and returns to it on
     * {@code RESET search_path}.
     */
    public Optional<List<String>> defaultSearchPath() {
        current();
        return Optional.ofNullable(defaultSearchPath);
    }

    /** Why the catalog is not available (the last error), for messages and doctor checks. */
    public String lastError() {
        return lastError;
    }

    /** The snapshot in use, or empty while no live catalog is loaded. */
    public Optional<CatalogSnapshot> snapshot() {
        return Optional.ofNullable(current());
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        lock.lock();
        try {
            closeConnection();
            snapshot = null;
        } finally {
            lock.unlock();
        }
    }

    // ----- enrichment -----

    @Override
    public Classification enrich(Operation op, Classification c, ClassifyContext ctx) {
        return enrich(op, c, ctx, true);
    }

    @Override
    public Classification enrich(Operation op, Classification c, ClassifyContext ctx, boolean wantEstimate) {
        CatalogSnapshot snap = current();
        if (snap == null) {
            return c.withEnrichment(c.tags(), Classification.NO_ESTIMATE, "catalog unavailable: " + lastError);
        }
        if (!wantEstimate) {
            // Without an estimate the result depends only on the classification and the snapshot: the same
            // (cached) classification gets the same enriched one back, without rebuilding sets and strings.
            Enriched e = enriched.get(new Same(c));
            if (e != null && e.snap() == snap) return e.result();
        }
        List<String> notes = new ArrayList<>();
        Set<String> unknownColumns = new TreeSet<>();
        Set<String> found = new TreeSet<>(c.tags());
        found.addAll(tags.of(c.statements(), name -> snap.relation(name).map(Relation::columns).orElse(List.of()), unknownColumns));
        if (!tags.isEmpty() && !unknownColumns.isEmpty()) {
            notes.add("columns not known for tags: " + String.join(", ", unknownColumns));
        }
        long estimate = Classification.NO_ESTIMATE;
        Optional<String> refusal = wantEstimate ? RowEstimate.refusal(op.text(), c, snap)
                : Optional.of("no policy rule uses a row estimate here");
        if (refusal.isPresent()) {
            notes.add("no row estimate: " + refusal.get());
        } else {
            List<String> path = ctx == null || ctx.searchPath() == null ? ClassifyContext.DEFAULT_SEARCH_PATH : ctx.searchPath();
            try {
                RowBound.Bound bound = estimate(op, path);
                estimate = bound.rows();
                if (bound.basis() != null) notes.add("rows: " + bound.basis());
            } catch (SQLException e) {
                notes.add("no row estimate: " + oneLine(e.getMessage()));
            }
        }
        Classification result = c.withEnrichment(found, estimate, "catalog" + (notes.isEmpty() ? "" : "; " + String.join("; ", notes)));
        if (!wantEstimate) {
            if (enriched.size() >= 4096) enriched.clear();
            enriched.put(new Same(c), new Enriched(snap, result));
        }
        return result;
    }

    @Override
    public Optional<Classification> enrichWithoutWaiting(Operation op, Classification c, ClassifyContext ctx) {
        return fresh() ? Optional.of(enrich(op, c, ctx, false)) : Optional.empty();
    }

    /**
     * True when {@link #current()} would not read the catalog first: a snapshot that no DDL made stale, or no snapshot
     * while reconnection attempts back off (then answers come from the offline source at once).
     */
    @Override
    public boolean fresh() {
        CatalogSnapshot snap = snapshot;
        return closed || (snap != null ? !stale() : backingOff);
    }

    private final java.util.concurrent.ConcurrentHashMap<Same, Enriched> enriched = new java.util.concurrent.ConcurrentHashMap<>();

    private record Enriched(CatalogSnapshot snap, Classification result) {}

    /** A classification by identity: its own equals and hashCode walk every statement. */
    private record Same(Classification c) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Same s && s.c == c;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(c);
        }
    }

    private RowBound.Bound estimate(Operation op, List<String> path) throws SQLException {
        boolean changed = false;
        lock.lock();
        try {
            SQLException last = null;
            for (int attempt = 0; attempt < 2; attempt++) {
                try {
                    return RowEstimate.explain(connection(), op.text(), op.parameters(), path, options.estimateTimeout());
                } catch (SQLException e) {
                    last = e;
                    if (!lost(e)) throw e;
                    changed |= failed(e);
                }
            }
            throw last;
        } finally {
            lock.unlock();
            if (changed) notifyListeners();
        }
    }

    // ----- SchemaInfo: what the classifier asks -----

    /**
     * The loaded snapshot, or, while there is none, the offline table with the reason: a classifier asks every
     * question of one text to this, and does not prove what the offline table cannot know.
     */
    @Override
    public SchemaInfo pin() {
        CatalogSnapshot snap = current();
        if (snap != null) return new CatalogView.Live(snap);
        return new CatalogView.Unavailable(offline, "the catalog is unavailable (" + lastError + "): what depends on"
                + " the database's own objects is not proven until Warden can read it again");
    }

    @Override
    public Optional<String> relation(List<String> searchPath, String schema, String name) {
        return pin().relation(searchPath, schema, name);
    }

    @Override
    public Optional<List<String>> columns(String qualifiedRelation) {
        return pin().columns(qualifiedRelation);
    }

    @Override
    public RelationReach reach() {
        return pin().reach();
    }

    @Override
    public ImplicitCode implicitCode() {
        return pin().implicitCode();
    }


    /** The snapshot in use as it stands, not read again first (a front end asks this where it must not wait). */
    @Override
    public boolean eventTriggers() {
        CatalogSnapshot snap = snapshot;
        return snap == null || snap.eventTriggers();
    }

    @Override
    public boolean castRunsUserCode(String typeName) {
        return pin().castRunsUserCode(typeName);
    }

    @Override
    public boolean readRunsUserCode(String qualifiedRelation) {
        return pin().readRunsUserCode(qualifiedRelation);
    }

    @Override
    public List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount) {
        return pin().functions(searchPath, schema, name, argCount);
    }

    @Override
    public boolean builtInOperator(List<String> searchPath, String schema, String symbol) {
        return pin().builtInOperator(searchPath, schema, symbol);
    }

    @Override
    public Optional<String> unavailable() {
        return pin().unavailable();
    }

    @Override
    public boolean live() {
        return current() != null;
    }

    // ----- connection -----

    /**
     * The snapshot. Read again first when DDL made it stale, or on first use. While the database cannot be reached
     * no question waits for a connect: the offline table answers and the reconnect runs in the background.
     */
    private CatalogSnapshot current() {
        CatalogSnapshot snap = snapshot;
        if (snap != null && !stale() || closed) return snap;
        if (snap != null || !backingOff) {
            refresh();
            return snapshot;
        }
        if (System.nanoTime() - lastFailure >= options.retryAfter().toNanos() && reconnecting.compareAndSet(false, true)) {
            try {
                timer.execute(() -> {
                    try {
                        refresh();
                    } catch (RuntimeException e) {
                        lastError = String.valueOf(e);
                    } finally {
                        reconnecting.set(false);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                reconnecting.set(false); // closed meanwhile
            }
        }
        return null;
    }

    /** The timer: reads the catalog when due, and otherwise checks that the connection still stands. */
    private void tick() {
        try {
            if (closed) return;
            boolean due = snapshot == null || stale() || System.nanoTime() - lastLoad >= options.refreshEvery().toNanos();
            if (due) {
                refresh();
                return;
            }
            boolean lostIt = false;
            if (!lock.tryLock()) return; // busy means in use, which notices a loss by itself
            try {
                if (connection != null && !connection.isValid((int) Math.max(1, options.connectTimeout().toSeconds()))) {
                    lostIt = failed(new SQLException("the catalog connection was lost", "08006"));
                }
            } catch (SQLException e) {
                lostIt = failed(e);
            } finally {
                lock.unlock();
            }
            if (lostIt) notifyListeners();
            // Reconnect now rather than at the next question, so the new catalog is ready.
            if (snapshot == null) refresh();
        } catch (RuntimeException e) {
            lastError = String.valueOf(e);
        }
    }

    private Connection connection() throws SQLException {
        if (connection != null) return connection;
        var up = database.upstream();
        String host = up.host().contains(":") ? "[" + up.host() + "]" : up.host();
        String url = "jdbc:postgresql://" + host + ":" + up.port() + "/" + URLEncoder.encode(up.database(), StandardCharsets.UTF_8);
        Properties p = new Properties();
        p.setProperty("user", up.user());
        if (up.password() != null) p.setProperty("password", up.password().value());
        p.setProperty("ApplicationName", "warden-catalog");
        long connectSeconds = Math.max(1, options.connectTimeout().toSeconds());
        p.setProperty("connectTimeout", Long.toString(connectSeconds));
        p.setProperty("loginTimeout", Long.toString(connectSeconds));
        p.setProperty("socketTimeout", "30");
        // Warden's statements are never prepared behind its back (DEALLOCATE must not break the driver's cache),
        // never split, and every transaction is read-only. The catalog's queries on a large schema cost enough to
        // be JIT-compiled, which takes longer than running them.
        p.setProperty("prepareThreshold", "0");
        p.setProperty("preferQueryMode", "extended");
        p.setProperty("options", "-c default_transaction_read_only=on -c statement_timeout=30000"
                + " -c standard_conforming_strings=on -c jit=off");
        Connection c = new org.postgresql.Driver().connect(url, p);
        if (c == null) throw new SQLException("the PostgreSQL driver did not accept " + url);
        try {
            c.setAutoCommit(false);
            try (var st = c.createStatement(); var rs = st.executeQuery("SHOW search_path")) {
                // What a new session of this user on this database starts with (role and database settings
                // included), before Warden's own queries pin theirs to pg_catalog.
                rs.next();
                defaultSearchPath = SearchPath.parse(rs.getString(1));
                st.execute("SET search_path = pg_catalog");
            } catch (IllegalArgumentException e) {
                throw new SQLException("unreadable search_path default: " + e.getMessage());
            }
            c.commit();
        } catch (SQLException e) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // Closing a connection that failed.
            }
            throw e;
        }
        connection = c;
        backingOff = false;
        return c;
    }

    /** Handles a failure under the lock; returns true when the generation changed. */
    private boolean failed(SQLException e) {
        lastError = oneLine(e.getMessage());
        boolean wasLost = connection == null || lost(e);
        if (!wasLost) {
            try {
                connection.rollback();
            } catch (SQLException ignored) {
                wasLost = true;
            }
        }
        if (!wasLost) return false;
        // The server restarted or the database was dropped and re-created: nothing learnt from it holds.
        lastFailure = System.nanoTime();
        backingOff = true;
        closeConnection();
        if (snapshot == null) return false;
        snapshot = null;
        generation.incrementAndGet();
        return true;
    }

    // Asks the connection rather than reading SQLSTATEs: 08P01 (a bind with too few parameters) leaves it usable,
    // while 57P01 (the server shut down) does not.
    private boolean lost(SQLException e) {
        try {
            return connection == null || connection.isClosed() || !connection.isValid(1);
        } catch (SQLException ignored) {
            return true;
        }
    }

    private void closeConnection() {
        if (connection == null) return;
        try {
            connection.close();
        } catch (SQLException ignored) {
            // Already gone.
        }
        connection = null;
    }

    private void notifyListeners() {
        for (Runnable r : listeners) {
            try {
                r.run();
            } catch (RuntimeException ignored) {
                // A listener's failure must not stop the others.
            }
        }
    }

    private static String oneLine(String s) {
        if (s == null) return "unknown error";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public String toString() {
        return "PostgresCatalog[" + database.name() + " " + database.upstream() + "]";
    }
}
