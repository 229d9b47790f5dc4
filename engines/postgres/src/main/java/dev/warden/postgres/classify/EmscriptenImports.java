package dev.warden.postgres.classify;

import com.dylibso.chicory.runtime.HostFunction;
import com.dylibso.chicory.runtime.ImportFunction;
import com.dylibso.chicory.runtime.ImportValues;
import com.dylibso.chicory.runtime.Instance;
import com.dylibso.chicory.runtime.Memory;
import com.dylibso.chicory.runtime.WasmFunctionHandle;
import com.dylibso.chicory.wasm.WasmModule;
import com.dylibso.chicory.wasm.types.ExternalType;
import com.dylibso.chicory.wasm.types.FunctionImport;
import com.dylibso.chicory.wasm.types.FunctionType;
import com.dylibso.chicory.wasm.types.Import;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What an emscripten build of libpg_query expects from its JavaScript host, done in Java for Chicory.
 *
 * <p>The one part with substance is {@code setjmp}/{@code longjmp}. PostgreSQL reports every error, syntax errors
 * included, by {@code ereport(ERROR)}, which {@code siglongjmp}s back to libpg_query's {@code PG_TRY}. WebAssembly
 * has no such jump, so emscripten compiles every call that may jump through an {@code invoke_*} import: the host
 * calls the target through the function table and, when a {@code longjmp} escapes, rewinds the C stack pointer and
 * sets {@code __THREW__} with {@code setThrew(1, 0)}; the code after the call then finds its {@code setjmp} buffer
 * and continues there. {@code _emscripten_throw_longjmp} is how a jump starts: we throw a Java exception that
 * unwinds the JVM frames of the compiled WebAssembly down to the nearest {@code invoke_*}.
 *
 * <p>There is no file system, clock or timer: libpg_query needs none to parse. Output to stdout/stderr is dropped
 * (libpg_query reports errors in its result, not on stderr). Anything that would end the process ends only the
 * current parse, as an {@link Abort}, and the caller throws that instance away.
 */
final class EmscriptenImports {

    /** Largest heap the build allows (its glue's {@code getHeapMax}), 1 GiB. */
    private static final long HEAP_MAX = 1L << 30;

    private static final int PAGE = 65_536;
    private static final int ESPIPE = 70;

    /** A {@code longjmp} travelling to its {@code invoke_*}. Stateless, so one instance serves every thread. */
    static final class Longjmp extends RuntimeException {
        private static final Longjmp INSTANCE = new Longjmp();

        private Longjmp() {
            super("longjmp", null, false, false);
        }
    }

    /** The module asked to end the process or failed an assertion: the instance cannot be used any more. */
    static final class Abort extends RuntimeException {
        Abort(String message) {
            super(message);
        }
    }

    private EmscriptenImports() {}

    /**
     * Host functions for every function the module imports, each with the type the module declares for it.
     *
     * @param exports finds the module's own exports once the instance exists ({@code invoke_*} needs
     *     {@code setThrew} and the stack-pointer helpers)
     */
    static ImportValues of(WasmModule module, EmscriptenGlue glue, Exports exports) {
        List<ImportFunction> functions = new ArrayList<>();
        for (int i = 0; i < module.importSection().importCount(); i++) {
            Import imp = module.importSection().getImport(i);
            if (imp.importType() != ExternalType.FUNCTION) {
                throw new IllegalStateException("unexpected non-function import " + imp.module() + "." + imp.name());
            }
            FunctionType type = module.typeSection().getType(((FunctionImport) imp).typeIndex());
            String js = glue.importsByMinified().get(imp.name());
            if (js == null) {
                throw new IllegalStateException("the emscripten glue does not bind import " + imp.name());
            }
            functions.add(new HostFunction(imp.module(), imp.name(), type, handle(js, type, exports)));
        }
        return ImportValues.builder().withFunctions(functions).build();
    }

    /** The instance's exports that the imports call back into. */
    interface Exports {
        int stackSave();

        void stackRestore(int sp);

        void setThrew(int threw, int value);
    }

    private static WasmFunctionHandle handle(String js, FunctionType type, Exports exports) {
        if (js.startsWith("invoke_")) {
            return invoke(type, exports);
        }
        return switch (js) {
            case "__emscripten_throw_longjmp" -> (inst, args) -> {
                throw Longjmp.INSTANCE;
            };
            case "_emscripten_resize_heap" -> (inst, args) -> new long[] {resizeHeap(inst.memory(), args[0])};
            case "_fd_write" -> (inst, args) -> new long[] {discardWrite(inst.memory(), args)};
            case "_fd_read" -> (inst, args) -> {
                inst.memory().writeI32((int) args[3], 0); // end of file: nothing to read
                return new long[] {0};
            };
            case "_fd_seek" -> (inst, args) -> new long[] {ESPIPE};
            case "_fd_close", "__setitimer_js" -> (inst, args) -> new long[] {0};
            case "__emscripten_runtime_keepalive_clear" -> (inst, args) -> null;
            case "___assert_fail" -> (inst, args) -> {
                Memory m = inst.memory();
                throw new Abort("assertion failed in libpg_query: " + cString(m, args[0]) + " at "
                        + cString(m, args[1]) + ":" + args[2]);
            };
            case "__abort_js" -> (inst, args) -> {
                throw new Abort("libpg_query called abort()");
            };
            case "_exit", "_proc_exit" -> (inst, args) -> {
                throw new Abort("libpg_query called exit(" + args[0] + ")");
            };
            default -> throw new IllegalStateException("no host implementation for emscripten import " + js);
        };
    }

    /**
     * {@code invoke_<sig>(index, args…)}: call table entry {@code index}; if a {@code longjmp} escapes it, restore
     * the C stack pointer saved before the call and report the jump through {@code setThrew(1, 0)}.
     */
    private static WasmFunctionHandle invoke(FunctionType type, Exports exports) {
        int results = type.returns().size();
        return (inst, args) -> {
            int sp = exports.stackSave();
            try {
                int function = inst.table(0).requiredRef((int) args[0]);
                long[] result = inst.getMachine().call(function, Arrays.copyOfRange(args, 1, args.length));
                return results == 0 ? null : result;
            } catch (RuntimeException e) {
                if (!isLongjmp(e)) {
                    throw e;
                }
                exports.stackRestore(sp);
                exports.setThrew(1, 0);
                return results == 0 ? null : new long[results];
            }
        };
    }

    /** Chicory may wrap what a host function throws; a longjmp is a longjmp however deep it sits. */
    static boolean isLongjmp(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Longjmp) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** Grows memory as the emscripten glue does: at least what was asked, up to 20 % more, in whole pages. */
    private static long resizeHeap(Memory memory, long requestedArg) {
        long requested = requestedArg & 0xFFFF_FFFFL;
        long old = (long) memory.pages() * PAGE;
        if (requested > HEAP_MAX) {
            return 0;
        }
        long wanted = Math.max(requested, Math.min(old + old / 5, requested + 100_663_296L));
        wanted = Math.min(HEAP_MAX, (wanted + PAGE - 1) / PAGE * PAGE);
        int pages = (int) ((wanted - old + PAGE - 1) / PAGE);
        if (pages <= 0) {
            return 1;
        }
        return memory.grow(pages) >= 0 ? 1 : 0;
    }

    /** {@code fd_write(fd, iov, iovcnt, pnum)}: claim everything was written, so the C side never retries. */
    private static long discardWrite(Memory memory, long[] args) {
        int iov = (int) args[1];
        int count = (int) args[2];
        long written = 0;
        for (int i = 0; i < count; i++) {
            written += memory.readU32(iov + i * 8 + 4);
        }
        memory.writeI32((int) args[3], (int) written);
        return 0;
    }

    private static String cString(Memory memory, long pointer) {
        return pointer == 0 ? "?" : memory.readCString((int) pointer, StandardCharsets.UTF_8);
    }
}
