package dev.warden.postgres.classify;

import dev.warden.core.Access;
import dev.warden.core.Classification;
import dev.warden.core.Flag;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import dev.warden.postgres.catalog.BuiltinCatalog;
import dev.warden.postgres.catalog.ImplicitCode;
import dev.warden.postgres.catalog.SearchPath;
import dev.warden.postgres.catalog.SchemaInfo;
import dev.warden.postgres.catalog.SchemaInfo.FunctionInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Walks one statement of a libpg_query JSON parse tree by node name and collects what it does. Nodes it does not
 * know are walked through field by field, so a function call, a relation or a data-modifying statement is found at
 * any depth; only the fields whose meaning decides access (FROM items, targets, WITH, options) are read by name.
 */
final class StatementWalker {
    /** Per-text state shared by the statements of one text: search path and prepared statements seen so far. */
    static final class TextState {
        List<String> searchPath;
        boolean searchPathUnknown;
        /**
         * An earlier statement of this text runs code the classifier cannot see into (its brief), or null: that code
         * may have changed the search path and role, so names after it are not proven.
         */
        String unseenCode;
        final Map<String, Classification> prepared;
        final Map<String, Classification> preparedHere = new java.util.HashMap<>();
        /** True when the result depends on session state beyond text and search path (EXECUTE of a session PREPARE). */
        boolean contextDependent;
        /**
         * Why the live catalog cannot be trusted for the statement being walked (the session's, or an earlier statement
         * of this text changed the schema), or null; the walker is then given the offline table with this reason.
         */
        String schemaDoubt;
        /**
         * Names of relations read or written (not a DDL statement's target) that the live catalog does not have: they
         * may have been made since the catalog was read (outside Warden), as views or with triggers.
         */
        final java.util.Set<String> unseen = new java.util.HashSet<>();

        TextState(List<String> searchPath, Map<String, Classification> prepared) {
            this.searchPath = searchPath;
            this.prepared = prepared;
        }
    }

    private final SchemaInfo schema;
    private final TextState state;
    private final List<String> path;
    /** Set while the live catalog is unavailable: what the offline table cannot answer for certain is not proven. */
    private final OfflineDoubts offline;
    private Facts facts;
    /** Access for relations met outside FROM clauses (DDL targets, LOCK/TRUNCATE lists). */
    /** Unqualified relations the live catalog does not have (new, misspelt, or the session's temporary ones). */
    private int unseenRelations;
    private Access defaultAccess = Access.READ;
    private int dmlDepth;

    StatementWalker(SchemaInfo schema, TextState state) {
        this.schema = schema;
        this.state = state;
        this.path = state.searchPath;
        this.offline = schema.unavailable().map(why -> new OfflineDoubts(why, path, state.schemaDoubt != null)).orElse(null);
    }

    // ---- entry --------------------------------------------------------------------------------------------------

    Facts statement(Node stmt) {
        facts = new Facts(Kind.READ);
        String type = nodeType(stmt);
        if (type == null) {
            facts.opaque("the parse tree holds no statement node");
            return facts;
        }
        boolean pathUnknown = state.searchPathUnknown;
        String unseenCode = state.unseenCode;
        top(type, stmt.get(type));
        if (pathUnknown) {
            facts.opaque("an earlier statement changed the search path to a value the classifier cannot know");
        }
        if (unseenCode != null && !type.equals("TransactionStmt")) {
            facts.opaque("an earlier statement of this text runs code Warden cannot see into (" + unseenCode + "), which"
                    + " may change the search path and role this one resolves names with; send it separately");
        }
        return facts;
    }

    private void top(String type, Node b) {
        facts.command = command(type);
        temporaryType(type, b);
        if (type.equals("AlterDatabaseSetStmt") || type.equals("AlterRoleSetStmt")) {
            // A default for new sessions: one that changes how text is read makes them read it unlike Warden.
            Node set = unwrap(b.get("setstmt"), "VariableSetStmt");
            String name = set == null ? null : text(set, "name");
            if (name != null && LEXING_SETTINGS.contains(name.toLowerCase(Locale.ROOT))) {
                facts.opaque(facts.command + " sets a default for " + name + " that makes the server read later"
                        + " statements differently from Warden's parser");
            }
        }
        switch (type) {
            case "SelectStmt" -> {
                facts.command = b.has("intoClause") ? "SELECT INTO" : (b.has("valuesLists") && !b.has("targetList") ? "VALUES" : "SELECT");
                select(b, null);
            }
            case "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt" -> dml(type, b, null);
            case "ExplainStmt" -> explain(b);
            case "CopyStmt" -> copy(b);
            case "DeclareCursorStmt" -> {
                facts.command = "DECLARE";
                walk(b.get("query"), null);
            }
            case "FetchStmt" -> facts.command = bool(b, "ismove") ? "MOVE" : "FETCH";
            case "ClosePortalStmt" -> facts.command = "CLOSE";
            case "VariableShowStmt" -> facts.command = "SHOW";
            case "TransactionStmt" -> transaction(b);
            case "VariableSetStmt" -> set(b);
            case "DiscardStmt" -> facts.raise(Kind.SESSION, "DISCARD changes session state");
            case "ListenStmt", "UnlistenStmt", "NotifyStmt" -> facts.raise(Kind.SESSION, facts.command + " uses the notification channels");
            case "PrepareStmt" -> prepare(b);
            case "ExecuteStmt" -> execute(b);
            case "DeallocateStmt" -> {
                String name = text(b, "name");
                if (name == null) state.preparedHere.clear();
                else state.preparedHere.remove(name);
                facts.raise(Kind.SESSION, "DEALLOCATE drops a prepared statement");
            }
            case "ConstraintsSetStmt" -> facts.raise(Kind.SESSION, "SET CONSTRAINTS changes when constraints are checked");
            case "DoStmt" -> {
                facts.flag(Flag.SERVER_SIDE_CODE);
                facts.opaque("DO runs a code block the classifier cannot see into");
            }
            case "CallStmt" -> {
                facts.flag(Flag.SERVER_SIDE_CODE);
                Node fc = b.get("funccall");
                if (fc != null) {
                    Node f = unwrap(fc, "FuncCall");
                    List<String> names = strings(f.get("funcname"));
                    facts.functions.add(qualifiedFunction(names, size(f.get("args"))));
                    walk(f.get("args"), null);
                }
                facts.opaque("CALL runs a procedure the classifier cannot see into");
            }
            case "LoadStmt" -> {
                facts.flag(Flag.SERVER_SIDE_CODE);
                facts.flag(Flag.FILE_ACCESS);
                facts.opaque("LOAD loads a shared library into the server");
            }
            case "CheckPointStmt", "VacuumStmt", "ClusterStmt", "ReindexStmt" -> {
                facts.command = switch (type) {
                    case "VacuumStmt" -> bool(b, "is_vacuumcmd") ? "VACUUM" : "ANALYZE";
                    case "CheckPointStmt" -> "CHECKPOINT";
                    case "ClusterStmt" -> "CLUSTER";
                    default -> "REINDEX";
                };
                facts.raise(Kind.ADMIN, facts.command + " is server maintenance");
                defaultAccess = Access.WRITE;
                walkFields(b, null);
            }
            case "LockStmt" -> {
                facts.flag(Flag.LOCKS);
                facts.raise(Kind.WRITE, "LOCK takes table locks");
                defaultAccess = Access.WRITE;
                walkFields(b, null);
            }
            case "TruncateStmt" -> {
                facts.flag(Flag.DESTRUCTIVE);
                facts.raise(Kind.WRITE, "TRUNCATE removes every row");
                defaultAccess = Access.WRITE;
                walkFields(b, null);
            }
            case "RefreshMatViewStmt" -> {
                facts.raise(Kind.WRITE, "REFRESH MATERIALIZED VIEW rewrites the view's data");
                defaultAccess = Access.WRITE;
                walkFields(b, null);
            }
            case "CreateTableAsStmt" -> {
                boolean matview = "OBJECT_MATVIEW".equals(text(b, "objtype"));
                facts.command = matview ? "CREATE MATERIALIZED VIEW" : "CREATE TABLE AS";
                into(b.get("into"));
                walk(b.get("query"), null);
            }
            case "ViewStmt" -> {
                ddl(b, facts.command);
                Node view = unwrap(b.get("view"), "RangeVar");
                int unseenBefore = unseenRelations;
                walkFields(b, null);
                String name = view == null ? "" : text(view, "relname");
                if (view != null && ("t".equals(text(view, "relpersistence")) || temporarySchema(text(view, "schemaname")))) {
                    facts.opaque("creates the temporary view " + name + ": for the rest of the session it is searched"
                            + " before every schema, where Warden's catalog does not see it, so later statements naming "
                            + name + " would be judged as reading another relation");
                } else if (unseenRelations > unseenBefore + (view != null && text(view, "schemaname") == null
                        && schema.live() && schema.relation(path, null, name).isEmpty() ? 1 : 0)) {
                    // PostgreSQL makes a view over a temporary relation temporary itself, whatever the text says.
                    facts.opaque("creates the view " + name + " over a relation the catalog does not know (a temporary"
                            + " one makes the view temporary, searched before every schema and unseen by Warden)");
                }
            }
            case "CreateStmt" -> {
                Node rel = unwrap(b.get("relation"), "RangeVar");
                if (rel != null && "t".equals(text(rel, "relpersistence"))) {
                    facts.raise(Kind.SESSION, "creates a temporary table");
                    defaultAccess = Access.DDL;
                } else {
                    ddl(b, "CREATE TABLE");
                }
                walkFields(b, null);
            }
            case "DropStmt" -> drop(b);
            case "GrantStmt", "GrantRoleStmt", "CreateRoleStmt", "AlterRoleStmt", "AlterRoleSetStmt", "DropRoleStmt",
                 "AlterDefaultPrivilegesStmt", "ReassignOwnedStmt", "DropOwnedStmt", "CreateUserMappingStmt",
                 "AlterUserMappingStmt", "DropUserMappingStmt", "CreatePolicyStmt", "AlterPolicyStmt" -> {
                facts.flag(Flag.PRIVILEGE);
                if (type.startsWith("Drop")) facts.flag(Flag.DESTRUCTIVE);
                if (type.equals("GrantStmt")) facts.command = bool(b, "is_grant") ? "GRANT" : "REVOKE";
                if (type.equals("GrantRoleStmt")) facts.command = bool(b, "is_grant") ? "GRANT ROLE" : "REVOKE ROLE";
                facts.raise(Kind.DCL, facts.command + " changes privileges");
                defaultAccess = Access.DDL;
                walkFields(b, null);
            }
            case "AlterSystemStmt" -> {
                facts.raise(Kind.ADMIN, "ALTER SYSTEM changes the server configuration");
            }
            case "CreateTableSpaceStmt", "DropTableSpaceStmt", "AlterTableSpaceOptionsStmt" -> {
                facts.flag(Flag.FILE_ACCESS);
                if (type.startsWith("Drop")) facts.flag(Flag.DESTRUCTIVE);
                facts.raise(Kind.ADMIN, "tablespaces are server directories");
            }
            case "CreateSubscriptionStmt", "AlterSubscriptionStmt", "DropSubscriptionStmt" -> {
                if (type.startsWith("Drop")) facts.flag(Flag.DESTRUCTIVE);
                facts.raise(Kind.ADMIN, "subscriptions connect to other servers");
            }
            case "CreateFunctionStmt", "CreateExtensionStmt", "AlterExtensionStmt", "CreateTrigStmt",
                 "CreateEventTrigStmt", "RuleStmt", "CreatePLangStmt", "CreateTransformStmt" -> {
                facts.flag(Flag.SERVER_SIDE_CODE);
                if (type.equals("CreateTrigStmt") || type.equals("CreateEventTrigStmt")) {
                    // Attaching a function names it: a rule on the function matches the statement that attaches it,
                    // not only the writes that run it later.
                    facts.functions.add(qualifiedFunction(strings(b.get("funcname")), 0));
                }
                ddl(b, facts.command);
                walkFields(b, null);
            }
            case "AlterOwnerStmt" -> {
                facts.flag(Flag.PRIVILEGE);
                ddl(b, "ALTER OWNER");
                walkFields(b, null);
            }
            case "AlterTableStmt" -> {
                for (Node cmd : iter(b.get("cmds"))) {
                    Node c = unwrap(cmd, "AlterTableCmd");
                    String sub = text(c, "subtype");
                    if (sub != null && (sub.startsWith("AT_Drop") || sub.equals("AT_AlterColumnType"))) {
                        facts.flag(Flag.DESTRUCTIVE);
                    }
                    if ("AT_ChangeOwner".equals(sub) || "AT_DisableTrig".equals(sub) || "AT_DisableTrigAll".equals(sub) || "AT_DisableTrigUser".equals(sub)
                            || "AT_DisableRowSecurity".equals(sub) || "AT_NoForceRowSecurity".equals(sub)) {
                        facts.flag(Flag.PRIVILEGE);
                    }
                }
                ddl(b, "ALTER " + objectWord(text(b, "objtype"), "TABLE"));
                walkFields(b, null);
            }
            default -> {
                if (type.startsWith("Create") || type.startsWith("Alter") || type.startsWith("Drop")
                        || type.startsWith("Define") || type.startsWith("Rename") || type.startsWith("Comment")
                        || type.equals("IndexStmt") || type.equals("ViewStmt") || type.equals("CompositeTypeStmt")
                        || type.equals("SecLabelStmt") || type.equals("ImportForeignSchemaStmt")
                        || type.equals("CreatedbStmt") || type.equals("DropdbStmt")) {
                    if (type.startsWith("Drop")) facts.flag(Flag.DESTRUCTIVE);
                    ddl(b, facts.command);
                    walkFields(b, null);
                } else {
                    facts.opaque("unrecognised statement " + type + ": not positively labelled");
                    walkFields(b, null);
                }
            }
        }
    }

    /**
     * A type or domain made in the session's temporary schema: PostgreSQL searches that schema for type names before
     * every other, pg_catalog included, so for the rest of the session a cast to {@code text} or a column of type
     * {@code text} may be the temporary domain of that name, with its CHECK, where Warden's catalog (which never sees
     * temporary objects) says PostgreSQL's own. Like a temporary view, not positively labelled; named as an object in
     * the temporary schema, so that a session that runs it anyway is judged without the catalog from then on.
     */
    private void temporaryType(String type, Node b) {
        List<String> names = switch (type) {
            case "CreateDomainStmt" -> strings(b.get("domainname"));
            case "CreateEnumStmt", "CreateRangeStmt" -> strings(b.get("typeName"));
            case "DefineStmt" -> "OBJECT_TYPE".equals(text(b, "kind")) ? strings(b.get("defnames")) : List.of();
            case "CompositeTypeStmt" -> {
                Node rv = unwrap(b.get("typevar"), "RangeVar");
                String sch = rv == null ? null : text(rv, "schemaname");
                yield sch == null ? List.of() : List.of(sch, text(rv, "relname"));
            }
            default -> List.of();
        };
        if (names.size() < 2 || !temporarySchema(names.get(names.size() - 2))) return;
        String name = names.getLast();
        facts.object("pg_temp." + name, Access.DDL);
        facts.opaque("creates the temporary type " + name + ": for the rest of the session it is searched before every"
                + " schema, pg_catalog included, where Warden's catalog does not see it, so later casts and columns of"
                + " type " + name + " would be judged as another type");
    }

    private void ddl(Node b, String what) {
        facts.raise(Kind.DDL, what + " changes the schema");
        defaultAccess = Access.DDL;
    }

    // ---- queries ------------------------------------------------------------------------------------------------

    private void select(Node s, Scope outer) {
        Scope scope = new Scope(outer);
        with(s.get("withClause"), scope);
        String op = text(s, "op");
        if (op != null && !op.equals("SETOP_NONE")) {
            // The operands are printed without their node name (SelectStmt* fields).
            if (s.get("larg") != null) select(unwrap(s.get("larg"), "SelectStmt"), scope);
            if (s.get("rarg") != null) select(unwrap(s.get("rarg"), "SelectStmt"), scope);
        }
        for (Node item : iter(s.get("fromClause"))) from(item, scope);
        if (s.has("intoClause")) into(s.get("intoClause"));
        for (String f : List.of("targetList", "whereClause", "groupClause", "havingClause", "windowClause",
                "sortClause", "distinctClause", "limitOffset", "limitCount", "valuesLists")) {
            walk(s.get(f), scope);
        }
        if (s.has("lockingClause")) lock(s.get("lockingClause"), scope);
    }

    private void with(Node withClause, Scope scope) {
        if (withClause == null) return;
        Node w = unwrap(withClause, "WithClause");
        boolean recursive = bool(w, "recursive");
        List<Node> ctes = new ArrayList<>();
        for (Node c : iter(w.get("ctes"))) ctes.add(unwrap(c, "CommonTableExpr"));
        if (recursive) for (Node c : ctes) scope.ctes.add(text(c, "ctename"));
        for (Node c : ctes) {
            // A non-recursive CTE sees only the ones before it: its own name there is the real table.
            walk(c.get("ctequery"), scope);
            scope.ctes.add(text(c, "ctename"));
        }
    }

    private void from(Node item, Scope scope) {
        String type = nodeType(item);
        if (type == null) {
            walk(item, scope);
            return;
        }
        Node b = item.get(type);
        switch (type) {
            case "RangeVar" -> {
                String relname = text(b, "relname");
                String alias = aliasName(b);
                if (!b.has("schemaname") && scope.isCte(relname)) {
                    scope.derived(alias != null ? alias : relname);
                    return;
                }
                String q = relation(b);
                facts.object(q, Access.READ);
                readOf(q);
                scope.add(alias != null ? alias : relname, q);
                columnAliases(b, alias, q, scope);
                if (alias == null && b.has("schemaname")) scope.aliases.put(text(b, "schemaname") + "." + relname, q);
            }
            case "JoinExpr" -> {
                int before = scope.objects.size();
                from(b.get("larg"), scope);
                from(b.get("rarg"), scope);
                if (b.has("alias")) scope.joins.put(aliasName(b), List.copyOf(scope.objects.subList(before, scope.objects.size())));
                if (!aliasColumns(b).isEmpty()) {
                    // (a JOIN b) AS j(x, y): the visible names stand for the join's columns by position, through
                    // USING and NATURAL merges; every column of its members counts as read.
                    for (String o : scope.objects.subList(before, scope.objects.size())) {
                        facts.object(o, Access.READ).addAll(allColumns(o));
                    }
                }
                walk(b.get("quals"), scope);
                if (b.has("usingClause") || bool(b, "isNatural")) operator(null, "="); // JOIN … USING, NATURAL JOIN
                if (b.has("alias")) scope.derived(aliasName(b));
            }
            case "RangeSubselect" -> {
                walk(b.get("subquery"), scope);
                scope.derived(aliasName(b));
            }
            case "RangeFunction" -> {
                walk(b.get("functions"), scope);
                walk(b.get("coldeflist"), scope); // json_to_record(…) AS x(a d): values are made of those types
                scope.derived(aliasName(b));
            }
            case "RangeTableSample" -> {
                from(b.get("relation"), scope);
                List<String> method = strings(b.get("method"));
                String m = method.isEmpty() ? "" : method.get(method.size() - 1);
                if (!(method.size() == 1 && (m.equals("system") || m.equals("bernoulli")))) {
                    String q = String.join(".", method);
                    facts.functions.add(q);
                    facts.unproven.add(q);
                    facts.lead("table sample method " + q + " is not a built-in proven to be read-only");
                }
                walk(b.get("args"), scope);
                walk(b.get("repeatable"), scope);
            }
            default -> {
                walk(item, scope);
                scope.derived(b.has("alias") ? aliasName(b) : null);
            }
        }
    }

    /**
     * {@code FROM t AS x(a, b)}: a and b name t's first two columns, whatever t calls them. Where t's columns are not
     * known, every column counts as read, since which one a visible name stands for is not known.
     */
    private void columnAliases(Node rangeVar, String alias, String q, Scope scope) {
        List<String> visible = aliasColumns(rangeVar);
        if (visible.isEmpty()) return;
        Optional<List<String>> real = schema.columns(q);
        if (real.isEmpty()) {
            facts.object(q, Access.READ).addAll(allColumns(q));
            return;
        }
        Map<String, String> renamed = new HashMap<>();
        for (int i = 0; i < Math.min(visible.size(), real.get().size()); i++) renamed.put(visible.get(i), real.get().get(i));
        scope.rename(alias, q, renamed);
    }

    private void into(Node intoClause) {
        if (intoClause == null) return;
        Node into = unwrap(intoClause, "IntoClause");
        Node rel = unwrap(into.get("rel"), "RangeVar");
        if (rel == null) return;
        String q = relation(rel);
        if ("t".equals(text(rel, "relpersistence"))) {
            facts.raise(Kind.SESSION, "creates the temporary table " + q + " from a query");
        } else {
            facts.raise(Kind.DDL, "creates the table " + q + " from a query");
        }
        facts.object(q, Access.DDL);
    }

    private void lock(Node clauses, Scope scope) {
        facts.flag(Flag.LOCKS);
        facts.raise(Kind.WRITE, "SELECT … FOR UPDATE/SHARE locks rows");
        for (Node c : iter(clauses)) {
            Node lc = unwrap(c, "LockingClause");
            Node rels = lc.get("lockedRels");
            if (rels == null || rels.isEmpty()) {
                for (String o : scope.objects) {
                    facts.object(o, Access.WRITE);
                    facts.writes(o, 0);
                }
                continue;
            }
            for (Node r : iter(rels)) {
                Node rv = unwrap(r, "RangeVar");
                String name = text(rv, "relname");
                String q = scope.alias(name);
                if (q == null) q = relation(rv);
                if (!q.equals(Scope.DERIVED)) {
                    facts.object(q, Access.WRITE);
                    facts.writes(q, 0);
                }
            }
        }
    }

    // ---- data-modifying statements ------------------------------------------------------------------------------

    private void dml(String type, Node b, Scope outer) {
        Scope scope = new Scope(outer);
        with(b.get("withClause"), scope);
        Node rel = unwrap(b.get("relation"), "RangeVar");
        String q = rel == null ? null : relation(rel);
        String verb = switch (type) {
            case "InsertStmt" -> "INSERT";
            case "UpdateStmt" -> "UPDATE";
            case "DeleteStmt" -> "DELETE";
            default -> "MERGE";
        };
        facts.raise(Kind.WRITE);
        if (dmlDepth > 0 || outer != null || !facts.command.equals(verb)) {
            facts.reason("a data-modifying " + verb + (q == null ? "" : " of " + q) + " is inside the statement");
        }
        dmlDepth++;
        try {
            if (q == null) {
                walkFields(b, scope);
                return;
            }
            java.util.Set<String> written = facts.object(q, Access.WRITE);
            facts.writes(q, switch (type) {
                case "InsertStmt" -> ImplicitCode.INSERT | (onConflictUpdate(b) ? ImplicitCode.UPDATE : 0);
                case "UpdateStmt" -> ImplicitCode.UPDATE;
                case "DeleteStmt" -> ImplicitCode.DELETE;
                default -> ImplicitCode.ROW_CHANGES;
            });
            String alias = aliasName(rel);
            scope.aliases.put(alias != null ? alias : text(rel, "relname"), q);
            switch (type) {
                case "InsertStmt" -> {
                    List<String> cols = new ArrayList<>();
                    for (Node c : iter(b.get("cols"))) cols.add(text(unwrap(c, "ResTarget"), "name"));
                    if (cols.isEmpty()) written.addAll(allColumns(q));
                    else written.addAll(cols);
                    Scope source = new Scope(scope);
                    walk(b.get("selectStmt"), source);
                    Node oc = b.get("onConflictClause");
                    if (oc != null) {
                        oc = unwrap(oc, "OnConflictClause");
                        Scope target = targetScope(scope, q);
                        target.aliases.put("excluded", q);
                        for (Node t : iter(oc.get("targetList"))) target(t, written, target);
                        walk(oc.get("whereClause"), target);
                        walk(oc.get("infer"), target);
                    }
                    walk(b.get("returningList"), targetScope(scope, q));
                }
                case "UpdateStmt" -> {
                    for (Node item : iter(b.get("fromClause"))) from(item, scope);
                    Scope target = targetScope(scope, q);
                    for (Node t : iter(b.get("targetList"))) target(t, written, target);
                    where(b, target, "UPDATE");
                    walk(b.get("returningList"), target);
                }
                case "DeleteStmt" -> {
                    for (Node item : iter(b.get("usingClause"))) from(item, scope);
                    Scope target = targetScope(scope, q);
                    where(b, target, "DELETE");
                    walk(b.get("returningList"), target);
                }
                default -> {
                    Node src = b.get("sourceRelation");
                    if (src != null) from(src, scope);
                    Scope target = targetScope(scope, q);
                    walk(b.get("joinCondition"), target);
                    for (Node w : iter(b.get("mergeWhenClauses"))) {
                        Node mw = unwrap(w, "MergeWhenClause");
                        String cmd = text(mw, "commandType");
                        if ("CMD_DELETE".equals(cmd)) facts.reason("MERGE deletes rows of " + q);
                        if ("CMD_INSERT".equals(cmd) && !mw.has("targetList")) written.addAll(allColumns(q));
                        for (Node t : iter(mw.get("targetList"))) target(t, written, target);
                        walk(mw.get("values"), target);
                        walk(mw.get("condition"), target);
                    }
                }
            }
        } finally {
            dmlDepth--;
        }
    }

    private static boolean onConflictUpdate(Node insert) {
        Node oc = unwrap(insert.get("onConflictClause"), "OnConflictClause");
        return oc != null && "ONCONFLICT_UPDATE".equals(text(oc, "action"));
    }

    /** A scope in which the DML target's own columns resolve (WHERE, SET values, RETURNING). */
    private Scope targetScope(Scope scope, String q) {
        Scope t = new Scope(scope);
        t.objects.add(q);
        for (String o : scope.objects) if (!t.objects.contains(o)) t.objects.add(o);
        t.hasDerived = scope.hasDerived;
        return t;
    }

    private void target(Node t, java.util.Set<String> written, Scope scope) {
        Node rt = unwrap(t, "ResTarget");
        String name = text(rt, "name");
        if (name != null) written.add(name);
        walk(rt.get("val"), scope);
        walk(rt.get("indirection"), scope);
    }

    private void where(Node b, Scope scope, String verb) {
        Node w = b.get("whereClause");
        if (w == null) {
            facts.flag(Flag.DESTRUCTIVE);
            facts.reason(verb + " without WHERE affects every row");
        } else if (!refersToRows(w)) {
            facts.flag(Flag.DESTRUCTIVE);
            facts.reason(verb + " with a WHERE clause that does not depend on the row affects every row");
        }
        walk(w, scope);
    }

    /** True when the expression mentions a column, a subquery, a cursor or a parameter. */
    private static boolean refersToRows(Node n) {
        if (n == null) return false;
        if (n.isObject()) {
            if (n.has("ColumnRef") || n.has("SubLink") || n.has("CurrentOfExpr") || n.has("ParamRef")) return true;
            for (Node v : n) if (refersToRows(v)) return true;
        } else if (n.isArray()) {
            for (Node e : n) if (refersToRows(e)) return true;
        }
        return false;
    }

    // ---- utility statements -------------------------------------------------------------------------------------

    private void explain(Node b) {
        boolean analyze = false;
        for (Node o : iter(b.get("options"))) {
            Node d = unwrap(o, "DefElem");
            if ("analyze".equals(text(d, "defname")) && !explicitlyFalse(d.get("arg"))) analyze = true;
        }
        Facts outer = facts;
        facts = new Facts(Kind.READ);
        String innerType = nodeType(b.get("query"));
        if (innerType != null) {
            StatementWalker inner = new StatementWalker(schema, state);
            inner.facts = facts;
            inner.top(innerType, b.get("query").get(innerType));
        }
        Facts in = facts;
        facts = outer;
        if (analyze) {
            facts.merge(in);
            facts.command = "EXPLAIN ANALYZE";
            if (in.kind != Kind.READ && in.kind != Kind.TCL) facts.reason("EXPLAIN ANALYZE runs the statement: " + in.command);
            return;
        }
        facts.command = "EXPLAIN";
        // Without ANALYZE nothing runs, but the planner may evaluate functions: keep their effects and doubts.
        for (ObjectAccess o : in.objectList()) facts.object(o.name(), Access.READ).addAll(o.columns());
        facts.functions.addAll(in.functions);
        facts.unproven.addAll(in.unproven);
        for (FunctionRules.Effect e : in.effects) applyEffect(e, e.name());
        ImplicitCalls.planned(facts, schema, in);
        if (in.opaque && in.effects.isEmpty()) facts.opaque("EXPLAIN of a statement that could not be labelled: " + String.join("; ", in.reasons));
        for (String r : in.reasons) if (r.startsWith("function ") || r.startsWith("operator ")) facts.lead(r);
        if (facts.kind == Kind.TCL) facts.kind = Kind.READ;
    }

    /** EXPLAIN option values that PostgreSQL reads as false; anything else (none, true, on, 1, junk) counts as true. */
    private static boolean explicitlyFalse(Node arg) {
        if (arg == null) return false;
        String type = nodeType(arg);
        if (type == null) return false;
        Node v = arg.get(type);
        return switch (type) {
            case "Integer" -> !v.has("ival") || v.get("ival").asLong(0) == 0;
            case "String" -> {
                String s = str(arg).toLowerCase(Locale.ROOT);
                yield s.equals("false") || s.equals("off");
            }
            case "Boolean" -> !v.path("boolval").asBoolean(false);
            default -> false;
        };
    }

    /** SELECT * FROM v, where v calls a writer: the read runs the writer. */
    private void readOf(String q) {
        if (!schema.readRunsUserCode(q)) return;
        facts.unproven.add("relation " + q);
        facts.lead("reading " + q + " runs user code: a view, rule or row-level security policy on it calls"
                + " a function or operator that is not a built-in proven to be read-only");
    }

    private void copy(Node b) {
        boolean from = bool(b, "is_from");
        boolean program = bool(b, "is_program");
        String file = text(b, "filename");
        facts.command = from ? "COPY FROM" : "COPY TO";
        Node rel = unwrap(b.get("relation"), "RangeVar");
        if (rel != null) {
            String q = relation(rel);
            List<String> cols = new ArrayList<>();
            for (Node c : iter(b.get("attlist"))) cols.add(str(c));
            Set<String> set = facts.object(q, from ? Access.WRITE : Access.READ);
            set.addAll(cols.isEmpty() ? allColumns(q) : cols);
            if (from) {
                facts.raise(Kind.WRITE, "COPY FROM loads rows into " + q);
                facts.writes(q, ImplicitCode.INSERT);
            } else {
                readOf(q); // row-level security policies apply to COPY TO as to SELECT
            }
            Scope s = new Scope(null);
            s.add(text(rel, "relname"), q);
            walk(b.get("whereClause"), s);
        }
        if (b.has("query")) walk(b.get("query"), null);
        walk(b.get("options"), null);
        if (program) {
            facts.flag(Flag.FILE_ACCESS);
            facts.flag(Flag.SERVER_SIDE_CODE);
            facts.opaque("COPY … PROGRAM runs a shell command on the database server: " + (file == null ? "" : file));
        } else if (file != null) {
            facts.flag(Flag.FILE_ACCESS);
            facts.raise(Kind.ADMIN, "COPY " + (from ? "FROM" : "TO") + " a server file: " + file);
        }
    }

    private void transaction(Node b) {
        String kind = text(b, "kind");
        if (kind == null) kind = "TRANS_STMT_BEGIN";
        switch (kind) {
            case "TRANS_STMT_PREPARE", "TRANS_STMT_COMMIT_PREPARED", "TRANS_STMT_ROLLBACK_PREPARED" -> {
                facts.command = switch (kind) {
                    case "TRANS_STMT_PREPARE" -> "PREPARE TRANSACTION";
                    case "TRANS_STMT_COMMIT_PREPARED" -> "COMMIT PREPARED";
                    default -> "ROLLBACK PREPARED";
                };
                facts.raise(Kind.ADMIN, facts.command + " manages two-phase transactions that outlive the session");
            }
            default -> {
                facts.kind = Kind.TCL;
                facts.command = switch (kind) {
                    case "TRANS_STMT_BEGIN" -> "BEGIN";
                    case "TRANS_STMT_START" -> "START TRANSACTION";
                    case "TRANS_STMT_COMMIT" -> "COMMIT";
                    case "TRANS_STMT_ROLLBACK" -> "ROLLBACK";
                    case "TRANS_STMT_SAVEPOINT" -> "SAVEPOINT";
                    case "TRANS_STMT_RELEASE" -> "RELEASE";
                    case "TRANS_STMT_ROLLBACK_TO" -> "ROLLBACK TO SAVEPOINT";
                    default -> kind;
                };
            }
        }
    }

    private static final Set<String> PRIVILEGE_SETTINGS = Set.of("role", "session_authorization",
            "session_replication_role", "default_transaction_read_only", "transaction_read_only", "row_security");

    private void set(Node b) {
        String kind = text(b, "kind");
        String name = text(b, "name");
        boolean reset = kind != null && kind.startsWith("VAR_RESET");
        facts.command = reset ? "RESET" : "SET";
        if (name == null) {
            facts.raise(Kind.SESSION, "RESET ALL resets session settings");
            // The search path too: later statements of the same text resolve names under the default again.
            state.searchPath = dev.warden.core.engine.ClassifyContext.DEFAULT_SEARCH_PATH;
            state.searchPathUnknown = false;
            return;
        }
        String lname = name.toLowerCase(Locale.ROOT);
        if (lname.equals("transaction") || lname.equals("transaction snapshot")) {
            facts.kind = Kind.TCL;
            facts.command = "SET TRANSACTION";
            return;
        }
        if (lname.equals("session characteristics")) {
            facts.command = "SET SESSION CHARACTERISTICS";
            facts.raise(Kind.SESSION, "changes the session's default transaction mode");
            return;
        }
        if (PRIVILEGE_SETTINGS.contains(lname)) {
            facts.flag(Flag.PRIVILEGE);
            facts.command = (reset ? "RESET " : "SET ") + lname.replace('_', ' ').toUpperCase(Locale.ROOT);
            if (lname.equals("role") || lname.equals("session_authorization") || lname.equals("session_replication_role")) {
                facts.raise(Kind.DCL, facts.command + " changes the identity or privileges the session acts with");
            } else {
                facts.raise(Kind.SESSION, facts.command + " changes a safety setting of the session");
            }
            return;
        }
        facts.raise(Kind.SESSION, (reset ? "RESET " : "SET ") + name + " changes a session setting");
        if (LEXING_SETTINGS.contains(lname) && !reset && !"VAR_SET_DEFAULT".equals(kind)) {
            String v = null;
            Node args = b.get("args");
            if (args != null && args.size() == 1) v = constString(args.get(0));
            lexingSetting(lname, v);
        }
        if (lname.equals("search_path")) {
            if (reset || "VAR_SET_DEFAULT".equals(kind)) {
                state.searchPath = dev.warden.core.engine.ClassifyContext.DEFAULT_SEARCH_PATH;
                state.searchPathUnknown = false;
            } else if ("VAR_SET_VALUE".equals(kind)) {
                List<String> p = new ArrayList<>();
                for (Node a : iter(b.get("args"))) {
                    String v = constString(a);
                    if (v == null) {
                        state.searchPathUnknown = true;
                        return;
                    }
                    p.add(v);
                }
                state.searchPath = List.copyOf(p);
                state.searchPathUnknown = false;
                facts.reason("later statements resolve names through search_path " + p);
            } else {
                state.searchPathUnknown = true;
            }
        }
    }

    /** Settings that change how the server reads the bytes of later texts (string escapes, client encoding). */
    private static final Set<String> LEXING_SETTINGS = Set.of("standard_conforming_strings", "client_encoding",
            "backslash_quote");
    /** Client encodings whose characters never hide an ASCII quote or backslash in a later byte. */
    // Warden reads the wire's text as UTF-8: in any other client encoding a non-ASCII name would reach the server as
    // one thing and Warden as another (U+FFFD), so only these keep both readings the same.
    private static final Set<String> SAFE_ENCODINGS = Set.of("utf8", "unicode", "sql_ascii");

    /**
     * A value that makes the server read strings differently from the grammar Warden parses with (standard
     * conforming strings on, an ASCII-safe encoding) would let the next text mean one thing to Warden and another to
     * the server: such a change cannot be labelled.
     */
    private void lexingSetting(String setting, String value) {
        String v = value == null ? null : value.toLowerCase(Locale.ROOT).replace("-", "_");
        boolean safe = switch (setting) {
            case "standard_conforming_strings" -> v != null && (v.equals("on") || v.equals("true") || v.equals("1") || v.equals("yes"));
            case "client_encoding" -> v != null && SAFE_ENCODINGS.contains(v.replace("_", "").equals("utf8") ? "utf8" : v);
            default -> v != null && (v.equals("off") || v.equals("false") || v.equals("safe_encoding"));
        };
        if (!safe) facts.opaque(setting + " = " + value + " makes the server read later statements differently from Warden's parser");
    }

    private void prepare(Node b) {
        String name = text(b, "name");
        facts.command = "PREPARE";
        Node q = b.get("query");
        String type = nodeType(q);
        StatementWalker inner = new StatementWalker(schema, state);
        inner.facts = new Facts(Kind.READ);
        if (type != null) inner.top(type, q.get(type));
        // EXECUTE makes each parameter a value of its declared type.
        for (Node t : iter(b.get("argtypes"))) inner.typeName(unwrap(t, "TypeName"), "a parameter of " + name);
        Statement body = inner.facts.toStatement("");
        state.preparedHere.put(name, Classification.of(List.of(body)));
        facts.raise(Kind.SESSION, "prepares " + name + " as a " + body.kind().label() + " statement ("
                + body.command() + "); EXECUTE " + name + " is judged as that");
    }

    private void execute(Node b) {
        String name = text(b, "name");
        facts.command = "EXECUTE";
        Classification c = state.preparedHere.get(name);
        if (c == null && state.prepared != null) {
            c = state.prepared.get(name);
            state.contextDependent = true;
        }
        walk(b.get("params"), null);
        if (c == null) {
            facts.opaque("EXECUTE " + name + ": no statement of that name was prepared where Warden saw it");
            return;
        }
        for (Statement s : c.statements()) {
            facts.raise(s.kind() == Kind.UNKNOWN && !s.unproven().isEmpty() ? s.kindIfProven() : s.kind());
            if (s.kind() == Kind.UNKNOWN && s.unproven().isEmpty()) facts.opaque = true;
            for (ObjectAccess o : s.objects()) facts.object(o.name(), o.access()).addAll(o.columns());
            facts.functions.addAll(s.functions());
            facts.flags.addAll(s.flags());
            facts.unproven.addAll(s.unproven());
            for (String r : s.reasons()) {
                if (s.kind() == Kind.UNKNOWN) facts.lead(r);
                else facts.reason(r);
            }
        }
        facts.reason("EXECUTE " + name + " runs the prepared " + c.kind().label() + " statement");
        boolean dependsOnTheSchema = c.statements().stream().anyMatch(s -> !s.objects().isEmpty() || !s.functions().isEmpty());
        if (state.schemaDoubt != null && dependsOnTheSchema) {
            // It was classified on the catalog before the change; the server analyses it again after one.
            facts.opaque(state.schemaDoubt);
            facts.lead("EXECUTE " + name + " runs a statement prepared before the schema changed");
        }
    }

    private void drop(Node b) {
        String type = text(b, "removeType");
        facts.flag(Flag.DESTRUCTIVE);
        facts.command = "DROP " + objectWord(type, "OBJECT");
        facts.raise(Kind.DDL, facts.command + " removes objects");
        defaultAccess = Access.DDL;
        boolean relationLike = type != null && Set.of("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_INDEX",
                "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE").contains(type);
        for (Node o : iter(b.get("objects"))) {
            if (relationLike) {
                List<String> names = strings(listItems(o));
                if (names.isEmpty()) continue;
                String rel = names.get(names.size() - 1);
                String sch = names.size() >= 2 ? names.get(names.size() - 2) : null;
                resolvingDdlTarget = true;
                try {
                    facts.object(offlineRelation(schema.relation(path, sch, rel).orElseGet(() -> firstSchema() + "." + rel), sch != null), Access.DDL);
                } finally {
                    resolvingDdlTarget = false;
                }
            } else if ("OBJECT_SCHEMA".equals(type) || "OBJECT_DATABASE".equals(type)) {
                String n = str(o);
                if (n != null) facts.object(n, Access.DDL);
            } else if ("OBJECT_FUNCTION".equals(type) || "OBJECT_PROCEDURE".equals(type) || "OBJECT_ROUTINE".equals(type)) {
                Node owa = unwrap(o, "ObjectWithArgs");
                List<String> names = strings(owa.get("objname"));
                if (!names.isEmpty()) facts.object(names.size() >= 2 ? String.join(".", names) : firstSchema() + "." + names.get(0), Access.DDL);
            }
        }
    }

    // ---- expressions --------------------------------------------------------------------------------------------

    private void walk(Node n, Scope scope) {
        if (n == null) return;
        if (n.isArray()) {
            for (Node e : n) walk(e, scope);
            return;
        }
        if (!n.isObject()) return;
        String type = nodeType(n);
        if (type == null) {
            if (n.has("relname")) {
                // A RangeVar printed without its node name (a field typed RangeVar* outside a FROM clause).
                facts.object(defaultAccess == Access.DDL ? ddlTarget(n) : relation(n), defaultAccess);
            }
            walkFields(n, scope);
            return;
        }
        Node b = n.get(type);
        switch (type) {
            case "SelectStmt" -> select(b, scope);
            case "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt" -> dml(type, b, scope);
            case "FuncCall" -> {
                call(b);
                walkFields(b, scope);
            }
            case "ColumnRef" -> column(b, scope);
            case "A_Expr" -> {
                String k = text(b, "kind");
                if (k == null || k.equals("AEXPR_OP") || k.equals("AEXPR_OP_ANY") || k.equals("AEXPR_OP_ALL")
                        || k.equals("AEXPR_DISTINCT") || k.equals("AEXPR_NOT_DISTINCT") || k.equals("AEXPR_NULLIF")
                        || k.equals("AEXPR_IN") || k.equals("AEXPR_LIKE") || k.equals("AEXPR_ILIKE")
                        || k.equals("AEXPR_SIMILAR")) {
                    operator(b.get("name"));
                } else if (k.startsWith("AEXPR_BETWEEN") || k.startsWith("AEXPR_NOT_BETWEEN")) {
                    // Rewritten to comparisons: a >= b AND a <= c (NOT: a < b OR a > c).
                    for (String op : List.of(">=", "<=", "<", ">")) operator(null, op);
                }
                walk(b.get("lexpr"), scope);
                walk(b.get("rexpr"), scope);
            }
            case "SubLink" -> {
                if (b.has("operName")) operator(b.get("operName"));
                else if ("ANY_SUBLINK".equals(text(b, "subLinkType"))) operator(null, "="); // x IN (SELECT …)
                walk(b.get("testexpr"), scope);
                walk(b.get("subselect"), scope);
            }
            case "RangeVar" -> facts.object(defaultAccess == Access.DDL ? ddlTarget(b) : relation(b), defaultAccess);
            case "String", "Integer", "Float", "Boolean", "BitString", "A_Const", "ParamRef", "A_Star" -> {
            }
            case "TypeCast" -> {
                Node typeName = unwrap(b.get("typeName"), "TypeName");
                List<String> target = typeName == null ? List.of() : strings(typeName.get("names"));
                if (offline != null && !offline.castCertain(target, b.get("arg"))) {
                    // Which casts users made (and from which types) is in the catalog, and so are the user's types.
                    unknowable("whether the cast to " + String.join(".", target) + " runs a user-defined cast function is"
                            + " not known");
                }
                if (!target.isEmpty()) userCast(target.getLast(), String.join(".", target));
                typeName(typeName, "a cast to " + String.join(".", target));
                walk(b.get("arg"), scope);
            }
            case "CaseExpr" -> {
                if (b.has("arg")) operator(null, "="); // CASE x WHEN y: x = y
                walkFields(b, scope);
            }
            case "A_Indirection" -> indirection(b, scope);
            case "SortBy" -> {
                if (b.has("useOp")) operator(b.get("useOp")); // ORDER BY x USING op
                walk(b.get("node"), scope);
            }
            case "TypeName" -> typeName(b, null);
            default -> {
                if (type.endsWith("Stmt")) {
                    // A statement inside another (CREATE RULE actions, CREATE SCHEMA elements): judge it fully.
                    Facts outer = facts;
                    facts = new Facts(Kind.READ);
                    StatementWalker inner = new StatementWalker(schema, state);
                    inner.facts = facts;
                    inner.top(type, b);
                    Facts in = facts;
                    facts = outer;
                    facts.merge(in);
                } else {
                    // A column definition list, XMLTABLE's or JSON_TABLE's columns, JSON_OBJECT(… RETURNING t): values
                    // are made of that type.
                    typeName(unwrap(b.get("typeName"), "TypeName"), null);
                    walkFields(b, scope);
                }
            }
        }
    }

    /**
     * A type named where a value of it is made (a cast, a column definition list, a parameter): what making and using
     * such a value runs. Not in DDL, where naming a type (CREATE TABLE … (c d)) makes no value. {@code where} says
     * what names it (null: "a value of type t").
     */
    private void typeName(Node typeName, String where) {
        if (typeName == null) return;
        List<String> names = strings(typeName.get("names"));
        if (names.isEmpty()) return;
        typeName(names.getLast(), where != null ? where : "a value of type " + String.join(".", names));
    }

    private void typeName(String name, String where) {
        if (defaultAccess == Access.DDL) return;
        ImplicitCode code = schema.implicitCode();
        if (code.isEmpty()) return;
        ImplicitCalls.type(facts, code, name, where);
    }

    /** A cast to a type that some CREATE CAST … WITH FUNCTION targets, whatever the source type. */
    private void userCast(String typeName, String written) {
        if (!schema.castRunsUserCode(typeName)) return;
        facts.unproven.add("cast to " + written);
        facts.lead("a cast to " + written + " may run a function that is not PostgreSQL's own (CREATE CAST)");
    }

    private void walkFields(Node b, Scope scope) {
        if (b == null) return;
        for (Node v : b) walk(v, scope);
    }

    private void column(Node ref, Scope scope) {
        Node fields = ref.get("fields");
        if (fields == null || scope == null) return;
        List<String> parts = new ArrayList<>();
        boolean star = false;
        for (Node f : fields) {
            if (f.has("A_Star")) star = true;
            else parts.add(str(f));
        }
        String col = star ? "*" : (parts.isEmpty() ? null : parts.get(parts.size() - 1));
        List<String> qualifier = star ? parts : parts.subList(0, Math.max(0, parts.size() - 1));
        if (col == null) return;
        if (qualifier.isEmpty()) {
            Scope s = scope.nearestWithItems();
            if (s == null) return;
            if (star) {
                for (String o : s.objects) facts.object(o, Access.READ).addAll(allColumns(o));
                return;
            }
            List<String> owners = new ArrayList<>();
            boolean renamed = false;
            for (String o : s.objects) {
                // A column alias (FROM t AS x(a)) hides the catalog name behind the visible one.
                Set<String> real = s.renamedColumns(o, col);
                if (!real.isEmpty()) {
                    facts.object(o, Access.READ).addAll(real);
                    renamed = true;
                    continue;
                }
                Optional<List<String>> cols = schema.columns(o);
                if (cols.isEmpty() || cols.get().contains(col)) owners.add(o);
            }
            if (renamed && owners.isEmpty()) return;
            if (owners.isEmpty()) {
                // A FROM item's name alone is its whole row (SELECT u, row_to_json(u), u::text): every column.
                String whole = scope.alias(col);
                if (whole != null && !whole.equals(Scope.DERIVED)) {
                    facts.object(whole, Access.READ).addAll(allColumns(whole));
                    return;
                }
                // An outer query's column (even where a derived table here might have one of that name: naming
                // the outer column too is the safe side).
                if (s.parent != null) {
                    column(ref, s.parent);
                    return;
                }
            }
            for (String o : owners) facts.object(o, Access.READ).add(col);
            return;
        }
        // t.c, s.t.c, or t.c.f (a field of a composite column): the longest qualifier that names a FROM item wins.
        String q = scope.alias(String.join(".", qualifier));
        String c = q == null || star ? col : scope.realColumn(String.join(".", qualifier), col);
        boolean field = false;
        if (q == null && qualifier.size() >= 2) {
            q = scope.alias(qualifier.get(0));
            c = scope.realColumn(qualifier.get(0), qualifier.get(1));
            field = true;
        }
        if (q == null && qualifier.size() >= 2) {
            // public.users.email (or db.public.users.email) under FROM users: the qualifier names the relation.
            int n = qualifier.size();
            String named = schema.relation(path, qualifier.get(n - 2), qualifier.get(n - 1)).orElse(null);
            if (named != null && scope.reaches(named)) {
                q = named;
                c = col;
                field = false;
            }
        }
        if (q != null && q.equals(Scope.DERIVED) && !field) {
            // (a JOIN b) AS j: j.c is a column of whichever of a and b has it.
            List<String> members = scope.join(String.join(".", qualifier));
            if (members != null) {
                for (String o : members) {
                    Optional<List<String>> cols = schema.columns(o);
                    if (star) facts.object(o, Access.READ).addAll(allColumns(o));
                    else if (cols.isEmpty() || cols.get().contains(c)) facts.object(o, Access.READ).add(c);
                }
                return;
            }
        }
        if (q != null && q.equals(Scope.DERIVED) && !field && !star) {
            // x.c on a subquery, function or VALUES alias whose columns are not tracked: where x has no column c,
            // PostgreSQL calls c(x), as on a table.
            fieldOrCall(c, String.join(".", qualifier));
            return;
        }
        if (q == null || q.equals(Scope.DERIVED)) return;
        if (star && c.equals("*")) {
            facts.object(q, Access.READ).addAll(allColumns(q));
            return;
        }
        Optional<List<String>> known = schema.columns(q);
        if (known.isPresent() && !known.get().contains(c)) {
            // t.f where t has no column f: PostgreSQL calls f(t) (attribute notation).
            attributeCall(c, q, null);
            return;
        }
        facts.object(q, Access.READ).add(c);
        // t.c.f: a field of a composite value, or, where its type has no such field, a call f(t.c).
        if (field && !star) fieldOrCall(col, String.join(".", parts.subList(0, parts.size() - 1)));
    }

    /**
     * {@code (v).f} on a value whose type the classifier does not know: a field, or a call {@code f(v)} when the type
     * has no such field. Only a function of that name taking one argument can be reached: judged as a call would be.
     */
    private void fieldOrCall(String name, String of) {
        // Offline, a user's function of that name may exist where the table knows none.
        if (offline != null && !offline.routineCertain(null)) {
            unknowable("whether (" + of + ")." + name + " selects a field or calls a user's function " + name + " is not known");
        }
        if (schema.functions(path, null, name, 1).isEmpty()) return;
        attributeCall(name, null, "(" + of + ")." + name + " selects a field of a composite value or calls " + name + "(" + of + ")");
    }

    /** {@code (x).f}, {@code (x)[i]}: a field selected from a whole row is a column or a call of {@code f(x)}. */
    private void indirection(Node b, Scope scope) {
        Node arg = b.get("arg");
        walk(arg, scope);
        String row = wholeRow(arg, scope);
        for (Node ind : iter(b.get("indirection"))) {
            if (!ind.has("String")) {
                walk(ind, scope);
                continue;
            }
            String name = str(ind);
            if (row != null) {
                name = scope == null ? name : scope.realColumn(wholeRowName(arg), name);
                Optional<List<String>> known = schema.columns(row);
                if (known.isPresent() && !known.get().contains(name)) attributeCall(name, row, null);
                else facts.object(row, Access.READ).add(name);
            } else {
                fieldOrCall(name, "…");
            }
            row = null; // a further field applies to the value just selected
        }
    }

    /** The relation a column reference stands for as a whole row ({@code t}, {@code t.*}), or null. */
    private String wholeRow(Node arg, Scope scope) {
        String name = wholeRowName(arg);
        if (name == null || scope == null) return null;
        String q = scope.alias(name);
        return q == null || q.equals(Scope.DERIVED) ? null : q;
    }

    /** The name a column reference gives a whole row ({@code t}, {@code s.t}, {@code t.*}), or null. */
    private static String wholeRowName(Node arg) {
        Node ref = unwrap(arg, "ColumnRef");
        if (ref == null) return null;
        List<String> parts = new ArrayList<>();
        for (Node f : iter(ref.get("fields"))) {
            if (!f.has("A_Star")) parts.add(str(f));
        }
        return parts.isEmpty() ? null : String.join(".", parts);
    }

    /**
     * {@code x.f} or {@code (x).f} where {@code x} has no field {@code f}: the server calls {@code f(x)}. {@code of}
     * is the relation read as a whole row (or null); {@code why} says what the notation may mean (or null: a call).
     */
    private void attributeCall(String name, String of, String why) {
        offlineRoutine(null, "function " + name);
        List<FunctionInfo> cands = schema.functions(path, null, name, 1);
        boolean proven = FunctionRules.ownAndPure(name, cands) && FunctionRules.sideEffect(name, true).isEmpty();
        String q = !cands.isEmpty() ? cands.get(0).qualifiedName() : firstSchema() + "." + name;
        facts.functions.add(q);
        if (of != null) facts.object(of, Access.READ).addAll(allColumns(of)); // f(t) receives the whole row
        if (proven) return;
        facts.unproven.add(q);
        facts.lead((why != null ? why : of + "." + name + " is not a column of " + of + ": PostgreSQL calls the function "
                + name + "(" + of + ")") + ", which is not proven to be read-only");
    }

    private List<String> allColumns(String q) {
        return schema.columns(q).orElse(List.of("*"));
    }

    private void call(Node f) {
        List<String> names = strings(f.get("funcname"));
        if (names.isEmpty()) return;
        Node args = f.get("args");
        int argc = size(args);
        String name = names.get(names.size() - 1);
        String sch = names.size() >= 2 ? names.get(names.size() - 2) : null;
        offlineRoutine(sch, "function " + name);
        List<FunctionInfo> cands = schema.functions(path, sch, name, argc);
        if (cands.isEmpty() && argc == 1 && (sch == null || sch.equals("pg_catalog")) && !f.has("agg_order")
                && !f.has("over") && BuiltinCatalog.INSTANCE.builtInType(name)) {
            // PostgreSQL reads typename(x) as a cast when no function has that name: json('…'), regrole('…').
            facts.functions.add("pg_catalog." + name);
            // Which type of that name it is depends on the search path (public.regrole before pg_catalog's): what
            // making a value of any type so named runs counts, as for name::type.
            userCast(name, name);
            typeName(name, "a cast to " + name + " written as " + name + "(…)");
            return;
        }
        String q = !cands.isEmpty() ? cands.get(0).qualifiedName() : (sch != null ? sch + "." + name : firstSchema() + "." + name);
        facts.functions.add(q);
        boolean inCatalog = !cands.isEmpty();
        for (FunctionInfo c : cands) inCatalog &= c.builtIn() && c.schema().equals("pg_catalog");
        Optional<FunctionRules.Effect> effect = FunctionRules.sideEffect(name, inCatalog);
        // ts_rewrite runs SQL only in its two-argument form; the three-argument form is a pure rewrite.
        if (name.equals("ts_rewrite") && argc == 3) effect = Optional.empty();
        if (effect.isPresent()) {
            if (name.equals("set_config")) {
                setConfig(args, q);
            } else {
                applyEffect(effect.get(), q);
            }
            facts.effects.add(effect.get());
            return;
        }
        if (FunctionRules.ownAndPure(name, cands)) {
            if (MAKES_A_TYPE_OF_ITS_ARGUMENT.contains(name)) madeType(name, q, args);
            return;
        }
        facts.unproven.add(q);
        String why;
        if (cands.isEmpty()) why = "is not a known built-in (user-defined or from an extension)";
        else if (cands.stream().anyMatch(FunctionInfo::securityDefiner)) why = "runs as its owner (SECURITY DEFINER)";
        else if (!cands.stream().allMatch(FunctionInfo::builtIn)) why = "is not part of PostgreSQL itself";
        else why = "is volatile";
        facts.lead("function " + q + " " + why + ": it is not proven to be read-only");
    }

    /**
     * Built-ins that make a value of a type given as data: its input function and a domain's CHECKs run. The
     * populating ones take the type from their first argument, which a cast names ({@code NULL::t}) and the cast is
     * judged already; otherwise the type is not known, and what any type's values run counts.
     */
    private static final Set<String> MAKES_A_TYPE_OF_ITS_ARGUMENT = Set.of("json_populate_record",
            "json_populate_recordset", "jsonb_populate_record", "jsonb_populate_recordset", "jsonb_populate_record_valid",
            "domain_in", "domain_recv", "record_in", "record_recv", "array_in", "array_recv", "range_in", "range_recv",
            "multirange_in", "multirange_recv", "pg_input_is_valid", "pg_input_error_info");

    /**
     * Operators (an extension's, so proven when not volatile) that make a value of a record type from data:
     * hstore's {@code record #= hstore} is {@code populate_record}, which runs the input functions and domain CHECKs
     * of the record's columns.
     */
    private static final Set<String> MAKES_A_TYPE_OF_ITS_OPERAND = Set.of("#=");

    private void madeType(String name, String q, Node args) {
        ImplicitCode code = schema.implicitCode();
        if (code.typeInputs().isEmpty()) return;
        if (name.contains("populate") && args != null && args.size() > 0 && args.get(0).has("TypeCast")) return;
        ImplicitCalls.anyType(facts, code, "function " + q + " makes a value of a type the classifier cannot see");
    }

    private void applyEffect(FunctionRules.Effect e, String q) {
        for (String f : e.flags()) facts.flag(f);
        String reason = "function " + q + " " + e.why();
        if (e.kind() == Kind.UNKNOWN) facts.opaque(reason);
        else facts.raise(e.kind(), reason);
    }

    private void setConfig(Node args, String q) {
        String setting = args != null && args.size() > 0 ? constString(args.get(0)) : null;
        if (setting == null) {
            facts.flag(Flag.PRIVILEGE);
            facts.opaque("function " + q + " changes a setting whose name is computed (it may be the role, the search path or how strings are read)");
            state.searchPathUnknown = true;
            return;
        }
        String s = setting.toLowerCase(Locale.ROOT);
        if (PRIVILEGE_SETTINGS.contains(s)) {
            facts.flag(Flag.PRIVILEGE);
            if (s.equals("role") || s.equals("session_authorization") || s.equals("session_replication_role")) {
                facts.raise(Kind.DCL, "function " + q + " sets " + s + ": changes the identity or privileges the session acts with");
            } else {
                facts.raise(Kind.SESSION, "function " + q + " changes the safety setting " + s);
            }
            return;
        }
        facts.raise(Kind.SESSION, "function " + q + " changes the setting " + s);
        if (LEXING_SETTINGS.contains(s)) lexingSetting(s, args.size() > 1 ? constString(args.get(1)) : null);
        if (s.equals("search_path")) {
            String v = args.size() > 1 ? constString(args.get(1)) : null;
            List<String> parsed = null;
            try {
                if (v != null) parsed = List.copyOf(SearchPath.parse(v));
            } catch (IllegalArgumentException e) {
                parsed = null; // PostgreSQL would refuse it too; either way the path is not known.
            }
            if (parsed == null) {
                state.searchPathUnknown = true;
            } else {
                state.searchPath = parsed;
                state.searchPathUnknown = false;
            }
        }
    }

    private void operator(Node name) {
        List<String> names = strings(name);
        if (names.isEmpty()) return;
        operator(names.size() >= 2 ? names.get(names.size() - 2) : null, names.get(names.size() - 1));
    }

    /** An operator, written or implied (IN, BETWEEN, CASE, USING): proven only when every candidate is built in. */
    private void operator(String sch, String op) {
        offlineRoutine(sch, "operator " + op);
        if (schema.builtInOperator(path, sch, op)) {
            if (MAKES_A_TYPE_OF_ITS_OPERAND.contains(op)) {
                // The record's type is its left operand's, which the classifier does not type: any type's make counts.
                ImplicitCode code = schema.implicitCode();
                ImplicitCalls.anyType(facts, code, "operator " + op + " makes a value of a type the classifier cannot see");
            }
            return;
        }
        String q = (sch == null ? "" : sch + ".") + op;
        facts.functions.add("operator " + q);
        facts.unproven.add("operator " + q);
        facts.lead("operator " + q + " is not a built-in operator proven to be read-only");
    }

    // ---- names --------------------------------------------------------------------------------------------------

    private String relation(Node rv) {
        String rel = text(rv, "relname");
        String sch = text(rv, "schemaname");
        if (sch != null) {
            if (!resolvingDdlTarget && !temporarySchema(sch) && schema.live() && schema.relation(path, sch, rel).isEmpty()) {
                state.unseen.add(rel);
            }
            return offlineRelation(sch + "." + rel, true);
        }
        // CREATE TEMP TABLE x / SELECT … INTO TEMP x: temporary relations live in the session's own schema.
        if ("t".equals(text(rv, "relpersistence"))) return "pg_temp." + rel;
        Optional<String> known = schema.relation(path, null, rel);
        if (known.isEmpty() && schema.live()) {
            unseenRelations++;
            if (!resolvingDdlTarget) state.unseen.add(rel);
        }
        return offlineRelation(known.orElseGet(() -> firstSchema() + "." + rel), false);
    }

    /** Set while resolving the target of a DDL statement (no FROM item: nothing of it runs). */
    private boolean resolvingDdlTarget;

    private String ddlTarget(Node rv) {
        resolvingDdlTarget = true;
        try {
            return relation(rv);
        } finally {
            resolvingDdlTarget = false;
        }
    }

    private static boolean temporarySchema(String schema) {
        return schema != null && (schema.equals("pg_temp") || schema.startsWith("pg_temp_"));
    }

    /**
     * Offline, a relation that is not one of PostgreSQL's own may be a view, or have rules, row-level security
     * policies, child tables or cascading foreign keys, and an unqualified name may be in another schema: what the
     * statement reads, runs or changes through it is not known.
     */
    private String offlineRelation(String q, boolean qualified) {
        if (offline != null && !offline.relationCertain(q, qualified, resolvingDdlTarget)) {
            unknowable("whether " + q + " is a view or has rules, row-level security policies, child tables or"
                    + " cascading foreign keys" + (qualified ? "" : ", and which schema of the search path holds it,")
                    + " is not known");
        }
        return q;
    }

    /** A doubt of {@link #offline}: not undone by a {@code functions:} rule, since it is not about one function. */
    private void unknowable(String what) {
        facts.opaque(offline.why());
        facts.lead(what);
    }

    /** Offline, an unqualified function or operator may be a user's of that name in another schema of the path. */
    private void offlineRoutine(String sch, String what) {
        if (offline != null && !offline.routineCertain(sch)) {
            unknowable("which " + what + " runs is not known: one of that name in a schema of the search path"
                    + " other than pg_catalog may be the one PostgreSQL picks");
        }
    }

    private String qualifiedFunction(List<String> names, int argc) {
        if (names.isEmpty()) return "?";
        String name = names.get(names.size() - 1);
        String sch = names.size() >= 2 ? names.get(names.size() - 2) : null;
        List<FunctionInfo> c = schema.functions(path, sch, name, argc);
        if (!c.isEmpty()) return c.get(0).qualifiedName();
        return (sch != null ? sch : firstSchema()) + "." + name;
    }

    private String firstSchema() {
        return schema.creationSchema(path);
    }

    // ---- JSON helpers -------------------------------------------------------------------------------------------

    /** The node name of a wrapped node ({@code {"RangeVar":{…}}}), or null. */
    static String nodeType(Node n) {
        String f = n == null ? null : n.onlyField();
        return f != null && !f.isEmpty() && Character.isUpperCase(f.charAt(0)) ? f : null;
    }

    /** The body of a node that may or may not be wrapped in its name (field layouts differ between versions). */
    static Node unwrap(Node n, String type) {
        if (n == null) return null;
        Node inner = n.get(type);
        return inner != null && inner.isObject() ? inner : n;
    }

    static String text(Node n, String field) {
        if (n == null) return null;
        Node v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    static boolean bool(Node n, String field) {
        return n != null && n.path(field).asBoolean(false);
    }

    static Iterable<Node> iter(Node n) {
        if (n == null || !n.isArray()) return List.of();
        return n;
    }

    static int size(Node n) {
        return n == null || !n.isArray() ? 0 : n.size();
    }

    /** The value of a String node ({@code {"String":{"sval":…}}}; {@code str} in older versions). */
    static String str(Node n) {
        if (n == null) return null;
        Node s = n.get("String");
        if (s == null) return n.isTextual() ? n.asText() : null;
        Node v = s.has("sval") ? s.get("sval") : s.get("str");
        return v == null ? "" : v.asText();
    }

    static List<String> strings(Node list) {
        List<String> out = new ArrayList<>();
        for (Node n : iter(list)) {
            String s = str(n);
            if (s != null) out.add(s);
        }
        return out;
    }

    /** The items of a {@code List} node, or the node itself when it is already an array. */
    static Node listItems(Node n) {
        if (n == null) return null;
        if (n.isArray()) return n;
        Node l = n.get("List");
        return l == null ? null : l.get("items");
    }

    /** A string literal ({@code A_Const} with {@code sval}), or null when the value is not a constant string. */
    static String constString(Node n) {
        if (n == null) return null;
        Node c = n.get("A_Const");
        if (c == null) {
            Node tc = n.get("TypeCast");
            return tc != null ? constString(tc.get("arg")) : str(n);
        }
        Node sv = c.get("sval");
        if (sv == null) return null;
        Node v = sv.get("sval");
        return v == null ? "" : v.asText();
    }

    /** The column names of a FROM item's alias ({@code AS x(a, b)}), or none. */
    static List<String> aliasColumns(Node b) {
        Node a = b == null ? null : unwrap(b.get("alias"), "Alias");
        return a == null ? List.of() : strings(a.get("colnames"));
    }

    static String aliasName(Node b) {
        if (b == null) return null;
        Node a = unwrap(b.get("alias"), "Alias");
        return a == null ? null : text(a, "aliasname");
    }

    private static String objectWord(String objtype, String dflt) {
        if (objtype == null) return dflt;
        return objtype.replace("OBJECT_", "").replace('_', ' ');
    }

    /** A short command name from a node name: {@code CreateTrigStmt} → {@code CREATE TRIG}. */
    static String command(String type) {
        String t = type.endsWith("Stmt") ? type.substring(0, type.length() - 4) : type;
        return switch (t) {
            case "Select" -> "SELECT";
            case "Insert" -> "INSERT";
            case "Update" -> "UPDATE";
            case "Delete" -> "DELETE";
            case "Merge" -> "MERGE";
            case "Index" -> "CREATE INDEX";
            case "Create" -> "CREATE TABLE";
            case "View" -> "CREATE VIEW";
            case "Createdb" -> "CREATE DATABASE";
            case "Dropdb" -> "DROP DATABASE";
            case "Do" -> "DO";
            case "Call" -> "CALL";
            case "Rule" -> "CREATE RULE";
            case "CreateTrig" -> "CREATE TRIGGER";
            case "CreateFunction" -> "CREATE FUNCTION";
            case "Define" -> "CREATE";
            case "Rename" -> "ALTER RENAME";
            case "Discard" -> "DISCARD";
            case "Listen" -> "LISTEN";
            case "Unlisten" -> "UNLISTEN";
            case "Notify" -> "NOTIFY";
            case "Deallocate" -> "DEALLOCATE";
            case "Load" -> "LOAD";
            case "Lock" -> "LOCK";
            case "Truncate" -> "TRUNCATE";
            case "RefreshMatView" -> "REFRESH MATERIALIZED VIEW";
            case "AlterSystem" -> "ALTER SYSTEM";
            case "ConstraintsSet" -> "SET CONSTRAINTS";
            default -> {
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < t.length(); i++) {
                    char c = t.charAt(i);
                    if (i > 0 && Character.isUpperCase(c)) sb.append(' ');
                    sb.append(Character.toUpperCase(c));
                }
                yield sb.toString();
            }
        };
    }
}
