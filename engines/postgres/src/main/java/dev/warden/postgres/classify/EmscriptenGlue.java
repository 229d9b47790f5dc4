package dev.warden.postgres.classify;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names an emscripten build gives its imports and exports, read from the JavaScript glue that ships beside the
 * {@code .wasm} file. Emscripten minifies them ({@code a}, {@code b}, … for imports, {@code A}, {@code B}, … for
 * exports) and the letters change from one build to the next, so they are read from the pinned build's own glue
 * rather than written down here; a build whose glue does not have this shape fails to load with a clear reason.
 *
 * @param importsByMinified minified import name → the JavaScript function it is bound to ({@code invoke_iii}, …)
 * @param exportsByName the C-level export name ({@code _malloc}, {@code _setThrew}, …) → minified export name
 * @param constructors the minified export that runs the C constructors ({@code __wasm_call_ctors})
 */
record EmscriptenGlue(Map<String, String> importsByMinified, Map<String, String> exportsByName, String constructors) {

    private static final Pattern IMPORTS = Pattern.compile("var wasmImports=\\{([^}]*)}");
    private static final Pattern IMPORT_PAIR = Pattern.compile("(\\w+):(\\w+)");
    private static final Pattern EXPORT = Pattern.compile("(\\w+)=(?:Module\\[\"\\w+\"]=)?wasmExports\\[\"(\\w+)\"]");
    private static final Pattern CONSTRUCTORS =
            Pattern.compile("function initRuntime\\(\\)\\{[^}]*?wasmExports\\[\"(\\w+)\"]\\(\\)");

    static EmscriptenGlue parse(String js) {
        Matcher imports = IMPORTS.matcher(js);
        if (!imports.find()) {
            throw new IllegalStateException("the emscripten glue has no 'var wasmImports={…}' table");
        }
        Map<String, String> importMap = new HashMap<>();
        Matcher pair = IMPORT_PAIR.matcher(imports.group(1));
        while (pair.find()) {
            importMap.put(pair.group(1), pair.group(2));
        }
        Map<String, String> exportMap = new HashMap<>();
        Matcher export = EXPORT.matcher(js);
        while (export.find()) {
            exportMap.putIfAbsent(export.group(1), export.group(2));
        }
        Matcher ctors = CONSTRUCTORS.matcher(js);
        if (!ctors.find()) {
            throw new IllegalStateException("the emscripten glue does not show which export runs the constructors");
        }
        return new EmscriptenGlue(Map.copyOf(importMap), Map.copyOf(exportMap), ctors.group(1));
    }

    /** The minified name of a C-level export such as {@code _malloc}. */
    String export(String name) {
        String minified = exportsByName.get(name);
        if (minified == null) {
            throw new IllegalStateException("the emscripten build does not export " + name);
        }
        return minified;
    }
}
