package dev.warden.core.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The byte writer gives exactly what the canonical serializer gives through a String, encoded as UTF-8. */
class JsonBytesTest {

    private static String written(JsonBytes j) {
        return new String(j.toArray(), StandardCharsets.UTF_8);
    }

    @Test
    void stringsAreEscapedAndEncodedAsTheCanonicalSerializerDoes() {
        List<String> samples = List.of("", "plain", "quote \" and \\ backslash", "\b\f\n\r\t", "\u0000\u0001\u001f\u007f",
                "pässwörd", "日本語", "emoji \uD83D\uDE00 pair", "lone \uD800 high", "lone \uDC00 low", "end \uD83D",
                "x".repeat(5000) + "é");
        for (String s : samples) {
            StringBuilder sb = new StringBuilder();
            CanonicalJson.string(sb, s);
            byte[] expected = sb.toString().getBytes(StandardCharsets.UTF_8);
            byte[] actual = new JsonBytes().string(s).toArray();
            assertEquals(new String(expected, StandardCharsets.ISO_8859_1), new String(actual, StandardCharsets.ISO_8859_1), s);
        }
    }

    @Test
    void numbersListsAndNullsAsTheCanonicalSerializerWritesThem() {
        for (long v : new long[] {0, 7, 10, -1, -10, 1234567890123L, Long.MAX_VALUE, Long.MIN_VALUE}) {
            assertEquals(Long.toString(v), written(new JsonBytes().number(v)));
        }
        List<String> list = java.util.Arrays.asList("a", null, "\"b\"");
        assertEquals(CanonicalJson.write(list), written(new JsonBytes().strings(list)));
        assertEquals("null", written(new JsonBytes().nullable(null)));
    }

    @Test
    void aReusedBufferStartsAfreshAndDoesNotKeepWhatOneHugeStatementNeeded() {
        JsonBytes j = new JsonBytes();
        j.raw("x".repeat(10_000));
        assertEquals("\"y\"", written(j.reset().string("y")));
        j.string("z".repeat(1 << 20));
        assertEquals((1 << 20) + 5, j.length());
        assertEquals(2048, j.reset().capacity());
        assertEquals("1", written(j.number(1)));
    }
}
