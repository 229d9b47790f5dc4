package dev.warden.postgres.catalog;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * Answers for a session that acts as a role other than the user whose catalog was read: a role it is known to act as,
 * or any role it may act as when which is not known. {@code "$user"} in a search path stands for that role's schema
 * (for an unknown role, the schema of any role the user may become, or none), and the role's schema privileges were
 * not read: PostgreSQL leaves a schema the role may not use out of its search. A lookup the path decides (an
 * unqualified relation, function or operator, an unqualified creation) is asked for each role: where all agree (a
 * role that finds no such relation is left out) and, for a relation, no other schema of the path could be the answer
 * for a role whose privileges were not read, that is the answer (functions: every one any of them may reach,
 * in every schema of the path); otherwise the answer depends on the role, which {@link #dependsOnRole()} says, and
 * the classifier proves nothing from it. Names written with their schema, and what names no path (types, casts, what
 * relations run), are the catalog's.
 */
public final class AnyRole implements SchemaInfo {
    private final SchemaInfo catalog;
    private final List<SchemaInfo> roles = new ArrayList<>();
    private boolean depends;
    private boolean byPrivileges;

    /** Over {@code catalog} (a {@linkplain SchemaInfo#pin() pinned} source), for a session whose role is not known. */
    public AnyRole(SchemaInfo catalog) {
        this.catalog = catalog;
        roles.add(catalog.actingAs(""));  // a role with no schema of its name: "$user" names nothing
        for (String schema : catalog.roleSchemas()) roles.add(catalog.actingAs(schema));
    }

    private AnyRole(SchemaInfo catalog, SchemaInfo acting) {
        this.catalog = catalog;
        roles.add(acting);
    }

    /**
     * For a session known to act as {@code role}: {@code null} when that is the user the catalog was read as (its
     * answers are the catalog's own).
     */
    public static AnyRole actingAs(SchemaInfo catalog, String role) {
        SchemaInfo acting = catalog.actingAs(role);
        return acting == catalog ? null : new AnyRole(catalog, acting);
    }

    /** Whether an answer given so far depended on the role. */
    public boolean dependsOnRole() {
        return depends;
    }

    /** Whether it did because of schema privileges that were not read (not only because of {@code "$user"}). */
    public boolean dependsOnPrivileges() {
        return byPrivileges;
    }

    private void unread(SchemaInfo r, List<String> searchPath, String name) {
        if (r.resolvedByUnreadPrivileges(searchPath, name)) {
            depends = true;
            byPrivileges = true;
        }
    }

    /**
     * A role that finds no relation of that name is left out: the server refuses the statement for it ("does not
     * exist"), which runs nothing.
     */
    @Override
    public Optional<String> relation(List<String> searchPath, String schema, String name) {
        if (schema != null) return catalog.relation(searchPath, schema, name);
        Optional<String> found = Optional.empty();
        for (SchemaInfo r : roles) {
            Optional<String> answer = r.relation(searchPath, null, name);
            if (answer.isEmpty()) continue;
            if (found.isEmpty()) found = answer;
            else depends |= !answer.equals(found);
            unread(r, searchPath, name);
        }
        return found;
    }

    @Override
    public String creationSchema(List<String> searchPath) {
        String first = roles.getFirst().creationSchema(searchPath);
        for (SchemaInfo r : roles) depends |= !r.creationSchema(searchPath).equals(first);
        return first;
    }

    @Override
    public List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount) {
        if (schema != null) return catalog.functions(searchPath, schema, name, argCount);
        LinkedHashSet<FunctionInfo> all = new LinkedHashSet<>();
        for (SchemaInfo r : roles) all.addAll(r.functions(searchPath, null, name, argCount));
        return List.copyOf(all);
    }

    @Override
    public boolean builtInOperator(List<String> searchPath, String schema, String symbol) {
        if (schema != null) return catalog.builtInOperator(searchPath, schema, symbol);
        for (SchemaInfo r : roles) if (!r.builtInOperator(searchPath, null, symbol)) return false;
        return true;
    }

    @Override
    public Optional<List<String>> columns(String qualifiedRelation) {
        return catalog.columns(qualifiedRelation);
    }

    @Override
    public boolean live() {
        return catalog.live();
    }

    @Override
    public Optional<String> unavailable() {
        return catalog.unavailable();
    }

    @Override
    public boolean readRunsUserCode(String qualifiedRelation) {
        return catalog.readRunsUserCode(qualifiedRelation);
    }

    @Override
    public RelationReach reach() {
        return catalog.reach();
    }

    @Override
    public ImplicitCode implicitCode() {
        return catalog.implicitCode();
    }

    @Override
    public boolean castRunsUserCode(String typeName) {
        return catalog.castRunsUserCode(typeName);
    }

    @Override
    public java.util.Set<String> roleSchemas() {
        return catalog.roleSchemas();
    }
}
