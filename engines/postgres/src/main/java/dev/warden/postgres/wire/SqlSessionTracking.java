package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.Operation;
import java.util.List;
import java.util.Locale;

/**
 * SQL statements that change what later statements mean: {@code PREPARE} (what {@code EXECUTE name} runs),
 * {@code DEALLOCATE}, {@code DISCARD}. Removals take effect before the text is forwarded (the safe direction);
 * additions only once the upstream completed the statement. Such a statement must come alone in its Query message,
 * so that its success is its own. (The search path is followed by {@link SearchPathTracker}.)
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

    static Effect of(String sql, Classification c) {
        Lexer lx = new Lexer(sql);
        String first = lx.word();
        if (first == null) return Effect.NONE;
        boolean tracked = switch (first) {
            case "prepare", "deallocate", "discard", "set", "reset" -> true;
            default -> false;
        };
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
            case "prepare" -> prepare(lx, sql);
            case "deallocate" -> {
                String w = lx.peekWord();
                if ("prepare".equals(w)) lx.word();
                String name = lx.identifier();
                if (name == null) yield refuse("DEALLOCATE without a name");
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

    private static Effect prepare(Lexer lx, String sql) {
        String name = lx.identifier();
        if (name == null) return refuse("cannot read the PREPARE statement's name");
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

        /** An identifier: a word (folded to lower case) or a double-quoted name (kept as written). */
        String identifier() {
            skip();
            lastWasQuoted = false;
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
            return word();
        }
    }

    static Operation bodyOperation(Operation parent, String body) {
        return new Operation(parent.agent(), parent.database(), parent.engine(), body, List.of(), null,
                parent.sessionId(), parent.clientAddress(), parent.time());
    }
}
