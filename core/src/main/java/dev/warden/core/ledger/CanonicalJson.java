package dev.warden.core.ledger;

import java.util.Collection;
import java.util.Map;

/**
 * Canonical JSON as the ledger hashes it: object keys sorted by UTF-16 code units (as RFC 8785), no insignificant
 * whitespace, strings escaped minimally, only integers as numbers. The verifier re-serializes every entry it reads
 * with this class and rejects an entry whose bytes differ, so there is exactly one byte form per entry.
 */
public final class CanonicalJson {
    private CanonicalJson() {}

    public static String write(Object value) {
        StringBuilder sb = new StringBuilder(512);
        write(sb, value);
        return sb.toString();
    }

    public static void write(StringBuilder sb, Object value) {
        switch (value) {
            case null -> sb.append("null");
            case String s -> string(sb, s);
            case Boolean b -> sb.append(b ? "true" : "false");
            case Long l -> sb.append(l.longValue());
            case Integer i -> sb.append(i.intValue());
            case Short s -> sb.append(s.shortValue());
            case Byte b -> sb.append(b.byteValue());
            case java.math.BigInteger b -> sb.append(b);
            case Map<?, ?> m -> object(sb, m);
            case Collection<?> c -> {
                sb.append('[');
                boolean first = true;
                for (Object o : c) {
                    if (!first) sb.append(',');
                    first = false;
                    write(sb, o);
                }
                sb.append(']');
            }
            case Enum<?> e -> string(sb, e.name().toLowerCase(java.util.Locale.ROOT));
            default -> throw new IllegalArgumentException("cannot record a " + value.getClass().getSimpleName() + " in the ledger");
        }
    }

    private static void object(StringBuilder sb, Map<?, ?> m) {
        String[] keys = sortedKeys(m);
        sb.append('{');
        for (int i = 0; i < keys.length; i++) {
            if (i > 0) sb.append(',');
            string(sb, keys[i]);
            sb.append(':');
            write(sb, m.get(keys[i]));
        }
        sb.append('}');
    }

    /** The keys in canonical order (UTF-16 code units, as String.compareTo); maps here are small. */
    public static String[] sortedKeys(Map<?, ?> m) {
        String[] keys = new String[m.size()];
        int n = 0;
        for (Object k : m.keySet()) {
            if (!(k instanceof String s)) throw new IllegalArgumentException("object keys must be strings");
            int j = n++;
            while (j > 0 && keys[j - 1].compareTo(s) > 0) {
                keys[j] = keys[j - 1];
                j--;
            }
            keys[j] = s;
        }
        return keys;
    }

    public static void string(StringBuilder sb, String s) {
        sb.append('"');
        int n = s.length();
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\') break;
            i++;
        }
        if (i == n) {
            // The common case: nothing to escape, one bulk copy (append(CharSequence, int, int) goes char by char).
            sb.append(s);
            sb.append('"');
            return;
        }
        sb.append(s.substring(0, i));
        for (; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();
}
