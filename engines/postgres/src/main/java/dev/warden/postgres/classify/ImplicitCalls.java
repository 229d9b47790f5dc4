package dev.warden.postgres.classify;

import dev.warden.core.Access;
import dev.warden.core.Kind;
import dev.warden.postgres.catalog.ImplicitCode;
import dev.warden.postgres.catalog.ImplicitCode.Call;
import dev.warden.postgres.catalog.ImplicitCode.TypeCode;
import dev.warden.postgres.catalog.ImplicitCode.WriteCall;
import dev.warden.postgres.catalog.RelationReach;
import dev.warden.postgres.catalog.SchemaInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Adds to a statement the code PostgreSQL runs for it without its naming it ({@link ImplicitCode}): what the types
 * of the columns it reads run (output functions, the operator classes that sort them, implicit casts), what the
 * indexes it may scan compare with, and, for each relation it writes, what the columns it fills run (a domain's
 * CHECK) and the triggers, defaults, CHECK constraints and index expressions of the events it sends. Runs after
 * {@link IndirectAccess}, so base tables of views and partitions count too. Code a read runs is an unproven function
 * of the statement, named, so the read is not a proven read and a {@code functions:} rule can declare it; code a
 * write runs is named and recorded (see {@link #written}).
 */
final class ImplicitCalls {
    private static final Set<String> NO_ROWS_WRITTEN = Set.of("LOCK", "VACUUM", "ANALYZE", "CLUSTER", "REINDEX");

    private ImplicitCalls() {}

    static void add(Facts f, SchemaInfo schema) {
        if (f.objects.isEmpty()) return;
        ImplicitCode code = schema.implicitCode();
        RelationReach reach = schema.reach();
        // SELECT … FOR UPDATE writes no rows (what a view's base table is reached for is locking too), nor do the
        // maintenance commands, which are never reads anyway.
        boolean noRows = NO_ROWS_WRITTEN.contains(f.command)
                || !f.writeEvents.isEmpty() && f.writeEvents.values().stream().allMatch(e -> e == 0);
        for (Map.Entry<String, Set<String>> e : new ArrayList<>(f.objects.entrySet())) {
            int cut = e.getKey().indexOf('\u0000');
            String name = e.getKey().substring(0, cut);
            switch (Access.valueOf(e.getKey().substring(cut + 1))) {
                case READ -> read(f, code, name, e.getValue());
                case WRITE -> {
                    if (!noRows) write(f, code, schema, name, events(f, name, reach), e.getValue());
                }
                case DDL -> {
                }
            }
        }
    }

    /**
     * EXPLAIN without ANALYZE of a write runs none of its triggers or checks, but the planner simplifies what it
     * plans, calling a non-volatile function on constants while it does: the column and domain defaults the rewriter
     * adds to an INSERT (or an UPDATE … SET c = DEFAULT) and row-level security policies. A user's such code is
     * judged as if the read (which EXPLAIN is) called it. PostgreSQL's own code there is volatile (nextval) or pure,
     * and is not folded.
     */
    static void planned(Facts explain, SchemaInfo schema, Facts inner) {
        ImplicitCode code = schema.implicitCode();
        if (code.isEmpty() || inner.writeEvents.isEmpty()) return;
        IndirectAccess.expand(inner, schema.reach());
        for (Map.Entry<String, Set<String>> e : new ArrayList<>(inner.objects.entrySet())) {
            int cut = e.getKey().indexOf('\u0000');
            if (Access.valueOf(e.getKey().substring(cut + 1)) != Access.WRITE) continue;
            String name = e.getKey().substring(0, cut);
            int events = events(inner, name, schema.reach());
            String where = "planning the write of " + name;
            Map<String, TypeCode> typed = code.columns().get(name);
            if (typed != null && (events & (ImplicitCode.INSERT | ImplicitCode.UPDATE)) != 0) {
                for (TypeCode t : typed.values()) for (Call c : t.make()) if (folded(c)) run(explain, c, where);
            }
            for (WriteCall w : code.writes().getOrDefault(name, List.of())) {
                if ((w.events() & events) != 0 && folded(w.call())) run(explain, w.call(), where);
            }
        }
    }

    private static boolean folded(Call c) {
        return !c.builtIn() && (c.origin().startsWith("the default") || c.origin().startsWith("row-level security policy"));
    }

    /** A type the statement names (a cast, a column definition list, a parameter): a value is made of it and used. */
    static void type(Facts f, ImplicitCode code, String typeName, String where) {
        TypeCode t = code.types().get(typeName);
        if (t == null) return;
        for (Call c : t.make()) run(f, c, where);
        for (Call c : t.use()) run(f, c, where);
    }

    /** A value made into a type the statement does not name ({@code json_populate_record(t, …)}, {@code domain_in}). */
    static void anyType(Facts f, ImplicitCode code, String where) {
        for (Call c : code.typeInputs()) run(f, c, where);
    }

    private static void read(Facts f, ImplicitCode code, String name, Set<String> cols) {
        Map<String, TypeCode> typed = code.columns().get(name);
        if (typed != null) {
            boolean all = cols.contains("*");
            for (Map.Entry<String, TypeCode> c : typed.entrySet()) {
                if (!all && !cols.contains(c.getKey())) continue;
                for (Call call : c.getValue().use()) run(f, call, "reading " + name + "." + c.getKey());
            }
        }
        for (Call call : code.scans().getOrDefault(name, List.of())) run(f, call, "an index scan of " + name);
    }

    private static void write(Facts f, ImplicitCode code, SchemaInfo schema, String name, int events, Set<String> cols) {
        if (events == 0) return;
        Map<String, TypeCode> typed = code.columns().get(name);
        if (typed != null && (events & (ImplicitCode.INSERT | ImplicitCode.UPDATE)) != 0) {
            // An INSERT makes a value for every column (a domain column left out gets a NULL that is checked too);
            // an UPDATE only for the columns it sets.
            boolean all = (events & ImplicitCode.INSERT) != 0 || cols.contains("*");
            for (Map.Entry<String, TypeCode> c : typed.entrySet()) {
                if (!all && !cols.contains(c.getKey())) continue;
                for (Call call : c.getValue().make()) written(f, call, "writing " + name + "." + c.getKey());
            }
        }
        for (WriteCall w : code.writes().getOrDefault(name, List.of())) {
            if ((w.events() & events) != 0) written(f, w.call(), "writing " + name);
        }
        if (schema.readRunsUserCode(name)) {
            f.reason("writing " + name + " runs the database's own code: a view, rule or row-level security policy on"
                    + " it calls a function or operator that is not a built-in proven to be read-only");
        }
    }

    /**
     * Code the database runs for a write it allows (its triggers, defaults, checks, indexes, policies): named among
     * the statement's functions, so the ledger shows it and a deny or approve rule on the function matches, but not
     * held against the write. The database owner put it there for every writer of the table; it is part of what
     * writing that table means, not something the agent's text chose. A built-in with a side effect still counts.
     */
    private static void written(Facts f, Call c, String where) {
        if (c.builtIn() && FunctionRules.sideEffect(c.function().substring(c.function().lastIndexOf('.') + 1), true).isPresent()) {
            run(f, c, where);
            return;
        }
        f.functions.add(c.function());
        f.reason(where + " runs " + c.function() + " (" + c.origin() + "), the database's own code for this write");
    }

    /**
     * The events a written relation sees: what the statement sends it; for a partition or inheritance child, what
     * its parent is sent (an UPDATE that moves a row to another partition deletes and inserts); for anything else
     * reached (a rule's target, a cascading foreign key) or written by a utility command, any.
     */
    private static int events(Facts f, String name, RelationReach reach) {
        if ("TRUNCATE".equals(f.command)) return ImplicitCode.TRUNCATE;
        Integer own = f.writeEvents.get(name);
        if (own != null) return own;
        int inherited = -1;
        for (String parent : reach.ancestors().getOrDefault(name, List.of())) {
            Integer p = f.writeEvents.get(parent);
            if (p == null) continue;
            int moved = (p & ImplicitCode.UPDATE) != 0 ? ImplicitCode.INSERT | ImplicitCode.DELETE : 0;
            inherited = Math.max(inherited, 0) | p | moved;
        }
        return inherited >= 0 ? inherited : ImplicitCode.ALL;
    }

    private static void run(Facts f, Call c, String where) {
        f.functions.add(c.function());
        String reason = where + " runs " + c.function() + " (" + c.origin() + ")";
        if (c.builtIn()) {
            String bare = c.function().substring(c.function().lastIndexOf('.') + 1);
            Optional<FunctionRules.Effect> e = FunctionRules.sideEffect(bare, true);
            if (e.isPresent()) {
                for (String flag : e.get().flags()) f.flag(flag);
                if (e.get().kind() == Kind.UNKNOWN) f.opaque(reason + ", which " + e.get().why());
                else f.raise(e.get().kind(), reason + ", which " + e.get().why());
                return;
            }
        }
        // One reason per function: a type on many columns would otherwise repeat it for each.
        if (f.unproven.add(c.function())) f.lead(reason + ": user code that is not proven to be read-only");
    }
}
