package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.Operation;
import java.util.List;
import java.util.Locale;

/**
 * SQL statements that change what later statements mean: {@code PREPARE} (what {@code EXECUTE name} runs),
 * {@code DEALLOCATE}, {@code DISCARD}. Removals take effect before the text is forwarded (the safe direction);
 * additions only once the upstream completed the statement. Such a statement must come alone in its Query message,
 * so that its success is its own; which statements they are comes from the parse (any position in the text), and a
 * name must read exactly as the server reads it (ASCII folding, 63 bytes) or the statement is refused. SQL
 * {@code FETCH}, {@code MOVE} and {@code CLOSE} share their namespace with the extended protocol's portals, which
 * are judged only at Execute: they are refused while such a portal is open. (The search path is followed by
 * {@link SearchPathTracker}.)
 */
final class SqlSessionTracking {
    private static final String STATEMENT_TIMEOUT = "statement_timeout is set by Warden for this database; agents cannot change it";

    private SqlSessionTracking() {}

    /** What a text does to session state; {@code refusal} when Warden could not keep track. */
    record Effect(String refusal, Kind kind, String name, String body, List<String> searchPath) {
        enum Kind { NONE, PREPARE, DEALLOCATE, DEALLOCATE_ALL, DISCARD_ALL }

        static final Effect NONE = new Effect(null, Kind.NONE, null, null, null);

        /** Applies the removals now; returns what to apply once the upstream completed the text, or {@code null}. */
        Runnable apply(ClientSession session) {
            return switch (kind) {
                case NONE -> null;
                case DEALLOCATE -> {
                    session.tracker().closeStatement(name);
                    yield null;
                }
                case DEALLOCATE_ALL -> {
                    session.tracker().closeAllStatements();
                    yield null;
                }
                case DISCARD_ALL -> {
                    session.tracker().closeAllStatements();
                    yield null;
                }
                case PREPARE -> {
                    Classification c = session.classifyBody(body);
                    yield () -> session.tracker().prepared(name, body, c);
                }
            };
        }
    }

    private static final java.util.Set<String> TRACKED = java.util.Set.of("PREPARE", "DEALLOCATE", "DISCARD");

    static Effect of(String sql, Classification c, StatementTracker tracker) {
        dev.warden.core.Statement own = null;
        for (dev.warden.core.Statement st : c.statements()) {
            String command = st.command() == null ? "" : st.command();
            boolean setConfig = dev.warden.postgres.classify.PathEffect.callsSetConfig(st);
            if (setConfig && mentions(st, "statement_timeout")) return refuse(STATEMENT_TIMEOUT);
            if (setConfig && command.equals("DECLARE")) {
                return refuse("a cursor over set_config would change settings at each FETCH, where Warden cannot follow them");
            }
            if ((command.equals("FETCH") || command.equals("MOVE") || command.equals("CLOSE")) && tracker.hasNamedPortals()) {
                return refuse(command + " could reach a portal of the extended protocol, which Warden judges at its Execute;"
                        + " not while such a portal is open");
            }
            if (TRACKED.contains(command)) {
                if (c.statements().size() > 1) {
                    return refuse(command + " must be sent as a statement of its own, so that Warden can track it");
                }
                own = st;
            }
        }
        Lexer lx = new Lexer(own != null ? own.text() : sql);
        lx.symbols(';');
        String first = lx.word();
        if (first == null) return Effect.NONE;
        boolean tracked = switch (first) {
            case "prepare", "deallocate", "discard", "set", "reset" -> true;
            default -> false;
        };
        if (own == null && !first.equals("set") && !first.equals("reset")) tracked = false;
        if (c.statements().size() > 1) {
            // SET may share a text with other statements (the search path is followed statement by statement); the
            // statement timeout stays Warden's wherever it appears.
            for (dev.warden.core.Statement st : c.statements()) {
                Lexer sl = new Lexer(st.text());
                if (!"set".equals(sl.word())) continue;
                String w = sl.word();
                if ("session".equals(w) || "local".equals(w)) w = sl.word();
                if ("statement_timeout".equals(w)) return refuse(STATEMENT_TIMEOUT);
            }
        }
        if (!tracked) return Effect.NONE;
        if (c.statements().size() > 1 && !first.equals("set") && !first.equals("reset")) {
            return new Effect(first.toUpperCase(Locale.ROOT) + " must be sent as a statement of its own, so that Warden can track it",
                    Effect.Kind.NONE, null, null, null);
        }
        return switch (first) {
            case "prepare" -> prepare(lx, lx.s, tracker);
            case "deallocate" -> {
                String w = lx.peekWord();
                if ("prepare".equals(w)) lx.word();
                String name = lx.identifier();
                if (name == null || !lx.atStatementEnd()) yield refuse("cannot read the name in DEALLOCATE as the server would");
                if (name.equals("all") && !lx.lastWasQuoted) yield new Effect(null, Effect.Kind.DEALLOCATE_ALL, null, null, null);
                yield new Effect(null, Effect.Kind.DEALLOCATE, name, null, null);
            }
            case "discard" -> {
                String w = lx.word();
                if ("all".equals(w) || "plans".equals(w)) yield new Effect(null, Effect.Kind.DISCARD_ALL, null, null, null);
                yield Effect.NONE;
            }
            case "set" -> {
                String w = lx.word();
                if ("session".equals(w) || "local".equals(w)) w = lx.word();
                yield "statement_timeout".equals(w) ? refuse(STATEMENT_TIMEOUT) : Effect.NONE;
            }
            default -> Effect.NONE;
        };
    }

    private static Effect prepare(Lexer lx, String sql, StatementTracker tracker) {
        String name = lx.identifier();
        if (name == null) return refuse("cannot read the name in PREPARE as the server would");
        // Redefining a name Warden holds is an error upstream; if the upstream no longer held it, Warden would judge
        // EXECUTE by the old text: never forwarded.
        if (tracker.statement(name) != null) return refuse("prepared statement \"" + name + "\" already exists");
        if (lx.symbol('(')) {
            int depth = 1;
            while (depth > 0) {
                int ch = lx.next();
                if (ch < 0) return refuse("cannot read the PREPARE statement");
                if (ch == '(') depth++;
                else if (ch == ')') depth--;
            }
        }
        if (!"as".equals(lx.word())) return refuse("cannot read the PREPARE statement");
        String body = sql.substring(lx.pos).strip();
        while (body.endsWith(";")) body = body.substring(0, body.length() - 1).strip();
        if (body.isEmpty()) return refuse("PREPARE without a statement");
        return new Effect(null, Effect.Kind.PREPARE, name, body, null);
    }

    /** Whether the statement's text or (for EXECUTE, its prepared statement's) reasons name {@code word}. */
    private static boolean mentions(dev.warden.core.Statement st, String word) {
        if (st.text().toLowerCase(Locale.ROOT).contains(word)) return true;
        for (String r : st.reasons()) if (r.contains(word)) return true;
        return false;
    }

    private static Effect refuse(String why) {
        return new Effect(why, Effect.Kind.NONE, null, null, null);
    }

    /** Just enough of PostgreSQL's lexical rules: whitespace, both comment styles, identifiers, quoted identifiers. */
    static final class Lexer {
        final String s;
        int pos;
        boolean lastWasQuoted;

        Lexer(String s) {
            this.s = s;
        }

        void skip() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (Character.isWhitespace(c)) pos++;
                else if (s.startsWith("--", pos)) {
                    while (pos < s.length() && s.charAt(pos) != '\n') pos++;
                } else if (s.startsWith("/*", pos)) {
                    int depth = 0;
                    do {
                        if (s.startsWith("/*", pos)) {
                            depth++;
                            pos += 2;
                        } else if (s.startsWith("*/", pos)) {
                            depth--;
                            pos += 2;
                        } else pos++;
                    } while (depth > 0 && pos < s.length());
                } else break;
            }
        }

        boolean atEnd() {
            skip();
            return pos >= s.length();
        }

        int next() {
            return pos < s.length() ? s.charAt(pos++) : -1;
        }

        boolean symbol(char c) {
            skip();
            if (pos < s.length() && s.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        /** Skips any number of {@code c} (and the space and comments around them). */
        void symbols(char c) {
            while (symbol(c)) { }
        }

        /** Nothing but space, comments and semicolons left. */
        boolean atStatementEnd() {
            symbols(';');
            return atEnd();
        }

        /** An unquoted word, lower-cased, or {@code null}. */
        String word() {
            skip();
            int st = pos;
            while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_' || s.charAt(pos) == '$')) pos++;
            return pos == st ? null : s.substring(st, pos).toLowerCase(Locale.ROOT);
        }

        String peekWord() {
            int save = pos;
            String w = word();
            pos = save;
            return w;
        }

        /**
         * An identifier as the server reads it: a word folded to lower case (ASCII only; a non-ASCII letter's
         * folding depends on the server's encoding and locale, so such a word is not read) or a double-quoted name
         * kept as written, either cut to 63 bytes as the server cuts it; {@code null} when it cannot be read so,
         * such as a Unicode-escaped name ({@code U&"…"}).
         */
        String identifier() {
            String id = rawIdentifier();
            if (id == null) return null;
            byte[] utf8 = id.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            if (utf8.length <= 63) return id;
            int end = 63;
            while (end > 0 && (utf8[end] & 0xC0) == 0x80) end--; // not inside a character
            return new String(utf8, 0, end, java.nio.charset.StandardCharsets.UTF_8);
        }

        private String rawIdentifier() {
            skip();
            lastWasQuoted = false;
            if (pos + 1 < s.length() && (s.charAt(pos) == 'u' || s.charAt(pos) == 'U') && s.charAt(pos + 1) == '&') return null;
            if (pos < s.length() && s.charAt(pos) == '"') {
                StringBuilder b = new StringBuilder();
                pos++;
                while (pos < s.length()) {
                    char c = s.charAt(pos++);
                    if (c == '"') {
                        if (pos < s.length() && s.charAt(pos) == '"') {
                            b.append('"');
                            pos++;
                        } else {
                            lastWasQuoted = true;
                            return b.toString();
                        }
                    } else b.append(c);
                }
                return null;
            }
            int st = pos;
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c >= 0x80) return null;
                if (!(Character.isLetterOrDigit(c) || c == '_' || c == '$')) break;
                pos++;
            }
            if (pos == st || Character.isDigit(s.charAt(st)) || s.charAt(st) == '$') return null;
            return s.substring(st, pos).toLowerCase(Locale.ROOT);
        }
    }

    static Operation bodyOperation(Operation parent, String body) {
        return new Operation(parent.agent(), parent.database(), parent.engine(), body, List.of(), null,
                parent.sessionId(), parent.clientAddress(), parent.time());
    }
}
