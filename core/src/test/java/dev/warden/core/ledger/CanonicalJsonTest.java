package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {
    @Test
    void keysSortedNoWhitespaceMinimalEscapes() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", 1L);
        m.put("a", Arrays.asList("x\"y\\z\n\t\u0001", null, true));
        m.put("\u00e9", Map.of("z", 2, "y", "caf\u00e9 \u2603"));
        m.put("B", null);
        String json = CanonicalJson.write(m);
        assertThat(json).isEqualTo("{\"B\":null,\"a\":[\"x\\\"y\\\\z\\n\\t\\u0001\",null,true],\"b\":1,\"\u00e9\":{\"y\":\"caf\u00e9 \u2603\",\"z\":2}}");
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        Map<String, Object> back = EntryLines.parse(bytes);
        assertThat(EntryLines.canonical(bytes, 0, bytes.length, back)).isTrue();
        // The same content in any other byte form is not canonical.
        byte[] spaced = json.replace(",\"b\":1", ", \"b\":1").getBytes(StandardCharsets.UTF_8);
        assertThat(EntryLines.canonical(spaced, 0, spaced.length, EntryLines.parse(spaced))).isFalse();
        byte[] escaped = json.replace("caf\u00e9", "caf\\u00e9").getBytes(StandardCharsets.UTF_8);
        assertThat(EntryLines.canonical(escaped, 0, escaped.length, EntryLines.parse(escaped))).isFalse();
    }

    @Test
    void floatsAreRefusedAndDuplicateKeysAreNotAnEntry() {
        assertThatThrownBy(() -> CanonicalJson.write(Map.of("x", 1.5))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EntryLines.parse("{\"a\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8))).hasMessageContaining("Duplicate");
    }
}
