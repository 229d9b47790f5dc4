package dev.warden.postgres.catalog;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a statement on one relation also reads or changes without naming it: the base columns under a view, the
 * parents of a partition or inheritance child (whose columns a tag may name), and the relations a write reaches
 * through a view or rule, inheritance and partitions, and foreign keys that cascade. Keyed by {@code schema.name}.
 *
 * @param viewColumns     view to base relation to the base columns its definition uses
 * @param ancestors       child or partition to every parent above it
 * @param writeReaches    relation to every other relation an INSERT, UPDATE or DELETE of it may change
 * @param truncateReaches relation to every other relation {@code TRUNCATE … CASCADE} of it may empty
 */
public record RelationReach(Map<String, Map<String, List<String>>> viewColumns, Map<String, List<String>> ancestors,
                            Map<String, List<String>> writeReaches, Map<String, List<String>> truncateReaches) {
    public static final RelationReach NONE = new RelationReach(Map.of(), Map.of(), Map.of(), Map.of());

    // Relations and columns a view's or rule's expressions use (PostgreSQL records them per column).
    private static final String RULE_DEPENDENCIES = """
            SELECT r.ev_class, d.refobjid, a.attname
            FROM pg_catalog.pg_rewrite r
                 JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
                      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> r.ev_class
                 LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                      AND d.refobjsubid > 0""";
    private static final String INHERITANCE = "SELECT inhrelid, inhparent FROM pg_catalog.pg_inherits";
    // confdeltype/confupdtype: a no action, r restrict, c cascade, n set null, d set default.
    private static final String FOREIGN_KEYS = """
            SELECT conrelid, confrelid, confdeltype IN ('c', 'n', 'd') OR confupdtype IN ('c', 'n', 'd')
            FROM pg_catalog.pg_constraint WHERE contype = 'f'""";

    static RelationReach load(Statement st, Map<Long, String[]> rels) throws SQLException {
        Map<Long, Map<Long, List<String>>> ruleDeps = new HashMap<>();
        try (ResultSet rs = st.executeQuery(RULE_DEPENDENCIES)) {
            while (rs.next()) {
                List<String> cols = ruleDeps.computeIfAbsent(rs.getLong(1), k -> new LinkedHashMap<>())
                        .computeIfAbsent(rs.getLong(2), k -> new ArrayList<>());
                String col = rs.getString(3);
                if (col != null && !cols.contains(col)) cols.add(col);
            }
        }
        Map<Long, List<Long>> parents = new HashMap<>();
        Map<Long, List<Long>> children = new HashMap<>();
        try (ResultSet rs = st.executeQuery(INHERITANCE)) {
            while (rs.next()) {
                parents.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getLong(2));
                children.computeIfAbsent(rs.getLong(2), k -> new ArrayList<>()).add(rs.getLong(1));
            }
        }
        Map<Long, List<Long>> cascades = new HashMap<>();
        Map<Long, List<Long>> referencing = new HashMap<>();
        try (ResultSet rs = st.executeQuery(FOREIGN_KEYS)) {
            while (rs.next()) {
                referencing.computeIfAbsent(rs.getLong(2), k -> new ArrayList<>()).add(rs.getLong(1));
                if (rs.getBoolean(3)) cascades.computeIfAbsent(rs.getLong(2), k -> new ArrayList<>()).add(rs.getLong(1));
            }
        }
        Map<String, Map<String, List<String>>> viewColumns = new HashMap<>();
        Map<String, List<String>> ancestors = new HashMap<>();
        Map<String, List<String>> writes = new HashMap<>();
        Map<String, List<String>> truncates = new HashMap<>();
        Map<Long, List<Long>> ruleTargets = new HashMap<>();
        ruleDeps.forEach((r, m) -> ruleTargets.put(r, new ArrayList<>(m.keySet())));
        for (long rel : rels.keySet()) {
            String name = name(rels, rel);
            Map<Long, List<String>> deps = ruleDeps.getOrDefault(rel, Map.of());
            if (!deps.isEmpty()) {
                Map<String, List<String>> byName = new LinkedHashMap<>();
                deps.forEach((base, cols) -> {
                    if (rels.containsKey(base)) byName.put(name(rels, base), List.copyOf(cols));
                });
                if (!byName.isEmpty()) viewColumns.put(name, Map.copyOf(byName));
            }
            List<String> up = names(rels, closure(rel, parents, Map.of(), Map.of()));
            if (!up.isEmpty()) ancestors.put(name, up);
            // A rule's or auto-updatable view's targets, children and partitions, cascading references, transitively.
            List<String> w = names(rels, closure(rel, children, cascades, ruleTargets));
            if (!w.isEmpty()) writes.put(name, w);
            List<String> t = names(rels, closure(rel, children, referencing, Map.of()));
            if (!t.isEmpty()) truncates.put(name, t);
        }
        return new RelationReach(Map.copyOf(viewColumns), Map.copyOf(ancestors), Map.copyOf(writes), Map.copyOf(truncates));
    }

    /** Everything reachable from {@code start} along any of the edges, without {@code start} itself. */
    @SafeVarargs
    private static Set<Long> closure(long start, Map<Long, List<Long>>... edges) {
        Set<Long> seen = new LinkedHashSet<>();
        Deque<Long> todo = new ArrayDeque<>(List.of(start));
        while (!todo.isEmpty()) {
            long r = todo.pop();
            for (Map<Long, List<Long>> e : edges) {
                for (long next : e.getOrDefault(r, List.of())) {
                    if (next != start && seen.add(next)) todo.push(next);
                }
            }
        }
        return seen;
    }

    private static String name(Map<Long, String[]> rels, long oid) {
        String[] r = rels.get(oid);
        return r[0] + "." + r[1];
    }

    private static List<String> names(Map<Long, String[]> rels, Set<Long> oids) {
        List<String> out = new ArrayList<>();
        for (long o : oids) if (rels.containsKey(o)) out.add(name(rels, o));
        return List.copyOf(out);
    }
}
