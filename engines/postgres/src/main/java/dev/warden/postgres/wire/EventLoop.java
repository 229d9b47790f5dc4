package dev.warden.postgres.wire;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One thread and one selector serving many sessions' sockets, as PgBouncer does: under load a single wake-up finds
 * several sockets ready, where a thread per socket pays a context switch for each message. Everything a handler does
 * here must not block; what might wait goes to another thread and comes back through {@link #execute}.
 *
 * <p>The loops are shared by every listener of the process: {@value #PROPERTY} of them (default: one per
 * processor; measured on 2 cores with 16 pgbench clients, two loops did better than one), each a daemon thread
 * started on first use.
 */
final class EventLoop {
    static final String PROPERTY = "warden.eventLoops";
    private static final long TICK_NANOS = 1_000_000_000L;
    private static final List<EventLoop> LOOPS = start(Integer.getInteger(PROPERTY,
            Runtime.getRuntime().availableProcessors()));
    private static final AtomicInteger NEXT = new AtomicInteger();

    /** Reacts to a ready key on the loop thread; must not block. */
    interface Handler {
        void ready(SelectionKey key);
    }

    /** Called about once a second on the loop thread (idle timeouts). */
    interface Ticking {
        void tick(long nanoTime);
    }

    /** Sends what it collected during a pass, after every ready socket of that pass was handled. */
    interface Flushing {
        void flush();
    }

    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final List<Ticking> ticking = new ArrayList<>();
    private final List<Flushing> flushing = new ArrayList<>();
    private long lastTick = System.nanoTime();

    private EventLoop(int index) {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open a selector", e);
        }
        thread = Thread.ofPlatform().daemon().name("pg-loop-" + index).unstarted(this::run);
    }

    private static List<EventLoop> start(int n) {
        List<EventLoop> loops = new ArrayList<>();
        for (int i = 0; i < Math.max(1, n); i++) {
            EventLoop l = new EventLoop(i);
            l.thread.start();
            loops.add(l);
        }
        return List.copyOf(loops);
    }

    /** The loop for a new session (round robin). */
    static EventLoop next() {
        return LOOPS.get(Math.floorMod(NEXT.getAndIncrement(), LOOPS.size()));
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Runs {@code task} on the loop thread, after what it is doing now. Any thread. */
    void execute(Runnable task) {
        tasks.add(task);
        if (!inLoop()) selector.wakeup();
    }

    /** Registers a channel (loop thread only). */
    SelectionKey register(SelectableChannel channel, int ops, Handler handler) throws ClosedChannelException {
        return channel.register(selector, ops, handler);
    }

    /**
     * Has {@code f} flushed at the end of this pass (loop thread only; once per pass: the caller remembers). What the
     * sessions of one pass send upstream waits for their decisions, and one ledger write then covers all of them.
     */
    void flushAfterPass(Flushing f) {
        flushing.add(f);
    }

    /** Adds or removes a periodic check (loop thread only). */
    void ticking(Ticking t, boolean add) {
        if (add) ticking.add(t);
        else ticking.remove(t);
    }

    private void run() {
        while (true) {
            try {
                if (tasks.isEmpty()) selector.select(this::dispatch, 1000);
                else selector.selectNow(this::dispatch);
            } catch (IOException | RuntimeException e) {
                // A selector failure would stop every session on this loop; report it and go on.
                System.err.println("warden: event loop " + thread.getName() + ": " + e);
            }
            runTasks();
            flushAll();
            long now = System.nanoTime();
            if (now - lastTick >= TICK_NANOS) {
                lastTick = now;
                for (Ticking t : List.copyOf(ticking)) guarded(() -> t.tick(now));
            }
        }
    }

    private void dispatch(SelectionKey key) {
        if (!(key.attachment() instanceof Handler h)) return;
        try {
            h.ready(key);
        } catch (java.nio.channels.CancelledKeyException e) {
            // its channel was closed from another thread meanwhile: nothing left to do for it
        } catch (RuntimeException | Error e) {
            failed(e);
        }
    }

    private void flushAll() {
        for (int i = 0; i < flushing.size(); i++) {
            try {
                flushing.get(i).flush();
            } catch (RuntimeException | Error e) {
                failed(e);
            }
        }
        flushing.clear();
    }

    private void runTasks() {
        Runnable r;
        while ((r = tasks.poll()) != null) guarded(r);
    }

    /** One session's failure must never stop the loop that serves the others. */
    private void guarded(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException | Error e) {
            failed(e);
        }
    }

    private void failed(Throwable e) {
        if (e instanceof VirtualMachineError v) throw v;
        System.err.println("warden: event loop " + thread.getName() + ": a handler failed: " + e);
    }
}
