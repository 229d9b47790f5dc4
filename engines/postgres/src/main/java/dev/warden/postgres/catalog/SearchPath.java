package dev.warden.postgres.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The value of PostgreSQL's {@code search_path} setting as a list of schema names, split and folded the way the
 * server does it ({@code SplitIdentifierString}): commas between entries, unquoted names folded to lower case,
 * double-quoted names kept as written with {@code ""} for a quote. {@code $user} stays {@code $user}; the catalog
 * replaces it with the upstream user.
 */
public final class SearchPath {
    private static final int NAMEDATALEN = 64;

    private SearchPath() {}

    /** Parses a setting such as {@code "$user", public}. Throws {@link IllegalArgumentException} when malformed. */
    public static List<String> parse(String value) {
        List<String> out = new ArrayList<>();
        String s = value == null ? "" : value;
        int i = skipSpace(s, 0);
        if (i == s.length()) return out;
        while (true) {
            String name;
            if (s.charAt(i) == '"') {
                StringBuilder b = new StringBuilder();
                i++;
                while (true) {
                    if (i >= s.length()) throw new IllegalArgumentException("unterminated quoted name in search_path: " + value);
                    char c = s.charAt(i++);
                    if (c == '"') {
                        if (i < s.length() && s.charAt(i) == '"') {
                            b.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        b.append(c);
                    }
                }
                // An empty quoted name is allowed, as in PostgreSQL (SET search_path = '' stores ""): no schema has it.
                name = b.toString();
            } else {
                int start = i;
                while (i < s.length() && s.charAt(i) != ',' && !space(s.charAt(i))) i++;
                if (i == start) throw new IllegalArgumentException("empty name in search_path: " + value);
                name = s.substring(start, i);
                // The server folds only ASCII letters (others by the encoding's and locale's rules): not guessed.
                for (int k = 0; k < name.length(); k++) {
                    char c = name.charAt(k);
                    if (c >= 0x80 || c < 0x20 || c == 0x7f) {
                        throw new IllegalArgumentException("an unquoted name in search_path with a non-ASCII or control character: " + value);
                    }
                }
                name = name.toLowerCase(Locale.ROOT);
            }
            out.add(truncate(name));
            i = skipSpace(s, i);
            if (i == s.length()) return out;
            if (s.charAt(i) != ',') throw new IllegalArgumentException("expected ',' in search_path at " + i + ": " + value);
            i = skipSpace(s, i + 1);
            if (i == s.length()) throw new IllegalArgumentException("trailing ',' in search_path: " + value);
        }
    }

    /** Renders a list back as a setting value, every name quoted. */
    public static String render(List<String> path) {
        StringBuilder b = new StringBuilder();
        for (String p : path) {
            if (!b.isEmpty()) b.append(", ");
            b.append('"').append(p.replace("\"", "\"\"")).append('"');
        }
        return b.toString();
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && space(s.charAt(i))) i++;
        return i;
    }

    /** White space as the server's SplitIdentifierString sees it (scanner_isspace), nothing more. */
    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    }

    // Identifiers longer than NAMEDATALEN - 1 bytes are truncated by the server, on a character boundary.
    private static String truncate(String name) {
        byte[] b = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (b.length < NAMEDATALEN) return name;
        int end = name.length();
        while (name.substring(0, end).getBytes(java.nio.charset.StandardCharsets.UTF_8).length > NAMEDATALEN - 1) end--;
        return name.substring(0, end);
    }
}
