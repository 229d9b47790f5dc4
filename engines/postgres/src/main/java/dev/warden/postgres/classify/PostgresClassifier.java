package dev.warden.postgres.classify;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import dev.warden.core.engine.Classifier;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.catalog.AnyRole;
import dev.warden.postgres.catalog.BuiltinCatalog;
import dev.warden.postgres.catalog.SchemaInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Classifies PostgreSQL text with PostgreSQL's own grammar: the parser splits the statements (never a search for
 * {@code ;}), and {@link StatementWalker} walks each parse tree by node name. Results are cached by exact text and
 * search path (bounded LRU), and dropped when the schema source's generation changes.
 */
public final class PostgresClassifier implements Classifier {
    public static final int DEFAULT_CACHE_SIZE = 10_000;

    private final SqlParser parser;
    private final String parserProblem;
    private final SchemaInfo schema;
    private final Cache cache;
    /** The schema source is a database's catalog, not only the offline table of PostgreSQL's own objects. */
    private final boolean catalogued;

    public PostgresClassifier(SqlParser parser, SchemaInfo schema, int cacheSize) {
        this.parser = parser;
        this.parserProblem = parser == null ? NativePgQuery.loadError().orElse(NativePgQuery.INSTALL_HINT) : null;
        this.schema = Objects.requireNonNull(schema);
        this.cache = cacheSize > 0 ? new Cache(cacheSize) : null;
        this.catalogued = schema != BuiltinCatalog.INSTANCE;
    }

    /** The native parser, with the given second carrier after it (or none), over the given schema source. */
    public static PostgresClassifier create(SchemaInfo schema, Supplier<? extends SqlParser> second) {
        SqlParser first = NativePgQuery.load().orElse(null);
        SqlParser p = first == null ? null : second == null ? first : new FallbackParser(first, second);
        return new PostgresClassifier(p, schema, DEFAULT_CACHE_SIZE);
    }

    /** The native parser alone over the offline table of built-ins. */
    public static PostgresClassifier offline() {
        return create(BuiltinCatalog.INSTANCE, null);
    }

    public SchemaInfo schema() {
        return schema;
    }

    @Override
    public Classification classify(String text, ClassifyContext context) {
        ClassifyContext ctx = context == null ? ClassifyContext.defaults() : context;
        // A session's doubt is its own: what is judged under it is not what the text means for anyone else.
        if (cache == null || doubted(ctx)) return classifyUncached(text, ctx).classification;
        long gen = schema.generation();
        Key key = key(text, ctx, false);
        Classification hit = cache.get(key, gen);
        if (hit != null) return hit;
        Key shapeKey = shapeKey(text, ctx);
        hit = shapeHit(text, shapeKey, gen);
        if (hit != null) return hit;
        Result r = classifyUncached(text, ctx);
        if (!r.unseen.isEmpty() && schema.reloadIfMade(r.unseen)) {
            // The relation may have been made since the catalog was read (outside Warden): as a view that calls a
            // writer, or with triggers. Judged again on what the catalog says now.
            gen = schema.generation();
            r = classifyUncached(text, ctx);
        }
        // Not kept while a relation is still unseen: once it exists, the text means something else, and the
        // catalog's generation does not change until it is read again.
        if (!r.contextDependent && r.unseen.isEmpty()) {
            cache.put(key, r.classification, gen);
            if (shapeKey != null && r.literalFree && r.classification.statements().size() == 1
                    && r.classification.statements().getFirst().text().equals(statementText(text))) {
                cache.put(shapeKey, r.classification, gen);
            }
        }
        return r.classification;
    }

    @Override
    public Optional<Classification> cached(String text, ClassifyContext context) {
        // A schema source that must reload first would make even a cache lookup wait (its generation reads it).
        if (cache == null || !schema.fresh()) return Optional.empty();
        ClassifyContext ctx = context == null ? ClassifyContext.defaults() : context;
        if (doubted(ctx)) return Optional.empty();
        long gen = schema.generation();
        Classification hit = cache.get(key(text, ctx, false), gen);
        return Optional.ofNullable(hit != null ? hit : shapeHit(text, shapeKey(text, ctx), gen));
    }

    /**
     * Whether a session's {@link ClassifyContext#schemaDoubt()} may apply, or its {@link ClassifyContext#roleUnknown()}
     * (what a name resolves to may then depend on the role): only where a live catalog is the source (the offline table never knew the
     * database's own objects, so nothing it says became less true). Such a text's classification is the session's
     * own, not cached for others.
     */
    private boolean doubted(ClassifyContext ctx) {
        return catalogued && (ctx.schemaDoubt() != null || ctx.roleUnknown() != null);
    }

    /**
     * Texts that differ only in constants (pgbench, ORMs that inline values) share one classification when the parse
     * tree proves it cannot depend on them: keyed by the text with its constants blanked ({@link ShapeKey}).
     */
    private Key shapeKey(String text, ClassifyContext ctx) {
        String shape = shapeCandidate(text) ? ShapeKey.of(text) : null;
        return shape == null ? null : key(shape, ctx, true);
    }

    /** A text's key: its meaning depends on the search path and on the role the session acts as. */
    private static Key key(String text, ClassifyContext ctx, boolean normalized) {
        return new Key(text, ctx.searchPath(), ctx.role(), normalized);
    }

    private Classification shapeHit(String text, Key shapeKey, long gen) {
        if (shapeKey == null) return null;
        Classification shape = cache.get(shapeKey, gen);
        if (shape == null) return null;
        shapeHits.increment();
        return withText(shape, statementText(text));
    }

    private final java.util.concurrent.atomic.LongAdder shapeHits = new java.util.concurrent.atomic.LongAdder();

    /** How many classifications came from the shape cache (for tests). */
    long shapeHits() {
        return shapeHits.sum();
    }

    /**
     * Worth a shape key: the native parser is the one in use (a shape is stored only when it parsed the text), and
     * the text is not long ({@link ShapeKey} itself refuses what it cannot lex with certainty).
     */
    private boolean shapeCandidate(String text) {
        boolean nativeFirst = parser instanceof NativePgQuery
                || parser instanceof FallbackParser f && f.first() instanceof NativePgQuery;
        return nativeFirst && text.length() <= 8192;
    }

    /** The text of a text's only statement as the walker slices it: without edge whitespace and one final ';'. */
    static String statementText(String text) {
        String t = text.strip();
        if (t.endsWith(";")) t = t.substring(0, t.length() - 1).strip();
        return t;
    }

    private static Classification withText(Classification shape, String text) {
        Statement s = shape.statements().getFirst();
        return Classification.of(List.of(new Statement(s.kind(), text, s.command(), s.objects(), s.functions(),
                s.flags(), s.reasons(), s.unproven(), s.kindIfProven())));
    }

    /**
     * Node types whose classification never looks at a constant's value: plain reads and writes of relations and
     * columns with operators, and the SQL-standard value functions without arguments ({@code CURRENT_TIMESTAMP},
     * {@code CURRENT_USER}: keywords, kept in the shape; a precision such as {@code CURRENT_TIME(3)} changes nothing
     * judged). Anything else (function calls such as {@code nextval('…')}, {@code set_config('role', …)}
     * or {@code dblink_exec(…, '…')}, casts such as {@code '…'::regclass}, SET, utility statements, parameters)
     * keeps the exact-text key.
     */
    private static final java.util.Set<String> LITERAL_FREE = java.util.Set.of("SelectStmt", "InsertStmt",
            "UpdateStmt", "DeleteStmt", "ResTarget", "ColumnRef", "String", "Integer", "Float", "Boolean", "A_Const",
            "A_Star", "A_Expr", "BoolExpr", "NullTest", "BooleanTest", "RangeVar", "Alias", "SortBy", "List",
            "JoinExpr", "SubLink", "SQLValueFunction");

    /** True when every node in the tree is of a {@link #LITERAL_FREE} type. */
    static boolean literalFree(Node n) {
        if (n.isArray()) {
            for (Node c : n) if (!literalFree(c)) return false;
            return true;
        }
        if (!n.isObject()) return true;
        for (int i = 0; i < n.size(); i++) {
            String k = n.fieldName(i);
            if (!k.isEmpty() && Character.isUpperCase(k.charAt(0)) && !LITERAL_FREE.contains(k)) return false;
            if (!literalFree(n.fieldValue(i))) return false;
        }
        return true;
    }

    /**
     * The statements a text prepares with SQL-level {@code PREPARE}, by name, each classified as its body: what a
     * front end records in its session so that a later {@code EXECUTE name} is judged as what it runs.
     */
    public Map<String, Classification> prepared(String text, ClassifyContext context) {
        ClassifyContext ctx = context == null ? ClassifyContext.defaults() : context;
        return classifyUncached(text, ctx).preparedHere;
    }

    private record Result(Classification classification, boolean contextDependent, Map<String, Classification> preparedHere,
                          boolean literalFree, java.util.Set<String> unseen) {
        Result(Classification classification, boolean contextDependent, Map<String, Classification> preparedHere) {
            this(classification, contextDependent, preparedHere, false, java.util.Set.of());
        }
    }

    private Result classifyUncached(String text, ClassifyContext ctx) {
        if (DeepStack.needed(text)) {
            if (text.length() > DeepStack.MAX_TEXT) {
                return new Result(Classification.unknown(text, "the text is longer than " + DeepStack.MAX_TEXT
                        + " characters: too large to classify"), false, Map.of());
            }
            return DeepStack.call(() -> classifyInline(text, ctx));
        }
        return classifyInline(text, ctx);
    }

    private Result classifyInline(String text, ClassifyContext ctx) {
        if (parser == null) {
            return new Result(Classification.unknown(text, "cannot classify: " + parserProblem), false, Map.of());
        }
        SqlParser.ParseResult parsed;
        try {
            parsed = parser.parse(text);
        } catch (RuntimeException e) {
            return new Result(Classification.unknown(text, "cannot classify: the parser failed: " + e.getMessage()), false, Map.of());
        }
        if (parsed instanceof SqlParser.SyntaxError err) {
            return new Result(Classification.unknown(text, syntaxReason(text, err)), false, Map.of());
        }
        SqlParser.Tree tree = (SqlParser.Tree) parsed;
        Node root;
        try {
            // Deep trees come only from long texts, which run on a large stack (DeepStack).
            root = Node.parse(tree.json());
        } catch (Exception | StackOverflowError e) {
            return new Result(Classification.unknown(text, "cannot classify: unreadable parse tree: " + e.getMessage()), false, Map.of());
        }
        Node stmts = root.get("stmts");
        if (stmts == null || stmts.isEmpty()) {
            Statement empty = new Statement(Kind.TCL, text, "", List.of(), List.of(), java.util.Set.of(),
                    List.of("the text holds no statement: nothing runs"));
            return new Result(Classification.of(List.of(empty)), false, Map.of());
        }
        // One source for the whole text: a catalog that loads or is lost meanwhile must not answer half of it.
        SchemaInfo view = schema.pin();
        StatementWalker.TextState state = new StatementWalker.TextState(ctx.searchPath(), ctx.prepared());
        state.schemaDoubt = catalogued ? ctx.schemaDoubt() : null;
        ByteOffsets offsets = new ByteOffsets(text);
        List<Statement> out = new ArrayList<>(stmts.size());
        // The role "$user" stands for: known (null: the catalog's user), or why not, as this text goes on.
        String role = ctx.role();
        String roleUnknown = ctx.roleUnknown();
        for (Node raw : stmts) {
            int loc = raw.path("stmt_location").asInt(0);
            int len = raw.path("stmt_len").asInt(0);
            String stmtText = offsets.slice(loc, len);
            // The catalog was read before any of the text ran: after a statement that may change the schema it is not
            // what the next one runs on (a view renamed into a table's place, a trigger just created).
            SchemaInfo source;
            AnyRole anyRole = null;
            if (state.schemaDoubt != null) source = SchemaInfo.doubted(state.schemaDoubt, view.reach());
            else if (!catalogued) source = view;
            else if (roleUnknown != null) source = anyRole = new AnyRole(view);
            else if ((anyRole = AnyRole.actingAs(view, role)) != null) source = anyRole;
            else source = view;
            List<String> pathBefore = state.searchPath;
            boolean pathUnknownBefore = state.searchPathUnknown;
            Facts f = walk(source, state, raw);
            if (anyRole != null && anyRole.dependsOnRole()) {
                // A name the path resolves differs by role: judged as while the catalog cannot be trusted.
                state.searchPath = pathBefore;
                state.searchPathUnknown = pathUnknownBefore;
                state.schemaDoubt = anyRole.dependsOnPrivileges() ? privilegeDoubt(role, roleUnknown) : roleDoubt(roleUnknown);
                source = SchemaInfo.doubted(state.schemaDoubt, view.reach());
                f = walk(source, state, raw);
                state.schemaDoubt = null;
            }
            if (!tree.grammar().equals(NativePgQuery.GRAMMAR)) f.reason("parsed with the " + tree.grammar() + " grammar");
            IndirectAccess.expand(f, source.reach());
            ImplicitCalls.add(f, source);
            Statement st = f.toStatement(stmtText);
            out.add(st);
            if (st.kind() == Kind.UNKNOWN && state.unseenCode == null) state.unseenCode = st.brief();
            // An event trigger's function may move the path or the role, as unseen code may; the server cannot be
            // asked between statements of one text. Offline (no database configured) there is none to tell.
            if (state.unseenCode == null && catalogued && view.eventTriggers() && EventTriggers.mayFire(st)) {
                state.unseenCode = st.brief() + ", which may fire an event trigger";
            }
            PathEffect effect = st.kind() == Kind.DCL || st.kind() == Kind.SESSION || PathEffect.callsSetConfig(st)
                    ? PathEffect.statement(raw.get("stmt")) : PathEffect.NONE;
            if (effect.touchesRole()) {
                // SET [LOCAL] ROLE name is followed; anything else (RESET, NONE, set_config) is left to the session.
                role = effect.roleSet();
                roleUnknown = role != null ? null : st.brief() + ", earlier in this text; send it separately";
            }
            if (state.schemaDoubt == null && catalogued && st.mayChangeSchema()) {
                state.schemaDoubt = "an earlier statement of this text may change the schema (" + st.brief()
                        + "): Warden's catalog was read before the text ran, so what depends on the database's own"
                        + " objects after it is not proven; send it separately";
            }
        }
        boolean free;
        try {
            free = out.size() == 1 && tree.grammar().equals(NativePgQuery.GRAMMAR) && literalFree(stmts);
        } catch (StackOverflowError e) {
            free = false;
        }
        return new Result(Classification.of(out), state.contextDependent, Map.copyOf(state.preparedHere), free,
                java.util.Set.copyOf(state.unseen));
    }

    /** One statement's facts, walked over {@code source}. */
    private static Facts walk(SchemaInfo source, StatementWalker.TextState state, Node raw) {
        try {
            return new StatementWalker(source, state).statement(raw.get("stmt"));
        } catch (RuntimeException e) {
            Facts f = new Facts(Kind.UNKNOWN);
            f.opaque("cannot classify: " + e);
            return f;
        } catch (StackOverflowError e) {
            Facts f = new Facts(Kind.UNKNOWN);
            f.opaque("cannot classify: the statement nests too deeply");
            return f;
        }
    }

    /**
     * Why a name the search path resolves is not proven while the role the session acts as is not known ({@code why}:
     * a statement whose effect on it cannot be read): {@code "$user"} in the path stands for that role's schema, and
     * in the schemas it may be, the name resolves differently.
     */
    static String privilegeDoubt(String role, String unknown) {
        return "the session acts as " + (role != null ? "role " + role : "a role Warden cannot tell (" + unknown + ")")
                + ", whose schema privileges Warden does not read, and more than one schema of its search path could"
                + " be where this name resolves (PostgreSQL skips a schema the role may not use); name the schema, or"
                + " RESET ROLE";
    }

    public static String roleDoubt(String why) {
        return "Warden cannot tell which role the session acts as (" + why + "), and \"$user\" in its search path"
                + " stands for that role's schema, where this name would resolve differently; name the schema, run"
                + " SET ROLE (or RESET ROLE) outside a transaction block, or SET search_path to a list without \"$user\"";
    }

    private static String syntaxReason(String text, SqlParser.SyntaxError err) {
        StringBuilder sb = new StringBuilder("PostgreSQL's grammar rejects the text: ").append(err.message());
        if (err.position() >= 0) {
            sb.append(" at position ").append(err.position());
            int end = Math.min(text.length(), err.position() + 20);
            if (err.position() < text.length()) {
                sb.append(" (\"").append(text, err.position(), end).append(end < text.length() ? "…" : "").append("\")");
            }
        }
        return sb.toString();
    }

    /** Maps libpg_query's UTF-8 byte offsets to string indexes; the identity for ASCII text. */
    private static final class ByteOffsets {
        private final String text;
        private final boolean ascii;

        ByteOffsets(String text) {
            this.text = text;
            boolean a = true;
            for (int i = 0; i < text.length() && a; i++) a = text.charAt(i) < 0x80;
            this.ascii = a;
        }

        String slice(int byteLoc, int byteLen) {
            int from = ascii ? byteLoc : NativePgQuery.charOffset(text, byteLoc);
            int to = byteLen == 0 ? text.length() : ascii ? byteLoc + byteLen : NativePgQuery.charOffset(text, byteLoc + byteLen);
            from = Math.min(Math.max(0, from), text.length());
            to = Math.min(Math.max(from, to), text.length());
            return text.substring(from, to).strip();
        }
    }

    /** {@code normalized}: the text is PostgreSQL's normalized form, a separate key space from exact texts. */
    private record Key(String text, List<String> searchPath, String role, boolean normalized) {}

    /** A bounded LRU of classifications, emptied when the schema generation moves on. */
    private static final class Cache {
        private final LinkedHashMap<Key, Classification> map;
        private long generation;

        Cache(int max) {
            this.map = new LinkedHashMap<>(Math.min(max, 1024), 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<Key, Classification> e) {
                    return size() > max;
                }
            };
        }

        synchronized Classification get(Key k, long gen) {
            if (gen != generation) {
                map.clear();
                generation = gen;
                return null;
            }
            return map.get(k);
        }

        synchronized void put(Key k, Classification c, long gen) {
            if (gen != generation) return;
            map.put(k, c);
        }
    }
}
