package dev.warden.postgres.classify;

import com.dylibso.chicory.runtime.ExportFunction;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Machine;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.MemoryLimits;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * One instance of the WebAssembly libpg_query: its own linear memory and PostgreSQL's global state, so it parses
 * one statement at a time. Confined to one thread by {@link WasmPgQuery}.
 */
final class WasmPgInstance {

    /**
     * The build asks for 128 MiB up front, but its data and 32 MiB C stack end below 34 MiB and malloc grows the
     * memory through {@code emscripten_resize_heap} when it needs more; starting smaller saves ~80 MiB per worker.
     */
    static final int INITIAL_PAGES = 48 * 16; // 48 MiB

    /** What one call of {@code wasm_parse_query_raw} produced: JSON, or an error with its 1-based position. */
    record Raw(String json, String error, int cursorpos) {}

    private final Memory memory;
    private final int initialPages;
    private final ExportFunction malloc;
    private final ExportFunction free;
    private final ExportFunction parseRaw;
    private final ExportFunction freeResult;

    /** Exports the imports call back into; filled once the instance exists. */
    private static final class Callbacks implements EmscriptenImports.Exports {
        ExportFunction stackGet;
        ExportFunction stackRestore;
        ExportFunction setThrew;

        @Override
        public int stackSave() {
            return (int) stackGet.apply()[0];
        }

        @Override
        public void stackRestore(int sp) {
            stackRestore.apply(sp);
        }

        @Override
        public void setThrew(int threw, int value) {
            setThrew.apply(threw, value);
        }
    }

    WasmPgInstance(WasmModule module, EmscriptenGlue glue, Function<Instance, Machine> machines, int initialPages) {
        Callbacks callbacks = new Callbacks();
        MemoryLimits declared = module.memorySection().orElseThrow().getMemory(0).limits();
        Instance instance = Instance.builder(module)
                .withMemoryLimits(new MemoryLimits(Math.min(initialPages, declared.initialPages()),
                        declared.maximumPages()))
                .withImportValues(EmscriptenImports.of(module, glue, callbacks))
                .withMachineFactory(machines)
                .build();
        callbacks.stackGet = instance.export(glue.export("_emscripten_stack_get_current"));
        callbacks.stackRestore = instance.export(glue.export("__emscripten_stack_restore"));
        callbacks.setThrew = instance.export(glue.export("_setThrew"));
        this.memory = instance.memory();
        this.initialPages = memory.pages();
        this.malloc = instance.export(glue.export("_malloc"));
        this.free = instance.export(glue.export("_free"));
        this.parseRaw = instance.export(glue.export("_wasm_parse_query_raw"));
        this.freeResult = instance.export(glue.export("_wasm_free_parse_result"));
        instance.export(glue.constructors()).apply();
    }

    /** Whether malloc has had to grow the linear memory since the instance was made. */
    boolean memoryGrew() {
        return memory.pages() > initialPages;
    }

    /**
     * Parses a NUL-free UTF-8 statement. Reads libpg_query's {@code PgQueryParseResult}
     * ({@code {char *parse_tree; char *stderr_buffer; PgQueryError *error;}}) and its {@code PgQueryError}
     * ({@code {char *message; char *funcname; char *filename; int lineno; int cursorpos; char *context;}}), 32-bit
     * pointers, as the package's own JavaScript reads them.
     */
    Raw parse(byte[] utf8) {
        int text = (int) malloc.apply(utf8.length + 1)[0];
        if (text == 0) {
            throw new EmscriptenImports.Abort("malloc failed for a statement of " + utf8.length + " bytes");
        }
        int result = 0;
        try {
            memory.write(text, utf8);
            memory.writeByte(text + utf8.length, (byte) 0);
            result = (int) parseRaw.apply(text)[0];
            if (result == 0) {
                throw new EmscriptenImports.Abort("libpg_query returned no result (out of memory)");
            }
            int tree = memory.readInt(result);
            int error = memory.readInt(result + 8);
            if (error != 0) {
                int message = memory.readInt(error);
                String text0 = message == 0 ? "syntax error" : memory.readCString(message, StandardCharsets.UTF_8);
                return new Raw(null, text0, memory.readInt(error + 16));
            }
            if (tree == 0) {
                throw new EmscriptenImports.Abort("libpg_query returned neither a tree nor an error");
            }
            return new Raw(memory.readCString(tree, StandardCharsets.UTF_8), null, 0);
        } finally {
            if (result != 0) {
                freeResult.apply(result);
            }
            free.apply(text);
        }
    }
}
