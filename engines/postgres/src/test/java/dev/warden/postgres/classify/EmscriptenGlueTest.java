package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class EmscriptenGlueTest {

    private static final String GLUE = "function initRuntime(){runtimeInitialized=true;wasmExports[\"A\"]();}"
            + "var _malloc=Module[\"_malloc\"]=wasmExports[\"C\"];_setThrew=wasmExports[\"P\"];"
            + "var wasmImports={c:___assert_fail,p:__emscripten_throw_longjmp,a:invoke_iii};";

    @Test
    void readsTheMinifiedNamesOfImportsAndExports() {
        EmscriptenGlue glue = EmscriptenGlue.parse(GLUE);
        assertThat(glue.importsByMinified()).containsEntry("a", "invoke_iii")
                .containsEntry("p", "__emscripten_throw_longjmp").hasSize(3);
        assertThat(glue.export("_malloc")).isEqualTo("C");
        assertThat(glue.export("_setThrew")).isEqualTo("P");
        assertThat(glue.constructors()).isEqualTo("A");
    }

    @Test
    void aGlueOfAnotherShapeIsAClearLoadError() {
        assertThatThrownBy(() -> EmscriptenGlue.parse("var x=1;")).hasMessageContaining("wasmImports");
        assertThatThrownBy(() -> EmscriptenGlue.parse(GLUE).export("_wasm_parse_query_raw"))
                .hasMessageContaining("does not export _wasm_parse_query_raw");
    }
}
