package dev.warden.postgres.classify;

import dev.warden.postgres.catalog.BuiltinCatalog;
import java.util.List;

/**
 * Which answers of the offline table are certain while the live catalog is unavailable. The table knows PostgreSQL's
 * own objects and no user's, so an answer is certain only where no user object could take its place: a relation of
 * {@code pg_catalog} or {@code information_schema} found before any schema a user could create in, a function or
 * operator named with its schema or where nothing but {@code pg_catalog} is searched (PostgreSQL picks among every
 * schema of the path by argument types, which the classifier does not know), and a constant cast to a type of
 * {@code pg_catalog}.
 *
 * @param why           the reason a statement that needs more is not labelled (names the catalog's last error)
 * @param searchPath    the statement's search path
 * @param sessionChange the catalog is there but the session changed the schema where it cannot see (rather than
 *                      unavailable): a DDL statement's target named with its schema is the one it names
 */
record OfflineDoubts(String why, List<String> searchPath, boolean sessionChange) {
    /**
     * A relation by its resolved name; {@code qualified} when the text named its schema, {@code ddlTarget} when it is
     * the object of a DDL statement (not read or written: no view, rule, trigger or policy of it runs). Such a target
     * is certain after a session's own change, so that one transaction may run several DDL statements (a migration):
     * what the change could hide (a view in a table's place, a new trigger) runs only when the relation is read or
     * written. Its schema is not certain when the name is not qualified (the change may have made another schema's
     * relation of that name the one the path finds).
     */
    boolean relationCertain(String qualifiedName, boolean qualified, boolean ddlTarget) {
        if (sessionChange && qualified && ddlTarget) return true;
        return BuiltinCatalog.INSTANCE.builtInRelation(qualifiedName) && (qualified || catalogFirst());
    }

    /**
     * A function or operator named with {@code schema} (null: unqualified). A qualified name is the one it names: the
     * table answers for {@code pg_catalog}, and any other schema's is unproven (as live, until a rule names it).
     */
    boolean routineCertain(String schema) {
        if (schema != null) return true;
        for (String s : searchPath) {
            if (!s.equals("pg_catalog") && !temporary(s)) return false;
        }
        return true;
    }

    /**
     * A cast of {@code arg} to the type named {@code target}. A user's cast needs a user's type at one end: a
     * constant (of a built-in type) cast to a built-in type runs PostgreSQL's own cast or input function.
     */
    boolean castCertain(List<String> target, Node arg) {
        if (target.isEmpty() || !BuiltinCatalog.INSTANCE.builtInType(target.getLast())) return false;
        boolean named = target.size() == 1 ? catalogFirst() : target.size() == 2 && target.getFirst().equals("pg_catalog");
        if (!named || arg == null) return false;
        if (arg.has("A_Const")) return true;
        Node inner = arg.get("TypeCast");
        if (inner == null) return false;
        Node typeName = StatementWalker.unwrap(inner.get("typeName"), "TypeName");
        return typeName != null && castCertain(StatementWalker.strings(typeName.get("names")), inner.get("arg"));
    }

    /**
     * No schema a user could create in comes before {@code pg_catalog}, so an unqualified relation or type name of
     * {@code pg_catalog} is its own (temporary ones aside, which the live catalog does not see either).
     */
    private boolean catalogFirst() {
        if (!searchPath.contains("pg_catalog")) return true; // searched first when the path does not name it
        for (String s : searchPath) {
            if (s.equals("pg_catalog")) return true;
            if (!temporary(s)) return false;
        }
        return true;
    }

    private static boolean temporary(String schema) {
        return schema.isEmpty() || schema.equals("pg_temp") || schema.startsWith("pg_temp_");
    }
}
