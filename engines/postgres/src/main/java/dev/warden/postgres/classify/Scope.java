package dev.warden.postgres.classify;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The names visible at one level of a query: relations of its FROM clause (by alias), derived tables, and the
 * common table expressions in scope. Column references are attributed through it.
 */
final class Scope {
    /** Marks an alias that names a derived table, a function or a CTE: its columns belong to no catalog object. */
    static final String DERIVED = "";

    final Scope parent;
    /** alias (or bare relation name) to qualified object name, or {@link #DERIVED}. */
    final Map<String, String> aliases = new HashMap<>();
    /** Catalog objects in this scope, in FROM order. */
    final List<String> objects = new ArrayList<>();
    final Set<String> ctes = new HashSet<>();
    boolean hasDerived;
    /**
     * Column aliases of a FROM item ({@code FROM t AS x(a, b)}): alias to visible name to the catalog column it
     * stands for, by position. The visible name is all the statement shows, so without it {@code x.a} would be
     * judged as t's column {@code a}, or as no column, rather than the one PostgreSQL reads.
     */
    final Map<String, Map<String, String>> renamedByAlias = new HashMap<>();
    /** The same per catalog object, for unqualified names (two aliases of one table may rename differently). */
    final Map<String, Map<String, Set<String>>> renamedByObject = new HashMap<>();

    Scope(Scope parent) {
        this.parent = parent;
    }

    boolean isCte(String name) {
        for (Scope s = this; s != null; s = s.parent) if (s.ctes.contains(name)) return true;
        return false;
    }

    void add(String alias, String qualified) {
        aliases.put(alias, qualified);
        if (!objects.contains(qualified)) objects.add(qualified);
    }

    void rename(String alias, String qualified, Map<String, String> visibleToReal) {
        renamedByAlias.put(alias, Map.copyOf(visibleToReal));
        Map<String, Set<String>> byName = renamedByObject.computeIfAbsent(qualified, k -> new HashMap<>());
        visibleToReal.forEach((visible, real) -> byName.computeIfAbsent(visible, k -> new HashSet<>()).add(real));
    }

    /** The catalog column that {@code alias.column} reads: itself unless the alias renamed it. */
    String realColumn(String alias, String column) {
        for (Scope s = this; s != null; s = s.parent) {
            if (s.aliases.containsKey(alias)) return s.renamedByAlias.getOrDefault(alias, Map.of()).getOrDefault(column, column);
        }
        return column;
    }

    /** The catalog columns an unqualified name may read in {@code qualified} through a column alias of this scope. */
    Set<String> renamedColumns(String qualified, String column) {
        return renamedByObject.getOrDefault(qualified, Map.of()).getOrDefault(column, Set.of());
    }

    void derived(String alias) {
        if (alias != null) aliases.put(alias, DERIVED);
        hasDerived = true;
    }

    /** The object an alias names, searching outwards; {@link #DERIVED} for derived tables; null when not found. */
    String alias(String name) {
        for (Scope s = this; s != null; s = s.parent) {
            String q = s.aliases.get(name);
            if (q != null) return q;
        }
        return null;
    }

    /** Catalog objects inside an aliased join ({@code (a JOIN b) AS j}), whose columns {@code j.c} may name. */
    final Map<String, List<String>> joins = new HashMap<>();

    /** The catalog objects inside the join named {@code alias}, searching outwards; null when it names none. */
    List<String> join(String alias) {
        for (Scope s = this; s != null; s = s.parent) {
            if (s.aliases.containsKey(alias)) return s.joins.get(alias);
        }
        return null;
    }

    /** Whether a FROM item of this scope or an outer one is {@code qualified}. */
    boolean reaches(String qualified) {
        for (Scope s = this; s != null; s = s.parent) if (s.objects.contains(qualified)) return true;
        return false;
    }

    /** The innermost scope that has any FROM item, or null. */
    Scope nearestWithItems() {
        for (Scope s = this; s != null; s = s.parent) if (!s.objects.isEmpty() || s.hasDerived) return s;
        return null;
    }
}
