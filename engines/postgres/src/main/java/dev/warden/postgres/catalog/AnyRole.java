package dev.warden.postgres.catalog;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * Answers for a session whose role is not known: {@code "$user"} in a search path may stand for the schema of any role
 * the user may become, or for none. A lookup the path decides (an unqualified relation, function or operator) is
 * asked for each of them: where all agree, that is the answer (functions: every one any of them may reach); where they
 * do not, the answer depends on the role, which {@link #dependsOnRole()} says, and the classifier proves nothing from
 * it. Names written with their schema, and what names no path (types, casts, what relations run), are the catalog's.
 */
public final class AnyRole implements SchemaInfo {
    private final SchemaInfo catalog;
    private final List<SchemaInfo> roles = new ArrayList<>();
    private boolean depends;

    /** Over {@code catalog} (a {@linkplain SchemaInfo#pin() pinned} source). */
    public AnyRole(SchemaInfo catalog) {
        this.catalog = catalog;
        roles.add(catalog.actingAs(""));  // a role with no schema of its name: "$user" names nothing
        for (String schema : catalog.roleSchemas()) roles.add(catalog.actingAs(schema));
    }

    /** Whether an answer given so far depended on the role. */
    public boolean dependsOnRole() {
        return depends;
    }

    private static boolean byRole(List<String> searchPath, String schema) {
        return schema == null && searchPath != null && searchPath.contains("$user");
    }

    @Override
    public Optional<String> relation(List<String> searchPath, String schema, String name) {
        if (!byRole(searchPath, schema)) return catalog.relation(searchPath, schema, name);
        Optional<String> first = roles.getFirst().relation(searchPath, null, name);
        for (SchemaInfo r : roles) depends |= !r.relation(searchPath, null, name).equals(first);
        return first;
    }

    @Override
    public List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount) {
        if (!byRole(searchPath, schema)) return catalog.functions(searchPath, schema, name, argCount);
        LinkedHashSet<FunctionInfo> all = new LinkedHashSet<>();
        for (SchemaInfo r : roles) all.addAll(r.functions(searchPath, null, name, argCount));
        return List.copyOf(all);
    }

    @Override
    public String creationSchema(List<String> searchPath) {
        if (!byRole(searchPath, null)) return catalog.creationSchema(searchPath);
        String first = roles.getFirst().creationSchema(searchPath);
        for (SchemaInfo r : roles) depends |= !r.creationSchema(searchPath).equals(first);
        return first;
    }

    @Override
    public boolean builtInOperator(List<String> searchPath, String schema, String symbol) {
        if (!byRole(searchPath, schema)) return catalog.builtInOperator(searchPath, schema, symbol);
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
