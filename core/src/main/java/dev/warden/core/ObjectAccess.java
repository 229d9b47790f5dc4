package dev.warden.core;

import java.util.List;

/**
 * One object a statement touches: {@code schema.table} for SQL engines, {@code db.collection} for MongoDB,
 * with the columns read or written (bare column names; empty when none are known).
 */
public record ObjectAccess(String name, Access access, List<String> columns) {
    public ObjectAccess {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("object name is empty");
        if (access == null) throw new IllegalArgumentException("access is null");
        columns = List.copyOf(columns);
    }

    public static ObjectAccess of(String name, Access access) {
        return new ObjectAccess(name, access, List.of());
    }
}
