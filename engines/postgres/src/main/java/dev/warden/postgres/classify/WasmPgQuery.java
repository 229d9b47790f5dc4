package dev.warden.postgres.classify;

import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.wasm.WasmModule;
import dev.warden.postgres.classify.pg18.LibpgQuery18;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * The second parser carrier: libpg_query built for WebAssembly with the PostgreSQL 18 grammar (npm package
 * {@code libpg-query}, pinned with its hash in the parent pom, fetched at build time), run in pure Java by Chicory.
 *
 * <p>It knows syntax the native PostgreSQL 15 library does not ({@code MERGE … RETURNING}, {@code JSON_TABLE},
 * SQL/JSON functions, …), but costs milliseconds per statement and seconds to load, so the classifier asks it only
 * after the native carrier reported a syntax error. The WebAssembly module is compiled to JVM bytecode once per
 * process, lazily on first use (or ahead of it with {@link #preload()}).
 *
 * <p>Thread-safety: an instance of the module holds PostgreSQL's global state and parses one statement at a time,
 * so each runs on its own worker thread (a small pool, {@value #DEFAULT_WORKERS} by default); callers wait for
 * their result. Each worker's instance takes about 128 MiB, and is released when the worker has been idle for
 * {@link #IDLE}. Workers have a large stack because the compiled PostgreSQL code recurses on the JVM stack.
 *
 * <p>Never throws for bad input: text that is not UTF-8-encodable, contains a NUL (C would see only the part
 * before it, so what is parsed would not be what runs), fails to parse, or makes the module trap is a
 * {@link SyntaxError}, and an instance that trapped is thrown away.
 */
public final class WasmPgQuery implements SqlParser {

    public static final String GRAMMAR = "pg18-wasm";
    static final int DEFAULT_WORKERS = 2;
    static final Duration IDLE = Duration.ofMinutes(10);
    /**
     * Ordinary statements take milliseconds; pathological nesting (tens of thousands of levels) takes seconds,
     * growing faster than linearly. Past this the statement is refused and its worker interrupted.
     */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final long WORKER_STACK_BYTES = 256L << 20;
    private static final String RESOURCES = "pg18/";

    /** The parsed and compiled module, shared by every {@code WasmPgQuery} in the process. */
    private record Loaded(WasmModule module, EmscriptenGlue glue, Function<Instance, Machine> machines) {}

    private static final Object LOAD_LOCK = new Object();
    private static volatile Loaded loaded;
    private static volatile RuntimeException loadFailure;

    private static final Object SHARED_LOCK = new Object();
    private static WasmPgQuery shared;

    private final ThreadPoolExecutor workers;
    private final Duration timeout;
    private final int initialPages;
    private final LongAdder memoryGrowths = new LongAdder();
    private final LongAdder parses = new LongAdder();
    private final LongAdder parseCpuNanos = new LongAdder();
    private final LongAdder instances = new LongAdder();
    private final LongAdder instanceCpuNanos = new LongAdder();

    /**
     * CPU time the workers spent, which a busy machine does not inflate the way it does wall time.
     *
     * @param parses statements parsed
     * @param parseCpuNanos CPU time of those parses (in the module, on the workers' threads)
     * @param instances module instances made (one per worker, again after a trap or an idle period)
     * @param instanceCpuNanos CPU time of making them, the first one including loading the module
     * @param memoryGrowths parses after which an instance's linear memory was larger than it started
     */
    record Stats(long parses, long parseCpuNanos, long instances, long instanceCpuNanos, long memoryGrowths) {}

    /** The process-wide carrier: one pool of workers, so the memory the instances take is paid once. */
    public static WasmPgQuery shared() {
        synchronized (SHARED_LOCK) {
            if (shared == null) {
                shared = new WasmPgQuery();
            }
            return shared;
        }
    }

    public WasmPgQuery() {
        this(DEFAULT_WORKERS, DEFAULT_TIMEOUT);
    }

    WasmPgQuery(int workerCount, Duration timeout) {
        this(workerCount, timeout, WasmPgInstance.INITIAL_PAGES);
    }

    WasmPgQuery(int workerCount, Duration timeout, int initialPages) {
        if (workerCount < 1) {
            throw new IllegalArgumentException("at least one worker");
        }
        this.timeout = timeout;
        this.initialPages = initialPages;
        AtomicInteger n = new AtomicInteger();
        workers = new ThreadPoolExecutor(workerCount, workerCount, IDLE.toMillis(), TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), task -> {
                    Worker w = new Worker(this, task, "warden-pg18-wasm-" + n.incrementAndGet());
                    w.setDaemon(true);
                    return w;
                });
        workers.allowCoreThreadTimeOut(true);
    }

    /**
     * Loads the module and makes one worker's instance in the background (about a second, more on a busy
     * machine), so that the first statement that needs this carrier does not wait for it. Optional.
     */
    public Future<ParseResult> preload() {
        return workers.submit(() -> {
            byte[] probe = "SELECT 1".getBytes(StandardCharsets.UTF_8);
            return new Tree(((Worker) Thread.currentThread()).parse(probe).json(), GRAMMAR);
        });
    }

    @Override
    public ParseResult parse(String sql) {
        return parse(sql, timeout);
    }

    /** Whether some carrier in this process has loaded the module already. */
    static boolean moduleLoaded() {
        return loaded != null;
    }

    Stats stats() {
        return new Stats(parses.sum(), parseCpuNanos.sum(), instances.sum(), instanceCpuNanos.sum(),
                memoryGrowths.sum());
    }

    ParseResult parse(String sql, Duration timeout) {
        if (sql == null) {
            return new SyntaxError("no statement text", -1, GRAMMAR);
        }
        int nul = sql.indexOf('\0');
        if (nul >= 0) {
            return new SyntaxError("the text contains a NUL character, which PostgreSQL does not accept", nul,
                    GRAMMAR);
        }
        if (sql.length() > DeepStack.MAX_TEXT) {
            // The native carrier's limit too: a text it refuses as too large must not get a tree from this one.
            return new SyntaxError("the text is longer than " + DeepStack.MAX_TEXT
                    + " characters, too large to classify", -1, GRAMMAR);
        }
        byte[] utf8;
        try {
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(sql));
            utf8 = new byte[encoded.remaining()];
            encoded.get(utf8);
        } catch (CharacterCodingException e) {
            return new SyntaxError("the text is not valid Unicode (unpaired surrogate)", -1, GRAMMAR);
        }
        Future<WasmPgInstance.Raw> future;
        try {
            future = workers.submit(() -> ((Worker) Thread.currentThread()).parse(utf8));
        } catch (RuntimeException e) {
            return new SyntaxError("the PostgreSQL 18 parser is not available: " + e.getMessage(), -1, GRAMMAR);
        }
        WasmPgInstance.Raw raw;
        try {
            raw = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            return new SyntaxError("interrupted while parsing with the PostgreSQL 18 grammar", -1, GRAMMAR);
        } catch (TimeoutException e) {
            future.cancel(true);
            return new SyntaxError("the PostgreSQL 18 parser took longer than " + timeout.toMillis() + " ms", -1,
                    GRAMMAR);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return new SyntaxError("the PostgreSQL 18 parser failed: " + describe(cause), -1, GRAMMAR);
        }
        if (raw.json() != null) {
            return new Tree(raw.json(), GRAMMAR);
        }
        return new SyntaxError(raw.error(), position(sql, raw.cursorpos()), GRAMMAR);
    }

    /**
     * PostgreSQL's error position is 1-based and counts characters (code points in UTF-8); ours is a 0-based
     * index into the Java string, which counts UTF-16 units.
     */
    static int position(String sql, int cursorpos) {
        if (cursorpos <= 0) {
            return -1;
        }
        int codePoints = sql.codePointCount(0, sql.length());
        return sql.offsetByCodePoints(0, Math.min(cursorpos - 1, codePoints));
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /** The compiled module, loading it on first use; a failure to load is remembered and reported each time. */
    private static Loaded module() {
        Loaded l = loaded;
        if (l != null) {
            return l;
        }
        synchronized (LOAD_LOCK) {
            if (loaded != null) {
                return loaded;
            }
            if (loadFailure != null) {
                throw loadFailure;
            }
            try {
                // Compiled to JVM bytecode at build time by chicory-compiler-maven-plugin (see the module's pom).
                WasmModule module = LibpgQuery18.load();
                EmscriptenGlue glue = EmscriptenGlue.parse(
                        new String(resource("wasm/libpg-query.js"), StandardCharsets.UTF_8));
                loaded = new Loaded(module, glue, LibpgQuery18::create);
                return loaded;
            } catch (RuntimeException | LinkageError e) {
                loadFailure = new IllegalStateException(
                        "cannot load the PostgreSQL 18 grammar (WebAssembly libpg_query): " + describe(e), e);
                throw loadFailure;
            }
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = WasmPgQuery.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCES + name + " is missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A pool thread that owns one module instance, made on its first parse and dropped if a parse trapped. */
    private static final class Worker extends Thread {
        private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

        private final WasmPgQuery owner;
        private WasmPgInstance instance;

        Worker(WasmPgQuery owner, Runnable task, String name) {
            super(null, task, name, WORKER_STACK_BYTES);
            this.owner = owner;
        }

        WasmPgInstance.Raw parse(byte[] utf8) {
            try {
                if (instance == null) {
                    long start = CPU.getCurrentThreadCpuTime();
                    Loaded l = module();
                    instance = new WasmPgInstance(l.module(), l.glue(), l.machines(), owner.initialPages);
                    owner.instances.increment();
                    owner.instanceCpuNanos.add(CPU.getCurrentThreadCpuTime() - start);
                }
                long start = CPU.getCurrentThreadCpuTime();
                WasmPgInstance.Raw raw = instance.parse(utf8);
                owner.parses.increment();
                owner.parseCpuNanos.add(CPU.getCurrentThreadCpuTime() - start);
                if (instance.memoryGrew()) {
                    owner.memoryGrowths.increment();
                }
                return raw;
            } catch (Throwable t) {
                // A trap, a stack overflow or an abort can leave PostgreSQL's globals half-updated.
                instance = null;
                throw t;
            }
        }
    }
}
