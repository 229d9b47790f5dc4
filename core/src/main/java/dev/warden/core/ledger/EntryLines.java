package dev.warden.core.ledger;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;

/** Reads recorded entry lines back. */
public final class EntryLines {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private EntryLines() {}

    /** The entry as a map, or an exception naming why it is not one. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parse(byte[] b, int off, int len) throws IOException {
        try (JsonParser p = JSON.createParser(b, off, len)) {
            Object o = JSON.readValue(p, Object.class);
            if (p.nextToken() != null) throw new IOException("trailing bytes after the entry");
            if (!(o instanceof Map<?, ?> m)) throw new IOException("not a JSON object");
            return (Map<String, Object>) m;
        }
    }

    public static Map<String, Object> parse(byte[] line) throws IOException {
        return parse(line, 0, line.length);
    }

    /** True when {@code line} is exactly the canonical form of its own content. */
    public static boolean canonical(byte[] b, int off, int len, Map<String, Object> parsed) {
        try {
            byte[] c = CanonicalJson.write(parsed).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            return Arrays.equals(c, 0, c.length, b, off, off + len);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    public static long seq(Map<String, Object> entry) throws IOException {
        if (entry.get("seq") instanceof Long l) return l;
        throw new IOException("no seq");
    }

    public static String pretty(Map<String, Object> entry) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(entry);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
