package dev.warden.postgres.catalog;

import dev.warden.postgres.catalog.SchemaInfo.FunctionInfo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One consistent read of a database's catalog: schemas, relations with their columns, and functions. Immutable;
 * a refresh builds a new one. Names are stored as PostgreSQL stores them (already folded), so lookups are exact.
 *
 * @param user        the upstream user, which {@code $user} in a search path stands for
 * @param roleSchemas the schemas named after the user or a role it may become: what {@code $user} can stand for
 * @param databaseOid identifies the database; a database dropped and re-created under the same name has a new one
 * @param schemas     the schemas a search path may reach: those the user may use (USAGE), or every schema when the
 *                    privileges are not read
 * @param relations   {@code schema.name} to relation
 * @param functions   function name to every function of that name, in any schema
 * @param operators   operator symbol to every operator of that symbol, in any schema
 * @param implicitCode user code PostgreSQL runs for statements that do not name it (types, triggers, defaults…)
 * @param unusable    the schemas the user may not use (PostgreSQL leaves them out of its search)
 * @param privilegesRead whether {@code schemas} are the acting role's own: false when acting as a role whose
 *                    privileges were not read (every schema is then one the path may reach)
 * @param roleUsage   for each role the user may become, the schemas whose USAGE it has and the user has not, or the
 *                    other way round; {@code null} when there were too many to read
 * @param eventTriggers the database has an enabled event trigger (other than on login): DDL may run code no
 *                    statement names
 */
public record CatalogSnapshot(String user, long databaseOid, Set<String> schemas, Set<String> roleSchemas,
                              Map<String, Relation> relations,
                              Map<String, List<Function>> functions, Map<String, List<Operator>> operators,
                              Set<String> userCastTargets, RelationReach reach, ImplicitCode implicitCode,
                              Set<String> unusable, boolean privilegesRead, Map<String, Set<String>> roleUsage,
                              boolean eventTriggers) {
    static final String PG_CATALOG = "pg_catalog";

    public CatalogSnapshot {
        schemas = Set.copyOf(schemas);
        unusable = Set.copyOf(unusable);
        if (roleUsage != null) {
            Map<String, Set<String>> copy = new java.util.HashMap<>();
            roleUsage.forEach((r, s) -> copy.put(r, Set.copyOf(s)));
            roleUsage = Map.copyOf(copy);
        }
        roleSchemas = Set.copyOf(roleSchemas);
        relations = Map.copyOf(relations);
        functions = Map.copyOf(functions);
        operators = Map.copyOf(operators);
        userCastTargets = Set.copyOf(userCastTargets);
    }

    /**
     * One {@code pg_operator} row.
     *
     * @param signature     left and right operand types: equal symbols and signatures mask each other
     * @param builtIn       created by PostgreSQL itself (as for functions)
     * @param fromExtension an extension owns it
     * @param volatility    of the function behind it; {@code 0} for a shell operator, which has none
     * @param bound         whether PostgreSQL can choose it only for a value of one of its operand types: {@link
     *                      #UNBOUND} unless both are a user's own (OID 16384 and up) standalone composite, enum,
     *                      range or multirange types, outside the string category, into which no other type has an
     *                      implicit cast; {@link #BOUND_COMPOSITE} when one of them is composite (a {@code record}
     *                      converts to any composite type), {@link #BOUND} otherwise. Such an operator is part of
     *                      what a value of those types brings with it ({@link ImplicitCode.TypeCode#use()}); the
     *                      symbol alone reaches it only through an untyped literal or a {@code record}, which
     *                      {@link CatalogView.Live#builtInOperator} rules out
     */
    public record Operator(long oid, String schema, String name, String signature, boolean builtIn,
                           boolean fromExtension, char volatility, char bound) {
        public static final char UNBOUND = '-', BOUND = 'o', BOUND_COMPOSITE = 'c';

        public Operator(long oid, String schema, String name, String signature, boolean builtIn, boolean fromExtension,
                        char volatility) {
            this(oid, schema, name, signature, builtIn, fromExtension, volatility, UNBOUND);
        }

        /** The operand type OIDs, from the signature ({@code 0} for a prefix operator's left). */
        public long[] operandTypes() {
            int comma = signature.indexOf(',');
            return new long[] {Long.parseLong(signature.substring(0, comma)), Long.parseLong(signature.substring(comma + 1))};
        }

        /**
         * Whether it may appear in a statement judged a read. Extension operators count when their function is not
         * volatile: {@code =} on {@code citext} or {@code &&} on PostGIS types are the extension's own code (installed
         * by an administrator), and without them every comparison in a database that has such an extension would
         * be denied, since which operator a symbol reaches depends on operand types the classifier does not know.
         * A user's own operator never counts.
         */
        public boolean provenPure() {
            return (builtIn || fromExtension) && (volatility == 'i' || volatility == 's');
        }
    }

    /**
     * A table, view, materialized view, foreign or partitioned table.
     *
     * @param kind         {@code pg_class.relkind}
     * @param runsUserCode reading it may run code that is not a pure built-in of PostgreSQL (a view, rule or
     *                     row-level security policy that calls a user function or operator, or a built-in with a
     *                     side effect or volatile, directly or through another view), so a read of it is not proven
     *                     and no row estimate is asked for statements that touch it
     * @param writesRunUserCode writing it runs user code (a trigger, column default, generated column, CHECK
     *                     constraint, index expression, a column type's CHECK or input function: {@link ImplicitCode}),
     *                     which the planner may fold into a statement that writes the relation
     */
    public record Relation(long oid, String schema, String name, char kind, List<String> columns, boolean runsUserCode,
                           boolean writesRunUserCode) {
        public Relation {
            columns = List.copyOf(columns);
        }

        public String qualifiedName() {
            return schema + "." + name;
        }
    }

    /**
     * One {@code pg_proc} row (procedures excluded: a function call never reaches one).
     *
     * @param argTypes  {@code proargtypes} as text: two functions with equal names and argument types mask each other
     * @param nargs     declared input arguments
     * @param ndefaults how many of them have defaults
     * @param variadic  the last argument is VARIADIC
     * @param aggregate an aggregate (or window function): an ordered-set aggregate counts its WITHIN GROUP
     *                  arguments in {@code nargs}, which a caller may or may not have counted
     */
    public record Function(long oid, String schema, String name, char volatility, boolean securityDefiner,
                           String language, boolean builtIn, int nargs, int ndefaults, boolean variadic,
                           String argTypes, boolean aggregate) {
        FunctionInfo info() {
            return new FunctionInfo(schema, name, volatility, securityDefiner, language, builtIn);
        }

        boolean accepts(int argCount) {
            if (argCount < 0 || argCount == nargs) return true;
            if (argCount < nargs && (argCount >= nargs - ndefaults || aggregate)) return true;
            // A variadic parameter takes any number of values (zero only with a default, but more is safer).
            return variadic && argCount >= nargs - 1;
        }
    }

    /**
     * This catalog as {@code role} ({@code current_user}) sees it: {@code "$user"} stands for the role, and the search
     * reaches the schemas the role may use, or every schema where its privileges were not read. A role of no schema: "".
     */
    public CatalogSnapshot actingAs(String role) {
        Set<String> all = new java.util.HashSet<>(schemas);
        all.addAll(unusable);
        // "" is no role: a session whose role is not known may act as one that has no schema of its name.
        if (roleUsage == null || role.isEmpty()) {
            return new CatalogSnapshot(role, databaseOid, all, roleSchemas, relations, functions, operators,
                    userCastTargets, reach, implicitCode, Set.of(), false, null, eventTriggers);
        }
        Set<String> usable = new java.util.HashSet<>(schemas);
        for (String differs : roleUsage.getOrDefault(role, Set.of())) {
            if (!usable.remove(differs)) usable.add(differs);
        }
        all.removeAll(usable);
        return new CatalogSnapshot(role, databaseOid, usable, roleSchemas, relations, functions, operators,
                userCastTargets, reach, implicitCode, all, true, null, eventTriggers);
    }

    /**
     * The schemas a search path stands for, in order: {@code $user} replaced by the user, schemas that do not
     * exist left out, and {@code pg_catalog} first unless the path names it (as PostgreSQL does). Temporary schemas
     * are left out: this connection cannot see another session's temporary objects.
     */
    public List<String> effectivePath(List<String> searchPath) {
        List<String> out = new ArrayList<>();
        List<String> path = searchPath == null ? List.of() : searchPath;
        if (!path.contains(PG_CATALOG)) out.add(PG_CATALOG);
        for (String entry : path) {
            String schema = "$user".equals(entry) ? user : entry;
            if (schema == null || schema.equals("pg_temp") || schema.startsWith("pg_temp_")) continue;
            if (schemas.contains(schema) && !out.contains(schema)) out.add(schema);
        }
        return out;
    }

    /** {@link SchemaInfo#creationSchema}: {@code "$user"} as this catalog's user, schemas that do not exist passed over. */
    public String creationSchema(List<String> searchPath) {
        for (String entry : searchPath == null ? List.<String>of() : searchPath) {
            if (entry.equals("pg_temp") || entry.startsWith("pg_temp_")) return "pg_temp";
            String schema = "$user".equals(entry) ? user : entry;
            if (schema != null && schemas.contains(schema)) return schema;
        }
        // None exists: PostgreSQL refuses the creation ("no schema has been selected to create in").
        return "public";
    }

    /**
     * {@link SchemaInfo#resolvedByUnreadPrivileges}: acting as a role whose privileges were not read, more than one
     * schema of the path holds a relation {@code name} (pg_catalog, which every role may use, ends the search).
     */
    public boolean resolvedByUnreadPrivileges(List<String> searchPath, String name) {
        if (privilegesRead) return false;
        int holders = 0;
        for (String s : effectivePath(searchPath)) {
            if (!relations.containsKey(s + "." + name)) continue;
            holders++;
            if (s.equals(PG_CATALOG)) break;
        }
        return holders > 1;
    }

    public Optional<Relation> relation(List<String> searchPath, String schema, String name) {
        if (name == null) return Optional.empty();
        if (schema != null) return Optional.ofNullable(relations.get(schema + "." + name));
        for (String s : effectivePath(searchPath)) {
            Relation r = relations.get(s + "." + name);
            if (r != null) return Optional.of(r);
        }
        return Optional.empty();
    }

    /** A function by OID (the fast-path FunctionCall names functions only so). A scan: that path is rare. */
    public Optional<Function> function(long oid) {
        for (List<Function> list : functions.values()) {
            for (Function f : list) if (f.oid() == oid) return Optional.of(f);
        }
        return Optional.empty();
    }

    public Optional<Relation> relation(String qualifiedName) {
        return Optional.ofNullable(relations.get(qualifiedName));
    }

    /**
     * Every operator an expression with {@code symbol} may reach: all of that symbol in the schemas of the path,
     * less those masked by an equal signature earlier in the path.
     */
    public List<Operator> operatorCandidates(List<String> searchPath, String schema, String symbol) {
        List<Operator> all = operators.getOrDefault(symbol, List.of());
        if (all.isEmpty()) return List.of();
        List<String> order = schema != null ? List.of(schema) : effectivePath(searchPath);
        List<Operator> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String s : order) {
            List<String> here = new ArrayList<>();
            for (Operator o : all) {
                if (!o.schema().equals(s) || seen.contains(o.signature())) continue;
                out.add(o);
                here.add(o.signature());
            }
            seen.addAll(here);
        }
        return out;
    }

    /**
     * Every function a call may resolve to. PostgreSQL picks among all functions of that name in the schemas of
     * the path, a function hiding those with identical argument types in later schemas; which of the rest wins
     * depends on argument types the classifier does not know, so all of them are candidates.
     */
    public List<Function> candidates(List<String> searchPath, String schema, String name, int argCount) {
        List<Function> all = functions.getOrDefault(name, List.of());
        if (all.isEmpty()) return List.of();
        List<String> order = schema != null ? List.of(schema) : effectivePath(searchPath);
        List<Function> out = new ArrayList<>();
        Set<String> seenSignatures = new HashSet<>();
        for (String s : order) {
            List<String> here = new ArrayList<>();
            for (Function f : all) {
                if (!f.schema().equals(s) || !f.accepts(argCount)) continue;
                if (seenSignatures.contains(f.argTypes())) continue;
                out.add(f);
                here.add(f.argTypes());
            }
            seenSignatures.addAll(here);
        }
        return out;
    }
}
