package dev.warden.mcp;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.Engine;
import dev.warden.core.engine.UpstreamSession;
import dev.warden.core.engine.UpstreamSession.UpstreamException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Upstream sessions per database, opened with the database's own credentials through the engine. A session goes
 * back to the pool only after a clean reset ({@code DISCARD ALL} for PostgreSQL), so nothing one call leaves in a
 * session (settings, temporary tables, prepared statements, an open transaction) reaches the next; a session that
 * cannot be reset is closed.
 */
final class UpstreamPool implements AutoCloseable {
    private final Function<DatabaseConfig, Engine> engines;
    private final int maxPerDatabase;
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();
    private volatile boolean closed;

    UpstreamPool(Function<DatabaseConfig, Engine> engines, int maxPerDatabase) {
        this.engines = engines;
        this.maxPerDatabase = maxPerDatabase;
    }

    interface Work<T> {
        T run(UpstreamSession session) throws IOException, UpstreamException;
    }

    <T> T with(DatabaseConfig db, Work<T> work) throws IOException, UpstreamException {
        if (closed) throw new IOException("the MCP server is shutting down");
        Slot slot = slots.computeIfAbsent(db.name(), n -> new Slot(maxPerDatabase));
        try {
            if (!slot.permits.tryAcquire(30, TimeUnit.SECONDS)) {
                throw new IOException("all " + maxPerDatabase + " upstream sessions of database '" + db.name() + "' are busy");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for an upstream session");
        }
        UpstreamSession s = null;
        boolean reusable = false;
        try {
            s = slot.poll();
            if (s == null) s = engines.apply(db).connect(db);
            T result;
            try {
                result = work.run(s);
            } finally {
                reusable = resetQuietly(s);
            }
            return result;
        } finally {
            if (s != null) {
                if (reusable && !closed) slot.offer(s);
                else s.close();
            }
            slot.permits.release();
        }
    }

    private static boolean resetQuietly(UpstreamSession s) {
        try {
            s.reset();
            return true;
        } catch (IOException | UpstreamException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Slot slot : slots.values()) {
            UpstreamSession s;
            while ((s = slot.poll()) != null) s.close();
        }
    }

    private static final class Slot {
        final Semaphore permits;
        private final Deque<UpstreamSession> idle = new ArrayDeque<>();

        Slot(int max) {
            permits = new Semaphore(max, true);
        }

        synchronized UpstreamSession poll() {
            return idle.pollFirst();
        }

        synchronized void offer(UpstreamSession s) {
            idle.addFirst(s);
        }
    }
}
