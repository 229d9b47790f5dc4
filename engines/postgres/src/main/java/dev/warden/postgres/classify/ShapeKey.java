package dev.warden.postgres.classify;

/**
 * A text with the values of its constants blanked out: the key under which texts that differ only in constants (as
 * pgbench and ORMs that inline values send them) share one cached classification. The cache stores a shape only
 * when the parse tree proves its classification cannot depend on constant values ({@code literalFree}), so the key
 * must promise one thing: two texts with the same key have the same tokens except inside numeric and string
 * constants. Hence the lexer keeps every other character verbatim and gives no key at all (null) where it is not
 * sure where a token ends: backslashes (escape strings, {@code standard_conforming_strings}), dollar signs
 * (parameters, dollar quoting), comments, non-ASCII characters outside quotes (identifier letters), NUL, an
 * unterminated quote.
 * Cheaper than PostgreSQL's own normalization, which parses the text.
 */
final class ShapeKey {
    /** Stands for one constant; never part of a text that gets a key. */
    private static final char CONSTANT = '\0';

    private ShapeKey() {}

    static String of(String text) {
        int n = text.length();
        StringBuilder key = new StringBuilder(n);
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            // '&': U&"…" UESCAPE '…' — the blanked escape character decides which name the identifier spells.
            if (c >= 0x80 || c == 0 || c == '\\' || c == '$' || c == '&') return null;
            if ((c == '-' || c == '/') && i + 1 < n && text.charAt(i + 1) == (c == '-' ? '-' : '*')) return null;
            int end;
            if (identifierStart(c)) {
                end = i + 1;
                while (end < n && identifierPart(text.charAt(end))) end++;
                key.append(text, i, end);
            } else if (digit(c)) {
                end = number(text, i);
                key.append(CONSTANT);
            } else if (c == '\'' || c == '"') {
                end = quoted(text, i, c);
                if (end < 0) return null;
                if (c == '\'') key.append(CONSTANT);
                else key.append(text, i, end);
            } else {
                end = i + 1;
                key.append(c);
            }
            i = end;
        }
        return key.toString();
    }

    private static boolean identifierStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    }

    private static boolean identifierPart(char c) {
        return identifierStart(c) || digit(c);
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    /** PostgreSQL's integer, decimal and real: {@code 12}, {@code 1.5}, {@code 1.}, {@code 1e-3}. */
    private static int number(String t, int i) {
        int n = t.length();
        while (i < n && digit(t.charAt(i))) i++;
        if (i < n && t.charAt(i) == '.') {
            i++;
            while (i < n && digit(t.charAt(i))) i++;
        }
        if (i < n && (t.charAt(i) == 'e' || t.charAt(i) == 'E')) {
            int j = i + 1;
            if (j < n && (t.charAt(j) == '+' || t.charAt(j) == '-')) j++;
            if (j < n && digit(t.charAt(j))) {
                while (j < n && digit(t.charAt(j))) j++;
                i = j;
            }
        }
        return i;
    }

    /**
     * The end of a quoted string or identifier (a doubled quote is part of it), or -1 when it is not closed or holds
     * a backslash, dollar or NUL.
     */
    private static int quoted(String t, int i, char q) {
        int n = t.length();
        int j = i + 1;
        while (j < n) {
            char c = t.charAt(j);
            if (c == '\\' || c == '$' || c == 0) return -1;
            if (c == q) {
                if (j + 1 < n && t.charAt(j + 1) == q) {
                    j += 2;
                    continue;
                }
                return j + 1;
            }
            j++;
        }
        return -1;
    }
}
