package dev.warden.postgres.classify;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Runs work that recurses as deep as its input on platform threads with a large stack. libpg_query recurses once per
 * level of a left-deep expression ({@code 1+1+1+…}, about 130 bytes a level) and a native stack overflow kills the
 * JVM, so long texts are parsed here; short texts cannot nest deep enough to matter and stay on the caller's thread.
 */
final class DeepStack {
    /** Texts up to this many chars are handled on the caller's thread (at most ~500 levels: well under 1 MiB of stack). */
    static final int INLINE_LIMIT = 1000;
    /**
     * Longer texts are refused: a statement this large is not what an agent sends, and its parse tree (about 130 bytes
     * of JSON per character in the worst shape) would cost seconds and hundreds of megabytes.
     */
    static final int MAX_TEXT = 256 * 1024;
    /**
     * Reserved (not committed) stack per thread: {@link #MAX_TEXT} chars nest at most half a million levels, about
     * 65 MiB of native stack, plus the Java walk of the tree.
     */
    private static final long STACK = 256L << 20;

    private static final ThreadLocal<Boolean> ON_DEEP = ThreadLocal.withInitial(() -> false);
    private static final AtomicInteger N = new AtomicInteger();
    private static final ExecutorService POOL = Executors.newFixedThreadPool(
            Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), r -> {
        Thread t = new Thread(null, () -> {
            ON_DEEP.set(true);
            r.run();
        }, "warden-deep-parse-" + N.incrementAndGet(), STACK);
        t.setDaemon(true);
        return t;
    });

    private DeepStack() {}

    static boolean needed(String text) {
        return text.length() > INLINE_LIMIT && !ON_DEEP.get();
    }

    static <T> T call(Supplier<T> work) {
        if (ON_DEEP.get()) return work.get();
        Future<T> f = POOL.submit(work::get);
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while parsing", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }
}
