package dev.warden.core.ledger;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What is taken out of a statement before it is recorded. Always: password literals in role and user statements
 * (PostgreSQL {@code CREATE/ALTER ROLE|USER … PASSWORD '…'}, MySQL {@code IDENTIFIED BY '…'} and
 * {@code SET PASSWORD … = '…'}, MongoDB {@code pwd} fields). With {@code redact_literals}: every string and number
 * literal. The statement hash recorded next to the text is the hash of the exact text, so approvals still bind.
 */
public final class Redactor {
    public static final String MASK = "'[redacted]'";

    private static final Pattern ROLE_STATEMENT = Pattern.compile(
            "(?is)\\b(?:create|alter)\\s+(?:role|user|group)\\b|\\bset\\s+password\\b|\\bidentified\\b|\\bpassword\\s*\\(");
    // A quoted literal: '…' with '' escapes, E'…' with backslash escapes, or $tag$…$tag$.
    private static final String LITERAL = "(?:[eE]'(?:[^'\\\\]|\\\\.|'')*'|'(?:[^']|'')*'|\\$([A-Za-z_]*)\\$.*?\\$\\1\\$|\"(?:[^\"\\\\]|\\\\.)*\")";
    private static final Pattern PASSWORD_LITERAL = Pattern.compile(
            "(?is)(\\bset\\s+password\\b[^=;']*=\\s*(?:password\\s*\\(\\s*)?|\\b(?:encrypted\\s+|unencrypted\\s+)?password\\s*(?:=\\s*|\\(\\s*)?|\\bidentified\\s+(?:with\\s+\\S+\\s+)?(?:by|as)\\s+(?:password\\s+)?)"
                    + "(?:[eE]'(?:[^'\\\\]|\\\\.|'')*'|'(?:[^']|'')*'|\\$([A-Za-z_]*)\\$.*?\\$\\2\\$|\"(?:[^\"\\\\]|\\\\.)*\")");
    private static final Pattern MONGO_PWD = Pattern.compile("(\"pwd\"\\s*:\\s*)\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final Pattern ANY_LITERAL = Pattern.compile(
            "(?s)" + LITERAL + "|(?<![\\w.$])-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?(?![\\w$])");
    private static final Pattern JSON_VALUE = Pattern.compile("(:\\s*)(?:\"(?:[^\"\\\\]|\\\\.)*\"|-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)");

    private final boolean allLiterals;

    public Redactor(boolean allLiterals) {
        this.allLiterals = allLiterals;
    }

    public boolean allLiterals() {
        return allLiterals;
    }

    public String redact(String engine, String text) {
        if (text == null) return null;
        // Most statements carry no password: skip the regular expressions unless a keyword is there.
        if (!allLiterals && !mentionsSecret(text)) return text;
        String out = text;
        if ("mongodb".equals(engine)) {
            out = MONGO_PWD.matcher(out).replaceAll("$1\"[redacted]\"");
            if (allLiterals) out = JSON_VALUE.matcher(out).replaceAll("$1\"?\"");
            return out;
        }
        if (ROLE_STATEMENT.matcher(out).find()) {
            out = PASSWORD_LITERAL.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
        }
        if (allLiterals) out = redactLiterals(engine, out);
        return out;
    }

    /**
     * Redacts, in place, an operation as {@code ModelJson} writes it: its {@code statement}, its {@code parameters}
     * (with every literal, each one becomes {@code ?}) and the texts of its {@code classification}'s statements. What
     * leaves Warden (the ledger, webhooks) is redacted the same way.
     */
    public void redactOperation(java.util.Map<String, Object> m, String engine) {
        if (m.get("statement") instanceof String text) m.put("statement", redact(engine, text));
        if (allLiterals && m.get("parameters") instanceof java.util.List<?> params && !params.isEmpty()) {
            java.util.List<Object> masked = new java.util.ArrayList<>();
            for (Object p : params) masked.add(p == null ? null : "?");
            m.put("parameters", masked);
        }
        if (m.get("classification") instanceof java.util.Map<?, ?> c) {
            java.util.Map<String, Object> copy = new java.util.LinkedHashMap<>();
            c.forEach((k, v) -> copy.put((String) k, v));
            copy.put("statements", redactStatements(copy.get("statements"), engine));
            m.put("classification", copy);
        }
    }

    private Object redactStatements(Object statements, String engine) {
        if (!(statements instanceof java.util.List<?> list)) return statements;
        java.util.List<Object> out = new java.util.ArrayList<>();
        for (Object o : list) {
            if (o instanceof java.util.Map<?, ?> s) {
                java.util.Map<String, Object> copy = new java.util.LinkedHashMap<>();
                s.forEach((k, v) -> copy.put((String) k, v));
                if (copy.get("text") instanceof String t) copy.put("text", redact(engine, t));
                out.add(copy);
            } else {
                out.add(o);
            }
        }
        return out;
    }

    /** One pass: does the text mention "passw", "pwd" or "identified", in any case? */
    static boolean mentionsSecret(String text) {
        int n = text.length();
        for (int i = 0; i < n; i++) {
            int c = text.charAt(i) | 0x20;
            if (c == 'p') {
                if (at(text, i, "passw") || at(text, i, "pwd")) return true;
            } else if (c == 'i' && at(text, i, "identified")) {
                return true;
            }
        }
        return false;
    }

    private static boolean at(String text, int i, String word) {
        if (i + word.length() > text.length()) return false;
        for (int j = 1; j < word.length(); j++) {
            if ((text.charAt(i + j) | 0x20) != word.charAt(j)) return false;
        }
        return true;
    }

    /** Case-insensitive containment of an ASCII lower-case word, without allocating. */
    static boolean mentions(String text, String word) {
        int n = text.length() - word.length();
        char first = word.charAt(0);
        for (int i = 0; i <= n; i++) {
            if ((text.charAt(i) | 0x20) != first) continue;
            int j = 1;
            while (j < word.length() && (text.charAt(i + j) | 0x20) == word.charAt(j)) j++;
            if (j == word.length()) return true;
        }
        return false;
    }

    private static String redactLiterals(String engine, String text) {
        Matcher m = ANY_LITERAL.matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String lit = m.group();
            // In PostgreSQL "…" is an identifier, not a literal.
            boolean identifier = lit.startsWith("\"") && !"mysql".equals(engine);
            m.appendReplacement(sb, Matcher.quoteReplacement(identifier ? lit : "?"));
        }
        m.appendTail(sb);
        return sb.toString();
    }
}
