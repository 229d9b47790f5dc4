package dev.warden.postgres.classify;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * PostgreSQL's own grammar (libpg_query, PostgreSQL 15, Debian {@code libpg-query-dev}) called through the Foreign
 * Function &amp; Memory API.
 *
 * <p>libpg_query keeps its memory contexts in thread-local storage and is safe to call from many threads at once;
 * a downcall pins a virtual thread to its carrier for its duration, so one parse runs on one native thread from start
 * to end. Every result is freed with {@code pg_query_free_parse_result} before this returns, the input string lives
 * in a confined arena closed at the end of the call.
 */
public final class NativePgQuery implements SqlParser {
    public static final String GRAMMAR = "pg15-native";
    /** What to tell people when the library cannot be loaded. */
    public static final String INSTALL_HINT = "PostgreSQL's parser library libpg_query is not installed: "
            + "install the Debian package libpg-query-dev (sudo apt-get install libpg-query-dev)";

    /**
     * libpg_query recurses while it builds and prints a tree; a native stack overflow would take the whole JVM down,
     * so texts nested deeper than this (counted without regard to quoting, which can only over-count) are refused.
     */
    static final int MAX_NESTING = 1000;

    private static final AddressLayout PTR = ValueLayout.ADDRESS;
    /** {@code PgQueryParseResult}: parse_tree, stderr_buffer, error. */
    private static final StructLayout PARSE_RESULT = MemoryLayout.structLayout(
            PTR.withName("parse_tree"), PTR.withName("stderr_buffer"), PTR.withName("error"));
    /** {@code PgQueryError}: message, funcname, filename, lineno, cursorpos, context. */
    private static final StructLayout ERROR = MemoryLayout.structLayout(
            PTR.withName("message"), PTR.withName("funcname"), PTR.withName("filename"),
            ValueLayout.JAVA_INT.withName("lineno"), ValueLayout.JAVA_INT.withName("cursorpos"),
            PTR.withName("context"));
    private static final long ERROR_CURSORPOS = ERROR.byteOffset(MemoryLayout.PathElement.groupElement("cursorpos"));
    private static final long RESULT_ERROR = PARSE_RESULT.byteOffset(MemoryLayout.PathElement.groupElement("error"));

    private static final Optional<Library> LIBRARY = Library.load();
    // Constant method handles let the JIT inline the downcalls.
    private static final MethodHandle PARSE = LIBRARY.map(Library::parse).orElse(null);
    private static final MethodHandle FREE = LIBRARY.map(Library::free).orElse(null);

    private NativePgQuery() {}

    /** The native parser, or empty (with {@link #loadError()} saying why) when the library is not there. */
    public static Optional<SqlParser> load() {
        return LIBRARY.map(l -> new NativePgQuery());
    }

    /** Why the library could not be loaded, or empty when it was. */
    public static Optional<String> loadError() {
        return LIBRARY.isPresent() ? Optional.empty() : Optional.of(INSTALL_HINT + " (" + Library.failure + ")");
    }

    /** The native parser; throws {@link IllegalStateException} with the install hint when the library is missing. */
    public static SqlParser require() {
        return load().orElseThrow(() -> new IllegalStateException(loadError().orElse(INSTALL_HINT)));
    }

    @Override
    public ParseResult parse(String sql) {
        int nul = sql.indexOf('\0');
        if (nul >= 0) {
            // A C string ends at the first NUL: what follows would never be parsed, so the text is refused outright.
            return new SyntaxError("the text contains a NUL character", nul, GRAMMAR);
        }
        if (sql.length() > DeepStack.MAX_TEXT) {
            return new SyntaxError("the text is longer than " + DeepStack.MAX_TEXT + " characters, too large to classify", -1, GRAMMAR);
        }
        if (DeepStack.needed(sql)) return DeepStack.call(() -> parse(sql));
        int deep = tooDeep(sql);
        if (deep >= 0) {
            return new SyntaxError("the text nests parentheses or brackets more than " + MAX_NESTING + " levels deep", deep, GRAMMAR);
        }
        if (PARSE == null) throw new IllegalStateException(INSTALL_HINT);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment input = arena.allocateFrom(sql, StandardCharsets.UTF_8);
            MemorySegment result = (MemorySegment) PARSE.invokeExact((SegmentAllocator) arena, input);
            try {
                MemorySegment error = result.get(PTR, RESULT_ERROR);
                if (!error.equals(MemorySegment.NULL)) {
                    MemorySegment e = error.reinterpret(ERROR.byteSize());
                    String message = cString(e.get(PTR, 0));
                    int cursor = e.get(ValueLayout.JAVA_INT, ERROR_CURSORPOS);
                    // PostgreSQL reports error positions in characters (code points), 1-based.
                    return new SyntaxError(message, cursor <= 0 ? -1 : codePointOffset(sql, cursor - 1), GRAMMAR);
                }
                MemorySegment tree = result.get(PTR, 0);
                if (tree.equals(MemorySegment.NULL)) return new SyntaxError("the parser returned no tree", -1, GRAMMAR);
                return new Tree(cString(tree), GRAMMAR);
            } finally {
                FREE.invokeExact(result);
            }
        } catch (Throwable t) {
            if (t instanceof Error err) throw err;
            throw new IllegalStateException("libpg_query call failed", t);
        }
    }

    /** Converts a byte offset in the UTF-8 form of {@code s} to a char offset in {@code s}. */
    public static int charOffset(String s, int byteOffset) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            if (bytes >= byteOffset) return i;
            char c = s.charAt(i);
            if (c < 0x80) bytes += 1;
            else if (c < 0x800) bytes += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else bytes += 3;
        }
        return s.length();
    }

    /** Converts an offset in code points to a char offset in {@code s}. */
    static int codePointOffset(String s, int codePoints) {
        int total = s.codePointCount(0, s.length());
        return s.offsetByCodePoints(0, Math.min(Math.max(0, codePoints), total));
    }

    /** The offset where nesting first exceeds {@link #MAX_NESTING}, or -1. */
    static int tooDeep(String s) {
        int depth = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(' || c == '[') {
                if (++depth > MAX_NESTING) return i;
            } else if ((c == ')' || c == ']') && depth > 0) {
                depth--;
            }
        }
        return -1;
    }

    private static String cString(MemorySegment p) {
        if (p.equals(MemorySegment.NULL)) return "";
        return p.reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.UTF_8);
    }

    /** The loaded library and its two entry points. */
    private record Library(MethodHandle parse, MethodHandle free) {
        static String failure = "";

        static Optional<Library> load() {
            List<String> names = new ArrayList<>();
            String configured = System.getProperty("warden.libpg_query");
            if (configured != null && !configured.isBlank()) names.add(configured);
            // The -dev package has the unversioned name; the runtime package (libpg-query1504.0) only the versioned.
            names.addAll(List.of("libpg_query.so", "libpg_query.so.1504.0", "/usr/lib/x86_64-linux-gnu/libpg_query.so",
                    "/usr/lib/x86_64-linux-gnu/libpg_query.so.1504.0", "/usr/lib/aarch64-linux-gnu/libpg_query.so",
                    "/usr/local/lib/libpg_query.so", "libpg_query.dylib", "/opt/homebrew/lib/libpg_query.dylib"));
            List<String> errors = new ArrayList<>();
            for (String name : names) {
                try {
                    SymbolLookup lookup = SymbolLookup.libraryLookup(name, Arena.global());
                    Linker linker = Linker.nativeLinker();
                    MethodHandle parse = linker.downcallHandle(lookup.find("pg_query_parse").orElseThrow(),
                            FunctionDescriptor.of(PARSE_RESULT, PTR));
                    MethodHandle free = linker.downcallHandle(lookup.find("pg_query_free_parse_result").orElseThrow(),
                            FunctionDescriptor.ofVoid(PARSE_RESULT));
                    return Optional.of(new Library(parse, free));
                } catch (IllegalArgumentException | java.util.NoSuchElementException | IllegalCallerException e) {
                    errors.add(name + ": " + e.getMessage());
                }
            }
            failure = errors.isEmpty() ? "not found" : errors.get(0);
            return Optional.empty();
        }
    }
}
