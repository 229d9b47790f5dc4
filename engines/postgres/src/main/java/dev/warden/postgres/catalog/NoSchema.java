package dev.warden.postgres.catalog;

import java.util.List;
import java.util.Optional;

/**
 * Knows no relation, column or function: every function is unproven. Unqualified relation names resolve to the
 * first real schema of the search path, as the offline contract of {@link SchemaInfo} says.
 */
public final class NoSchema implements SchemaInfo {
    public static final NoSchema INSTANCE = new NoSchema();

    private NoSchema() {}

    @Override
    public Optional<String> relation(List<String> searchPath, String schema, String name) {
        if (schema != null) return Optional.of(schema + "." + name);
        for (String s : searchPath == null ? List.<String>of() : searchPath) {
            if (!s.equals("$user") && !s.equals("pg_catalog") && !s.startsWith("pg_temp")) return Optional.of(s + "." + name);
        }
        return Optional.empty();
    }

    @Override
    public Optional<List<String>> columns(String qualifiedRelation) {
        return Optional.empty();
    }

    @Override
    public List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount) {
        return List.of();
    }

    @Override
    public boolean live() {
        return false;
    }
}
