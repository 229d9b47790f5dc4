package dev.warden.postgres.classify;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import dev.warden.postgres.catalog.SearchPath;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What one statement does to the session's search path and role and to the transaction around it, read from
 * PostgreSQL's own grammar (never from a lexer of Warden's): {@code SET [LOCAL] search_path}, {@code SET [LOCAL] ROLE},
 * {@code SET [LOCAL] SESSION AUTHORIZATION}, their {@code RESET}, {@code RESET ALL}, {@code DISCARD ALL},
 * {@code set_config('search_path', …, is_local)}, and the transaction and savepoint commands whose end or rollback
 * restores an earlier setting. A front end follows these the way PostgreSQL's GUC stack does.
 *
 * @param kind    what the statement does
 * @param setting which setting {@code SET}, {@code SET_LOCAL}, {@code RESET}, {@code RESET_LOCAL} and {@code UNKNOWN}
 *                change ({@code null} for {@code UNKNOWN}: any of them)
 * @param path    the new path for {@code SET} and {@code SET_LOCAL} of the search path (already as schema names)
 * @param name    the savepoint name for the savepoint commands; the role's name for {@code SET} and {@code SET_LOCAL}
 *                of the role or session authorization ({@code none} for {@code SET ROLE NONE}); why, for an
 *                {@code UNKNOWN} role
 * @param chain   {@code COMMIT AND CHAIN} / {@code ROLLBACK AND CHAIN}: a new block starts at once
 * @param utility the statement is a utility command whose meaning does not depend on the search path
 */
public record PathEffect(Type kind, Setting setting, List<String> path, String name, boolean chain, boolean utility) {
    public enum Type {
        NONE, SET, SET_LOCAL, RESET, RESET_LOCAL, DISCARD_ALL,
        /** {@code DISCARD TEMP}: no setting changes, but the session's temporary objects are dropped. */
        DISCARD_TEMP,
        /** It changes the setting in a way that cannot be read from the text (computed value, conditional call). */
        UNKNOWN,
        BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK_TO, PREPARE_TRANSACTION
    }

    /** The settings followed: what unqualified names ({@code search_path}) and {@code "$user"} in it stand for. */
    public enum Setting { SEARCH_PATH, ROLE, SESSION_AUTHORIZATION }

    public static final PathEffect NONE = new PathEffect(Type.NONE, null, null, null, false, false);
    public static final PathEffect UNKNOWN = new PathEffect(Type.UNKNOWN, null, null, null, false, false);

    private static PathEffect utility(Type t) {
        return new PathEffect(t, Setting.SEARCH_PATH, null, null, false, true);
    }

    /** The role the session acts as may have changed, in a way that cannot be read ({@code why}). */
    public static PathEffect unknownRole(String why) {
        return new PathEffect(Type.UNKNOWN, Setting.ROLE, null, why, false, false);
    }

    /** Code Warden cannot see into ran ({@code why}): the path and the role may both have changed. */
    public static PathEffect opaque(String why) {
        return new PathEffect(Type.UNKNOWN, null, null, why, false, false);
    }

    /** {@code DISCARD TEMP} or {@code DISCARD ALL}: the session's temporary objects are dropped. */
    public boolean dropsTemporaryObjects() {
        return kind == Type.DISCARD_TEMP || kind == Type.DISCARD_ALL;
    }

    /** Whether it may change the role the session acts as. */
    public boolean touchesRole() {
        return kind == Type.DISCARD_ALL || (kind == Type.UNKNOWN || kind == Type.SET || kind == Type.SET_LOCAL
                || kind == Type.RESET || kind == Type.RESET_LOCAL) && setting != Setting.SEARCH_PATH;
    }

    /** The role it makes the session act as from here on, where the text alone says so ({@code SET [LOCAL] ROLE name}). */
    public String roleSet() {
        return (kind == Type.SET || kind == Type.SET_LOCAL) && setting == Setting.ROLE && !"none".equals(name) ? name : null;
    }

    /**
     * Whether a classified text can touch the path or the transaction at all: the cheap test that keeps ordinary
     * statements off the parser a second time.
     */
    /** Whether the statement calls set_config (directly, or as the prepared statement an EXECUTE runs). */
    public static boolean callsSetConfig(Statement s) {
        for (String f : s.functions()) if (f.endsWith("set_config")) return true;
        return false;
    }

    public static boolean possible(Classification c) {
        for (Statement s : c.statements()) {
            if (s.kind() == Kind.TCL || s.kind() == Kind.SESSION || s.kind() == Kind.DCL) return true;
            if (callsSetConfig(s)) return true;
        }
        return false;
    }

    // Transaction commands come back with every transaction (BEGIN, COMMIT, END…): their few texts are parsed once.
    private static final java.util.Map<String, List<PathEffect>> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

    /** The effects of a text parsed before, or {@code null}. */
    public static List<PathEffect> cached(String text) {
        return CACHE.get(text);
    }

    /** One effect per statement of the text, in order; a text Warden's parser cannot read yields one {@code UNKNOWN}. */
    public static List<PathEffect> of(String text) {
        List<PathEffect> hit = CACHE.get(text);
        if (hit != null) return hit;
        List<PathEffect> out = parse(text);
        if (text.length() <= 256) {
            if (CACHE.size() >= 1024) CACHE.clear();
            CACHE.put(text, out);
        }
        return out;
    }

    private static List<PathEffect> parse(String text) {
        Optional<SqlParser> parser = NativePgQuery.load();
        if (parser.isEmpty()) return List.of(UNKNOWN);
        SqlParser.ParseResult r;
        Node root;
        try {
            r = parser.get().parse(text);
            if (!(r instanceof SqlParser.Tree t)) return List.of(UNKNOWN);
            root = Node.parse(t.json());
        } catch (RuntimeException | StackOverflowError e) {
            return List.of(UNKNOWN);
        }
        Node stmts = root.get("stmts");
        if (stmts == null || stmts.isEmpty()) return List.of();
        List<PathEffect> out = new ArrayList<>(stmts.size());
        for (Node raw : stmts) {
            try {
                out.add(read(raw.get("stmt")));
            } catch (RuntimeException | StackOverflowError e) {
                out.add(UNKNOWN);
            }
        }
        return List.copyOf(out);
    }

    /** The effect of one statement's parse tree ({@code stmt} of a {@code RawStmt}). */
    static PathEffect statement(Node stmt) {
        try {
            return read(stmt);
        } catch (RuntimeException | StackOverflowError e) {
            return UNKNOWN;
        }
    }

    private static PathEffect read(Node stmt) {
        if (stmt == null) return UNKNOWN;
        Node set = stmt.get("VariableSetStmt");
        if (set != null) return variableSet(set);
        Node tx = stmt.get("TransactionStmt");
        if (tx != null) return transaction(tx);
        Node discard = stmt.get("DiscardStmt");
        if (discard != null) {
            return switch (String.valueOf(StatementWalker.text(discard, "target"))) {
                case "DISCARD_ALL" -> utility(Type.DISCARD_ALL);
                case "DISCARD_TEMP" -> new PathEffect(Type.DISCARD_TEMP, null, null, null, false, true);
                default -> NONE;
            };
        }
        return setConfig(stmt);
    }

    private static PathEffect variableSet(Node b) {
        String kind = StatementWalker.text(b, "kind");
        String name = StatementWalker.text(b, "name");
        boolean local = StatementWalker.bool(b, "is_local");
        // RESET ALL leaves the role and session authorization alone (GUC_NO_RESET_ALL).
        if ("VAR_RESET_ALL".equals(kind)) return utility(Type.RESET);
        Setting setting = name == null ? null : switch (name.toLowerCase(Locale.ROOT)) {
            case "search_path" -> Setting.SEARCH_PATH;
            case "role" -> Setting.ROLE;
            case "session_authorization" -> Setting.SESSION_AUTHORIZATION;
            default -> null;
        };
        if (setting == null) return NONE;
        if ("VAR_RESET".equals(kind) || "VAR_SET_DEFAULT".equals(kind)) {
            return new PathEffect(local ? Type.RESET_LOCAL : Type.RESET, setting, null, null, false, true);
        }
        if (!"VAR_SET_VALUE".equals(kind)) return setting == Setting.SEARCH_PATH ? UNKNOWN : unknownRole(null);
        if (setting != Setting.SEARCH_PATH) {
            // SET ROLE name, SET ROLE NONE, SET SESSION AUTHORIZATION name: one name, kept as the server reads it.
            Node args = b.get("args");
            String role = args != null && args.size() == 1 ? StatementWalker.constString(args.get(0)) : null;
            if (role == null) return unknownRole(null);
            return new PathEffect(local ? Type.SET_LOCAL : Type.SET, setting, null, role, false, true);
        }
        // PostgreSQL turns the items into one setting string, each quoted as an identifier (GUC_LIST_QUOTE), and
        // reads that back with its setting parser: the same round trip, through the one parser Warden has.
        List<String> items = new ArrayList<>();
        for (Node a : b.path("args")) {
            String v = StatementWalker.constString(a);
            if (v == null) return UNKNOWN;
            items.add(v);
        }
        List<String> path;
        try {
            path = List.copyOf(SearchPath.parse(SearchPath.render(items)));
        } catch (IllegalArgumentException e) {
            return UNKNOWN;
        }
        return new PathEffect(local ? Type.SET_LOCAL : Type.SET, Setting.SEARCH_PATH, path, null, false, true);
    }

    private static PathEffect transaction(Node t) {
        String kind = StatementWalker.text(t, "kind");
        boolean chain = StatementWalker.bool(t, "chain");
        String sp = StatementWalker.text(t, "savepoint_name");
        if (kind == null) return UNKNOWN;
        return switch (kind) {
            case "TRANS_STMT_BEGIN", "TRANS_STMT_START" -> utility(Type.BEGIN);
            case "TRANS_STMT_COMMIT" -> new PathEffect(Type.COMMIT, null, null, null, chain, true);
            case "TRANS_STMT_ROLLBACK" -> new PathEffect(Type.ROLLBACK, null, null, null, chain, true);
            case "TRANS_STMT_SAVEPOINT" -> new PathEffect(Type.SAVEPOINT, null, null, sp, false, true);
            case "TRANS_STMT_RELEASE" -> new PathEffect(Type.RELEASE, null, null, sp, false, true);
            case "TRANS_STMT_ROLLBACK_TO" -> new PathEffect(Type.ROLLBACK_TO, null, null, sp, false, true);
            case "TRANS_STMT_PREPARE" -> utility(Type.PREPARE_TRANSACTION);
            // COMMIT PREPARED / ROLLBACK PREPARED cannot run inside a block and leave this session's settings alone.
            default -> utility(Type.NONE);
        };
    }

    /**
     * {@code set_config}: known only in the plain form {@code SELECT set_config('search_path', 'v', true|false)}
     * (no FROM, WHERE or anything else that could run it zero or many times). Any other call that may name
     * search_path leaves the path unknown; one that may name the role or session authorization, the role.
     */
    private static PathEffect setConfig(Node stmt) {
        List<Node> calls = new ArrayList<>();
        collectSetConfig(stmt, calls, 0);
        if (calls.isEmpty()) return NONE;
        boolean mayTouchPath = false;
        boolean mayTouchRole = false;
        for (Node call : calls) {
            Node args = call.get("args");
            String setting = args != null && args.size() > 0 ? StatementWalker.constString(args.get(0)) : null;
            if (setting == null || setting.equalsIgnoreCase("search_path")) mayTouchPath = true;
            if (setting == null || setting.equalsIgnoreCase("role") || setting.equalsIgnoreCase("session_authorization")) mayTouchRole = true;
        }
        if (mayTouchRole) return mayTouchPath ? UNKNOWN : unknownRole(null);
        if (!mayTouchPath) return NONE;
        if (calls.size() != 1) return UNKNOWN;
        Node select = stmt.get("SelectStmt");
        if (select == null || !plainSelect(select)) return UNKNOWN;
        Node call = calls.getFirst();
        boolean topLevel = false;
        for (Node target : select.path("targetList")) {
            Node res = target.get("ResTarget");
            if (res != null && res.path("val").get("FuncCall") == call) topLevel = true;
        }
        if (!topLevel) return UNKNOWN;
        Node args = call.get("args");
        if (args == null || args.size() != 3) return UNKNOWN;
        String value = StatementWalker.constString(args.get(1));
        Boolean local = constBool(args.get(2));
        if (value == null || local == null) return UNKNOWN;
        List<String> path;
        try {
            path = List.copyOf(SearchPath.parse(value));
        } catch (IllegalArgumentException e) {
            return UNKNOWN;
        }
        return new PathEffect(local ? Type.SET_LOCAL : Type.SET, Setting.SEARCH_PATH, path, null, false, false);
    }

    private static boolean plainSelect(Node s) {
        for (String f : List.of("fromClause", "whereClause", "groupClause", "havingClause", "windowClause",
                "valuesLists", "sortClause", "limitOffset", "limitCount", "withClause", "distinctClause", "larg", "rarg")) {
            Node v = s.get(f);
            if (v != null && !v.isNull() && !(v.isArray() && v.isEmpty())) return false;
        }
        String op = StatementWalker.text(s, "op");
        return op == null || op.equals("SETOP_NONE");
    }

    private static void collectSetConfig(Node n, List<Node> out, int depth) {
        if (n == null || depth > 500) {
            if (n != null) throw new IllegalStateException("too deep");
            return;
        }
        if (n.isArray()) {
            for (Node c : n) collectSetConfig(c, out, depth + 1);
            return;
        }
        if (!n.isObject()) return;
        Node fc = n.get("FuncCall");
        if (fc != null) {
            List<String> names = StatementWalker.strings(fc.get("funcname"));
            if (!names.isEmpty() && names.getLast().toLowerCase(Locale.ROOT).equals("set_config")) out.add(fc);
        }
        for (int i = 0; i < n.size(); i++) collectSetConfig(n.fieldValue(i), out, depth + 1);
    }

    private static Boolean constBool(Node n) {
        if (n == null) return null;
        Node c = n.get("A_Const");
        if (c == null) {
            Node tc = n.get("TypeCast");
            return tc != null ? constBool(tc.get("arg")) : null;
        }
        Node bv = c.get("boolval");
        if (bv != null) return bv.path("boolval").asBoolean(false);
        String s = StatementWalker.constString(n);
        if (s == null) return null;
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "t", "tr", "tru", "true", "y", "ye", "yes", "on", "1" -> true;
            case "f", "fa", "fal", "fals", "false", "n", "no", "of", "off", "0" -> false;
            default -> null;
        };
    }
}
