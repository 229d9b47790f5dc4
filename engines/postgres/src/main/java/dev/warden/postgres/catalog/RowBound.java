package dev.warden.postgres.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The rows a write may change, read from its plan ({@code EXPLAIN (FORMAT JSON, VERBOSE)}) where the planner's own
 * figure could be talked down. The planner multiplies the selectivities of a WHERE clause's conditions as if they
 * were independent, and gives a condition it has no statistics for a fixed one (0.5 % for an equality): {@code DELETE
 * FROM t WHERE (id % 1) = 0 AND (x % 1) = 0} is planned at 0.0025 % of {@code t} and deletes all of it, a bulk write
 * that would pass under a {@code rows_over} rule. So the bound trusts only what column statistics answer, one column
 * at a time: for a write that scans one relation, the smallest of the planner's estimates for the conditions on each
 * single column compared with constants (no row can meet all conditions without meeting those of each column), where
 * the column has statistics or the condition is an equality on a unique column (else the estimate is a guess); one
 * row for equalities on every column of a unique key; with no such condition, or a plan of any other shape (a join, a
 * subquery), every row of the relation written. An INSERT is bounded by its VALUES, or by the one relation it selects
 * from; a MERGE has no bound.
 *
 * <p>Reads keep the planner's estimate: it is not a bound (see the README).
 */
final class RowBound {
    /** What the bound asks the server, on the estimate's connection and transaction. */
    interface Planner {
        /** Plans a statement of Warden's own ({@code SELECT FROM …}) and returns its top node's estimate. */
        long rows(String sql) throws SQLException;

        /**
         * Whether the column's type converts to {@code type} by a binary-coercible cast (varchar to text), which the
         * planner looks through to the column's statistics; any other cast (integer to text) is an expression it has
         * none for.
         */
        boolean relabels(String relation, String column, String type) throws SQLException;

        /** What the server knows of the relation's columns (named unquoted). */
        Columns columns(String relation) throws SQLException;
    }

    /**
     * The columns that have statistics (without them the planner's selectivity is a fixed guess), and the column sets
     * of the relation's unique keys (equalities on all of one hold one row, with or without statistics).
     */
    record Columns(Set<String> analyzed, List<Set<String>> uniqueKeys) {
        boolean estimates(Simple simple) {
            return analyzed.contains(simple.name()) || simple.equality() && uniqueKeys.contains(Set.of(simple.name()));
        }

        /** A unique key every column of which {@code equal} holds to one value, or null. */
        Set<String> keyOf(Set<String> equal) {
            for (Set<String> key : uniqueKeys) if (equal.containsAll(key)) return key;
            return null;
        }
    }

    /**
     * Rows in scope, and what they rest on where that is not the plan's own figure for the statement (null): shown to
     * the person deciding with the estimate.
     */
    record Bound(long rows, String basis) {}

    private RowBound() {}

    /** The bound for the plan {@code top} (the output's first element); the planner's estimate for a read. */
    static Bound of(JsonNode top, Planner planner) throws SQLException {
        JsonNode plan = top.path("Plan");
        if (!"ModifyTable".equals(plan.path("Node Type").asText())) return planned(plan);
        String operation = plan.path("Operation").asText();
        JsonNode fed = null;
        for (JsonNode child : plan.path("Plans")) {
            if ("Outer".equals(child.path("Parent Relationship").asText())) fed = child;
            // An InitPlan or SubPlan of the modification itself: its rows are not the fed scan's.
            else return unbounded(operation, plan, planner, "a subquery");
        }
        if (fed == null) throw new SQLException("the plan of the " + operation + " has no input");
        String why = nested(fed);
        if (why != null) return unbounded(operation, plan, planner, why);
        return switch (operation) {
            case "Insert" -> switch (fed.path("Node Type").asText()) {
                // INSERT … VALUES: exactly its rows.
                case "Values Scan", "Result" -> fed.has("Filter") || fed.has("One-Time Filter") ? unbounded(operation, plan, planner, "a filter")
                        : planned(fed);
                default -> scan(fed, planner, operation, plan);
            };
            case "Update", "Delete" -> scan(fed, planner, operation, plan);
            default -> unbounded(operation, plan, planner, "a " + operation.toUpperCase(java.util.Locale.ROOT));
        };
    }

    /** The bound of one scan of a relation, or of the written relation (an INSERT: none) for any other node. */
    private static Bound scan(JsonNode node, Planner planner, String operation, JsonNode modify) throws SQLException {
        String type = node.path("Node Type").asText();
        List<String> conditions = new ArrayList<>();
        switch (type) {
            case "Seq Scan" -> conditions.add(node.path("Filter").asText(null));
            case "Index Scan", "Index Only Scan" -> {
                conditions.add(node.path("Index Cond").asText(null));
                conditions.add(node.path("Filter").asText(null));
            }
            case "Bitmap Heap Scan" -> {
                // One index (BitmapAnd and BitmapOr combine conditions as the planner multiplies them): its conditions
                // are the Recheck Cond.
                JsonNode children = node.path("Plans");
                if (children.size() != 1 || !"Bitmap Index Scan".equals(children.get(0).path("Node Type").asText())) {
                    return unbounded(operation, modify, planner, "conditions on several indexes");
                }
                conditions.add(node.path("Recheck Cond").asText(null));
                conditions.add(node.path("Filter").asText(null));
            }
            default -> {
                return unbounded(operation, modify, planner, "a plan node " + type);
            }
        }
        String relation = relation(node, true);
        conditions.removeIf(java.util.Objects::isNull);
        // An index scan of a relation it does not write (an INSERT's source) leaves out the conditions the partial
        // index's predicate implies (the written relation keeps them, for rechecks), and its figure still multiplies
        // their selectivities: only what it shows counts, each column planned on its own.
        boolean showsAll = !operation.equals("Insert") || type.equals("Seq Scan") || type.equals("Bitmap Heap Scan");
        // No WHERE: every row, which is what the planner estimates for the scan.
        if (conditions.isEmpty()) return showsAll ? planned(node) : everyRow(planner, node, "an index scan that may leave conditions out");
        Map<String, List<String>> byColumn = new LinkedHashMap<>();
        Set<String> equal = new java.util.HashSet<>();
        boolean allSimple = true;
        Columns columns = null;
        for (String condition : conditions) {
            for (String conjunct : conjuncts(condition)) {
                Simple simple = simple(conjunct);
                if (simple != null && columns == null) columns = planner.columns(relation(node, false));
                boolean comparable = simple != null
                        && (simple.castTo() == null || planner.relabels(relation(node, false), simple.name(), simple.castTo()));
                if (comparable && simple.single()) equal.add(simple.name());
                if (comparable && columns.estimates(simple)) {
                    byColumn.computeIfAbsent(simple.column(), k -> new ArrayList<>()).add(conjunct);
                } else {
                    allSimple = false;
                }
            }
        }
        Set<String> key = columns == null ? null : columns.keyOf(equal);
        if (key != null) return new Bound(1, "one row: an equality on every column of the unique key (" + String.join(", ", key) + ")");
        if (byColumn.isEmpty()) return everyRow(planner, node, "no condition compares a column with statistics to constants");
        // Conditions on one column alone (WHERE id = 5): the plan's own figure is that column's, without a round trip.
        if (showsAll && allSimple && byColumn.size() == 1) return planned(node);
        long bound = Long.MAX_VALUE;
        String by = null;
        for (Map.Entry<String, List<String>> same : byColumn.entrySet()) {
            long rows = planner.rows("SELECT FROM " + relation + " WHERE " + String.join(" AND ", same.getValue()));
            if (rows < bound) {
                bound = rows;
                by = same.getKey();
            }
        }
        return new Bound(bound, "the conditions on " + by + " alone (the planner's figure for all of them multiplies"
                + " their selectivities as if they were independent)");
    }

    private static Bound planned(JsonNode node) throws SQLException {
        return new Bound(planRows(node), null);
    }

    /** Every row of the relation {@code node} scans or writes. */
    private static Bound everyRow(Planner planner, JsonNode node, String why) throws SQLException {
        return new Bound(planner.rows("SELECT FROM " + relation(node, true)), "every row of " + relation(node, false) + ": " + why);
    }

    /** Without a bound from the plan: every row of the relation an UPDATE or DELETE writes; none for others. */
    private static Bound unbounded(String operation, JsonNode modify, Planner planner, String why) throws SQLException {
        if (!operation.equals("Update") && !operation.equals("Delete")) {
            throw new SQLException("no bound on the rows of this " + operation.toUpperCase(java.util.Locale.ROOT)
                    + " (its plan has " + why + ")");
        }
        return everyRow(planner, modify, "its plan has " + why);
    }

    /** Why a node's subtree is not one relation's plain scan: a subquery in it; null when there is none. */
    private static String nested(JsonNode node) {
        for (JsonNode child : node.path("Plans")) {
            String rel = child.path("Parent Relationship").asText();
            if (rel.equals("InitPlan") || rel.equals("SubPlan")) return "a subquery";
            String deeper = nested(child);
            if (deeper != null) return deeper;
        }
        return null;
    }

    /**
     * {@code "schema"."name"} of a node that scans or writes a relation, as the VERBOSE plan names it, with {@code AS
     * "alias"} when {@code aliased}.
     */
    private static String relation(JsonNode node, boolean aliased) throws SQLException {
        String schema = node.path("Schema").asText(null);
        String name = node.path("Relation Name").asText(null);
        if (schema == null || name == null) throw new SQLException("the plan does not name the relation");
        return quote(schema) + "." + quote(name) + (aliased ? " AS " + quote(node.path("Alias").asText(name)) : "");
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    static long planRows(JsonNode node) throws SQLException {
        JsonNode rows = node.path("Plan Rows");
        if (!rows.isNumber()) throw new SQLException("EXPLAIN output has no row estimate");
        return (long) Math.ceil(rows.asDouble());
    }

    // ---- the planner's own spelling of conditions (ruleutils.c): fully parenthesized, columns qualified by alias

    private static final String IDENT = "(?:[a-z_][a-z0-9_$]*|\"(?:[^\"]|\"\")+\")";
    private static final String TYPE = "(?:[A-Za-z_][A-Za-z0-9_ .\"]*(?:\\(\\d+(?:,\\d+)?\\))?(?:\\[\\])?)";
    private static final String CONSTANT = "(?:'(?:[^']|'')*'|-?\\d+(?:\\.\\d+)?)(?:::" + TYPE + ")*";
    /**
     * A column (perhaps cast) compared with a constant by a built-in comparison, {@code = ANY} of a constant array, or
     * tested for NULL: what column statistics estimate. Anything else (an expression, another column, a parameter, a
     * pattern) has no statistics behind it.
     */
    private static final Pattern SIMPLE = Pattern.compile("\\((?:(" + IDENT + ")\\.(" + IDENT + ")|\\((" + IDENT + ")\\.(" + IDENT + ")\\)::(" + TYPE + "))"
            + "(?: (=|<>|<|>|<=|>=) (?:" + CONSTANT + "|ANY \\(" + CONSTANT + "\\))| IS (?:NOT )?NULL)\\)");

    /**
     * A conjunct that compares one column with constants: {@code column} as the plan qualifies it (the key that
     * groups conditions on the same column), {@code name} unquoted, {@code castTo} the type it is cast to, or null;
     * {@code equality} for {@code =} and {@code = ANY}, {@code single} for {@code =} with one value.
     */
    record Simple(String column, String name, String castTo, boolean equality, boolean single) {}

    /** The conjunct as a column compared with constants, or null. */
    static Simple simple(String conjunct) {
        var m = SIMPLE.matcher(conjunct);
        if (!m.matches()) return null;
        boolean equality = "=".equals(m.group(6));
        boolean single = equality && !conjunct.contains(" = ANY (");
        return m.group(1) != null ? new Simple(m.group(1) + "." + m.group(2), unquote(m.group(2)), null, equality, single)
                : new Simple(m.group(3) + "." + m.group(4), unquote(m.group(4)), m.group(5), equality, single);
    }

    private static String unquote(String ident) {
        return ident.startsWith("\"") ? ident.substring(1, ident.length() - 1).replace("\"\"", "\"") : ident;
    }

    /** The conjuncts of a condition: its top-level AND split, each with its parentheses. */
    static List<String> conjuncts(String condition) {
        String c = condition.strip();
        List<String> inside = c.length() > 1 && c.startsWith("(") && c.endsWith(")") ? topLevelAnd(c.substring(1, c.length() - 1)) : null;
        return inside == null || inside.size() < 2 ? List.of(c) : inside;
    }

    /**
     * The text split at {@code AND} outside parentheses and quotes; null when a parenthesis closes one it did not
     * open (the outer pair did not enclose the whole condition).
     */
    private static List<String> topLevelAnd(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (quote != 0) {
                // A doubled quote closes and reopens: the same as staying inside.
                if (ch == quote) quote = 0;
            } else if (ch == '\'' || ch == '"') {
                quote = ch;
            } else if (ch == '(') {
                depth++;
            } else if (ch == ')' && --depth < 0) {
                return null;
            } else if (depth == 0 && s.startsWith(" AND ", i)) {
                out.add(s.substring(start, i));
                start = i + 5;
                i += 4;
            }
        }
        out.add(s.substring(start));
        return out;
    }
}
