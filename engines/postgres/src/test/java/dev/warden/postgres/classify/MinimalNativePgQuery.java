package dev.warden.postgres.classify;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The native libpg_query (PostgreSQL 15, Debian's libpg-query-dev) called through FFM, just enough for the corpus
 * test until the production carrier ({@code NativePgQuery}, issue 4) is in main; then the test uses that instead.
 */
final class MinimalNativePgQuery implements SqlParser {

    static final String LIBRARY = "/usr/lib/x86_64-linux-gnu/libpg_query.so";

    // struct PgQueryParseResult { char *parse_tree; char *stderr_buffer; PgQueryError *error; }
    private static final StructLayout RESULT = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("parse_tree"),
            ValueLayout.ADDRESS.withName("stderr_buffer"),
            ValueLayout.ADDRESS.withName("error"));

    private final MethodHandle parse;
    private final MethodHandle free;

    MinimalNativePgQuery() {
        if (!Files.exists(Path.of(LIBRARY))) {
            throw new IllegalStateException(LIBRARY + " is missing: install libpg-query-dev");
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(LIBRARY), Arena.global());
        parse = linker.downcallHandle(lib.find("pg_query_parse").orElseThrow(),
                FunctionDescriptor.of(RESULT, ValueLayout.ADDRESS));
        free = linker.downcallHandle(lib.find("pg_query_free_parse_result").orElseThrow(),
                FunctionDescriptor.ofVoid(RESULT));
    }

    @Override
    public ParseResult parse(String sql) {
        if (sql.indexOf('\0') >= 0) {
            return new SyntaxError("NUL in text", sql.indexOf('\0'), "pg15-native");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment result = (MemorySegment) parse.invokeExact((java.lang.foreign.SegmentAllocator) arena,
                    arena.allocateFrom(sql));
            try {
                MemorySegment error = result.get(ValueLayout.ADDRESS, 16);
                if (!error.equals(MemorySegment.NULL)) {
                    // struct PgQueryError { char *message; char *funcname; char *filename; int lineno; int cursorpos; … }
                    MemorySegment e = error.reinterpret(40);
                    String message = e.get(ValueLayout.ADDRESS, 0).reinterpret(Long.MAX_VALUE).getString(0);
                    int cursorpos = e.get(ValueLayout.JAVA_INT, 28);
                    return new SyntaxError(message, WasmPgQuery.position(sql, cursorpos), "pg15-native");
                }
                String json = result.get(ValueLayout.ADDRESS, 0).reinterpret(Long.MAX_VALUE).getString(0);
                return new Tree(json, "pg15-native");
            } finally {
                free.invokeExact(result);
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
