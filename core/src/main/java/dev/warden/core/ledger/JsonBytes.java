package dev.warden.core.ledger;

import java.util.Arrays;
import java.util.Collection;

/**
 * Canonical JSON written straight as UTF-8 bytes, for the two entries written for every statement: the same bytes
 * {@link CanonicalJson} gives through a String, without the builder, String and encoding copies in between. The
 * buffer is reused by its thread; {@link #toArray()} hands out one exact copy.
 */
final class JsonBytes {
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);

    private static final int INITIAL = 2048;
    // A buffer grown for one huge statement is not kept for the life of its (long-lived) thread.
    private static final int KEPT = 64 * 1024;

    private byte[] buf = new byte[INITIAL];
    private int len;

    JsonBytes reset() {
        len = 0;
        if (buf.length > KEPT) buf = new byte[INITIAL];
        return this;
    }

    int length() {
        return len;
    }

    int capacity() {
        return buf.length;
    }

    byte[] toArray() {
        return Arrays.copyOf(buf, len);
    }

    /** Text known to be ASCII and to need no escaping: punctuation and key names. */
    JsonBytes raw(String ascii) {
        int n = ascii.length();
        ensure(n);
        ascii.getBytes(0, n, buf, len); // deprecated for lossy chars, exact for ASCII
        len += n;
        return this;
    }

    JsonBytes raw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, len, bytes.length);
        len += bytes.length;
        return this;
    }

    JsonBytes raw(char c) {
        ensure(1);
        buf[len++] = (byte) c;
        return this;
    }

    JsonBytes number(long v) {
        if (v == Long.MIN_VALUE) return raw(Long.toString(v));
        if (v < 0) {
            raw('-');
            v = -v;
        }
        int digits = 1;
        for (long x = v; x >= 10; x /= 10) digits++;
        ensure(digits);
        for (int i = len + digits - 1; i >= len; i--) {
            buf[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        len += digits;
        return this;
    }

    JsonBytes nullable(String s) {
        return s == null ? raw("null") : string(s);
    }

    JsonBytes strings(Collection<String> values) {
        raw('[');
        boolean first = true;
        for (String v : values) {
            if (!first) raw(',');
            first = false;
            nullable(v);
        }
        return raw(']');
    }

    /** A string as {@link CanonicalJson#string} escapes it, encoded as UTF-8. */
    JsonBytes string(String s) {
        int n = s.length();
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
            i++;
        }
        // The common case, plain ASCII up to i: one bulk copy.
        ensure(i + 2);
        buf[len++] = '"';
        s.getBytes(0, i, buf, len); // deprecated for lossy chars, exact for ASCII
        len += i;
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                raw(c);
            } else if (c < 0x80) {
                escape(c);
            } else if (c < 0x800) {
                ensure(2);
                buf[len++] = (byte) (0xc0 | c >> 6);
                buf[len++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                ensure(4);
                buf[len++] = (byte) (0xf0 | cp >> 18);
                buf[len++] = (byte) (0x80 | cp >> 12 & 0x3f);
                buf[len++] = (byte) (0x80 | cp >> 6 & 0x3f);
                buf[len++] = (byte) (0x80 | cp & 0x3f);
            } else if (Character.isSurrogate(c)) {
                raw('?'); // what String.getBytes(UTF_8) writes for a lone surrogate
            } else {
                ensure(3);
                buf[len++] = (byte) (0xe0 | c >> 12);
                buf[len++] = (byte) (0x80 | c >> 6 & 0x3f);
                buf[len++] = (byte) (0x80 | c & 0x3f);
            }
        }
        return raw('"');
    }

    private void escape(char c) {
        switch (c) {
            case '"' -> raw("\\\"");
            case '\\' -> raw("\\\\");
            case '\b' -> raw("\\b");
            case '\f' -> raw("\\f");
            case '\n' -> raw("\\n");
            case '\r' -> raw("\\r");
            case '\t' -> raw("\\t");
            default -> {
                raw("\\u00");
                raw((char) HEX[c >> 4]);
                raw((char) HEX[c & 0xf]);
            }
        }
    }

    private void ensure(int more) {
        if (len + more > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
    }
}
