package dev.warden.postgres.classify;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A parse tree read from libpg_query's JSON: objects keep their few fields in order in two small arrays, so reading a
 * tree costs a fraction of a general-purpose JSON tree. Only what the walker needs; missing fields read as null.
 */
final class Node implements Iterable<Node> {
    private static final Node[] NO_NODES = new Node[0];
    private static final String[] NO_KEYS = new String[0];
    static final Node MISSING = new Node(Type.MISSING, null, NO_KEYS, NO_NODES, 0);

    enum Type { OBJECT, ARRAY, STRING, NUMBER, TRUE, FALSE, NULL, MISSING }

    private final Type type;
    private final String text;
    private final String[] keys;
    private final Node[] values;
    private final int size;

    private Node(Type type, String text, String[] keys, Node[] values, int size) {
        this.type = type;
        this.text = text;
        this.keys = keys;
        this.values = values;
        this.size = size;
    }

    boolean isObject() {
        return type == Type.OBJECT;
    }

    boolean isArray() {
        return type == Type.ARRAY;
    }

    boolean isTextual() {
        return type == Type.STRING;
    }

    boolean isNull() {
        return type == Type.NULL;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** The value of an object's field, or null. */
    Node get(String field) {
        if (type != Type.OBJECT) return null;
        for (int i = 0; i < size; i++) if (keys[i].equals(field)) return values[i];
        return null;
    }

    /** An array's element, or null. */
    Node get(int index) {
        return type == Type.ARRAY && index >= 0 && index < size ? values[index] : null;
    }

    boolean has(String field) {
        return get(field) != null;
    }

    Node path(String field) {
        Node n = get(field);
        return n == null ? MISSING : n;
    }

    /** An object's i-th field name. */
    String fieldName(int i) {
        return keys[i];
    }

    /** An object's i-th field value (an array's i-th element). */
    Node fieldValue(int i) {
        return values[i];
    }

    /** The single field name of a one-field object (a wrapped node), or null. */
    String onlyField() {
        return type == Type.OBJECT && size == 1 ? keys[0] : null;
    }

    String asText() {
        return switch (type) {
            case STRING, NUMBER -> text;
            case TRUE -> "true";
            case FALSE -> "false";
            case NULL -> "null";
            default -> "";
        };
    }

    boolean asBoolean(boolean dflt) {
        return switch (type) {
            case TRUE -> true;
            case FALSE -> false;
            case NUMBER -> !text.equals("0");
            case STRING -> text.equals("true");
            default -> dflt;
        };
    }

    int asInt(int dflt) {
        return (int) asLong(dflt);
    }

    long asLong(long dflt) {
        if (type != Type.NUMBER && type != Type.STRING) return dflt;
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            try {
                return (long) Double.parseDouble(text);
            } catch (NumberFormatException e2) {
                return dflt;
            }
        }
    }

    /** Elements of an array, or values of an object. */
    @Override
    public Iterator<Node> iterator() {
        if (type != Type.ARRAY && type != Type.OBJECT) return Collections.emptyIterator();
        return new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                return i < size;
            }

            @Override
            public Node next() {
                return values[i++];
            }
        };
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        write(sb);
        return sb.toString();
    }

    private void write(StringBuilder sb) {
        switch (type) {
            case OBJECT -> {
                sb.append('{');
                for (int i = 0; i < size; i++) {
                    if (i > 0) sb.append(',');
                    sb.append('"').append(keys[i]).append("\":");
                    values[i].write(sb);
                }
                sb.append('}');
            }
            case ARRAY -> {
                sb.append('[');
                for (int i = 0; i < size; i++) {
                    if (i > 0) sb.append(',');
                    values[i].write(sb);
                }
                sb.append(']');
            }
            case STRING -> sb.append('"').append(text.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            default -> sb.append(asText());
        }
    }

    /** Reads one JSON document. Throws {@link IllegalArgumentException} on malformed input. */
    static Node parse(String json) {
        Reader r = new Reader(json);
        r.ws();
        Node n = r.value();
        r.ws();
        if (r.pos != json.length()) throw r.error("trailing characters");
        return n;
    }

    private static final class Reader {
        /** Field names repeat endlessly (relname, location, …): share one String each. */
        private static final Map<String, String> NAMES = new java.util.concurrent.ConcurrentHashMap<>();
        private final String s;
        private int pos;
        private final Map<String, String> local = new HashMap<>();

        Reader(String s) {
            this.s = s;
        }

        Node value() {
            if (pos >= s.length()) throw error("unexpected end");
            char c = s.charAt(pos);
            return switch (c) {
                case '{' -> object();
                case '[' -> array();
                case '"' -> new Node(Type.STRING, string(), NO_KEYS, NO_NODES, 0);
                case 't' -> literal("true", Type.TRUE);
                case 'f' -> literal("false", Type.FALSE);
                case 'n' -> literal("null", Type.NULL);
                default -> number();
            };
        }

        private Node object() {
            pos++;
            List<String> ks = new ArrayList<>(4);
            List<Node> vs = new ArrayList<>(4);
            ws();
            if (peek() == '}') {
                pos++;
                return new Node(Type.OBJECT, null, NO_KEYS, NO_NODES, 0);
            }
            while (true) {
                ws();
                if (peek() != '"') throw error("expected a field name");
                ks.add(name(string()));
                ws();
                if (peek() != ':') throw error("expected ':'");
                pos++;
                ws();
                vs.add(value());
                ws();
                char c = peek();
                pos++;
                if (c == '}') break;
                if (c != ',') throw error("expected ',' or '}'");
            }
            return new Node(Type.OBJECT, null, ks.toArray(NO_KEYS), vs.toArray(NO_NODES), ks.size());
        }

        private Node array() {
            pos++;
            List<Node> vs = new ArrayList<>();
            ws();
            if (peek() == ']') {
                pos++;
                return new Node(Type.ARRAY, null, NO_KEYS, NO_NODES, 0);
            }
            while (true) {
                ws();
                vs.add(value());
                ws();
                char c = peek();
                pos++;
                if (c == ']') break;
                if (c != ',') throw error("expected ',' or ']'");
            }
            return new Node(Type.ARRAY, null, NO_KEYS, vs.toArray(NO_NODES), vs.size());
        }

        private String name(String n) {
            String shared = local.get(n);
            if (shared != null) return shared;
            shared = NAMES.size() < 10_000 ? NAMES.computeIfAbsent(n, k -> k) : n;
            local.put(n, shared);
            return shared;
        }

        private String string() {
            pos++;
            int start = pos;
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == '"') {
                    String out = s.substring(start, pos);
                    pos++;
                    return out;
                }
                if (c == '\\') return escaped(start);
                pos++;
            }
            throw error("unterminated string");
        }

        private String escaped(int start) {
            StringBuilder sb = new StringBuilder(s.length() - start);
            sb.append(s, start, pos);
            while (pos < s.length()) {
                char c = s.charAt(pos++);
                if (c == '"') return sb.toString();
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (pos >= s.length()) break;
                char e = s.charAt(pos++);
                switch (e) {
                    case '"', '\\', '/' -> sb.append(e);
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'n' -> sb.append('\n');
                    case 'r' -> sb.append('\r');
                    case 't' -> sb.append('\t');
                    case 'u' -> {
                        if (pos + 4 > s.length()) throw error("bad \\u escape");
                        sb.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                        pos += 4;
                    }
                    default -> throw error("bad escape");
                }
            }
            throw error("unterminated string");
        }

        private Node literal(String word, Type t) {
            if (!s.startsWith(word, pos)) throw error("bad literal");
            pos += word.length();
            return new Node(t, null, NO_KEYS, NO_NODES, 0);
        }

        private Node number() {
            int start = pos;
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') pos++;
                else break;
            }
            if (start == pos) throw error("unexpected character '" + s.charAt(pos) + "'");
            return new Node(Type.NUMBER, s.substring(start, pos), NO_KEYS, NO_NODES, 0);
        }

        private char peek() {
            if (pos >= s.length()) throw error("unexpected end");
            return s.charAt(pos);
        }

        void ws() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\n' || c == '\r' || c == '\t') pos++;
                else break;
            }
        }

        IllegalArgumentException error(String what) {
            return new IllegalArgumentException("malformed parse tree JSON at " + pos + ": " + what);
        }
    }
}
