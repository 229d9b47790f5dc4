package dev.warden.postgres.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Rows in scope, from the plan: {@code EXPLAIN (FORMAT JSON, VERBOSE)} of the statement, never {@code ANALYZE},
 * on Warden's own connection, in a read-only transaction with a short statement timeout that is always rolled back;
 * for a read the planner's estimate, for a write a bound the planner's arithmetic cannot be talked under
 * ({@link RowBound}).
 * The planner can evaluate functions while it plans, so the estimate is asked only when every function of the
 * statement is proven pure and nothing it reads expands into user code.
 */
final class RowEstimate {
    /** Commands whose plan says how many rows they return or change. */
    private static final Set<String> ESTIMATED = Set.of("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "VALUES", "TABLE");
    private static final String PREPARED_NAME = "warden_estimate";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RELABELS = "SELECT EXISTS (SELECT FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_cast c"
            + " ON c.castsource = a.atttypid WHERE a.attrelid = pg_catalog.to_regclass(?) AND a.attname = ?"
            + " AND c.casttarget = pg_catalog.to_regtype(?) AND c.castmethod = 'b')";

    /**
     * The relation's columns that have statistics the planner reads (one row each, with its name), then its unique keys
     * on plain columns, without a predicate, enforced at once (one row each, with their columns' names).
     */
    private static final String COLUMNS = "SELECT a.attname::text, NULL::text[]"
            + " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            + " JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid"
            + " WHERE c.oid = pg_catalog.to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped"
            + " AND EXISTS (SELECT FROM pg_catalog.pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname"
            + " AND s.attname = a.attname AND NOT s.inherited)"
            + " UNION ALL SELECT NULL, ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indrelid"
            + " AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1]))"
            + " FROM pg_catalog.pg_index i WHERE i.indrelid = pg_catalog.to_regclass(?) AND i.indisunique AND i.indimmediate"
            + " AND i.indisvalid AND i.indpred IS NULL AND NOT 0 = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1])";

    private RowEstimate() {}

    /** Why no estimate may be asked for this classification, or empty when it may. */
    static Optional<String> refusal(String text, Classification c, CatalogSnapshot snapshot) {
        if (c.statements().size() != 1) return Optional.of("the text holds " + c.statements().size() + " statements");
        Statement s = c.statements().getFirst();
        if (c.kind() != Kind.READ && c.kind() != Kind.WRITE) return Optional.of("the statement is " + c.kind().label());
        if (!s.unproven().isEmpty()) {
            return Optional.of("the planner could run functions not proven pure: " + String.join(", ", s.unproven()));
        }
        // The exact command: SELECT INTO creates a table, which is not a plain read or write of rows.
        String command = s.command().trim().toUpperCase(Locale.ROOT);
        if (!ESTIMATED.contains(command)) return Optional.of("no estimate for " + (command.isEmpty() ? "this statement" : command));
        // WITH d AS (DELETE … RETURNING …) SELECT count(*) FROM d: the plan's top row count is the aggregate's.
        if (command.equals("SELECT") && c.kind() != Kind.READ) {
            return Optional.of("a SELECT that writes (a data-modifying WITH): its plan's row count is not the rows it changes");
        }
        if (s.objects().stream().filter(o -> o.access() != dev.warden.core.Access.READ).count() > 1) {
            return Optional.of("the write reaches more than one relation (a view or rule, inheritance, cascading foreign"
                    + " keys): the plan's row count is not the rows it changes");
        }
        for (var o : s.objects()) {
            var r = snapshot.relation(o.name());
            if (r.isPresent() && r.get().runsUserCode()) {
                return Optional.of(o.name() + " expands into user code while it is planned");
            }
            if (r.isPresent() && r.get().writesRunUserCode() && o.access() != dev.warden.core.Access.READ) {
                return Optional.of("writing " + o.name() + " runs user code (a trigger, default or check)");
            }
        }
        // The driver splits texts at ';' by its own reading of the quotes; with none left, exactly one statement
        // reaches the server, which refuses more than one in a prepared statement anyway.
        if (body(text).indexOf(';') >= 0) return Optional.of("the text contains ';' inside the statement");
        return Optional.empty();
    }

    /** The statement without trailing semicolons and white space. */
    static String body(String text) {
        int end = text.length();
        while (end > 0 && (Character.isWhitespace(text.charAt(end - 1)) || text.charAt(end - 1) == ';')) end--;
        return text.substring(0, end);
    }

    /**
     * Plans the statement. The caller holds the connection exclusively; it is left outside any transaction.
     *
     * @throws SQLException when the server refuses (then the estimate is unavailable)
     */
    static RowBound.Bound explain(Connection conn, String text, List<String> parameters, List<String> searchPath,
                        Duration timeout) throws SQLException {
        String body = body(text);
        boolean prepared = false;
        try (java.sql.Statement st = conn.createStatement()) {
            // One round trip: read-only (the connection's default too), a short timeout, and names resolved as they
            // would be in the agent's session; all local to this transaction.
            try (var set = conn.prepareStatement("SELECT pg_catalog.set_config('transaction_read_only', 'on', true),"
                    + " pg_catalog.set_config('statement_timeout', ?, true), pg_catalog.set_config('search_path', ?, true)")) {
                set.setString(1, Long.toString(Math.max(1, timeout.toMillis())));
                set.setString(2, SearchPath.render(searchPath));
                set.executeQuery().close();
            }
            // The driver must not rewrite JDBC escapes such as {fn ...} inside the agent's text.
            st.setEscapeProcessing(false);
            String explain;
            if (parameters.isEmpty()) {
                explain = "EXPLAIN (FORMAT JSON, VERBOSE) " + body;
            } else {
                st.execute("PREPARE " + PREPARED_NAME + " AS " + body);
                prepared = true;
                StringBuilder args = new StringBuilder();
                for (String p : parameters) {
                    if (!args.isEmpty()) args.append(", ");
                    args.append(p == null ? "NULL" : literal(p));
                }
                explain = "EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE " + PREPARED_NAME + "(" + args + ")";
            }
            return RowBound.of(plan(st, explain), new Server(conn, st));
        } finally {
            conn.rollback();
            // Prepared statements outlive the transaction.
            if (prepared) {
                try (java.sql.Statement st = conn.createStatement()) {
                    st.execute("DEALLOCATE " + PREPARED_NAME);
                } finally {
                    conn.rollback();
                }
            }
        }
    }

    /**
     * A parameter value as an untyped literal, so it takes the type the server inferred for the parameter, as a
     * bound value does. Every character is a Unicode escape: the literal holds no quote, semicolon or anything
     * else a lexer could disagree about, and EXPLAIN EXECUTE evaluates its arguments, so nothing may leak out.
     */
    static String literal(String value) {
        StringBuilder b = new StringBuilder(value.length() * 6 + 4).append("U&'");
        value.codePoints().forEach(cp -> b.append(cp <= 0xFFFF ? String.format("\\%04X", cp) : String.format("\\+%06X", cp)));
        return b.append('\'').toString();
    }

    /** What the bound asks, on the estimate's connection and in its read-only transaction. */
    private record Server(Connection conn, java.sql.Statement st) implements RowBound.Planner {
        @Override
        public long rows(String sql) throws SQLException {
            return RowBound.planRows(plan(st, "EXPLAIN (FORMAT JSON) " + sql).path("Plan"));
        }

        @Override
        public boolean relabels(String relation, String column, String type) throws SQLException {
            try (var q = conn.prepareStatement(RELABELS)) {
                q.setString(1, relation);
                q.setString(2, column);
                q.setString(3, type);
                try (ResultSet rs = q.executeQuery()) {
                    return rs.next() && rs.getBoolean(1);
                }
            }
        }

        @Override
        public RowBound.Columns columns(String relation) throws SQLException {
            Set<String> analyzed = new java.util.HashSet<>();
            List<Set<String>> keys = new java.util.ArrayList<>();
            try (var q = conn.prepareStatement(COLUMNS)) {
                q.setString(1, relation);
                q.setString(2, relation);
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        if (rs.getString(1) != null) analyzed.add(rs.getString(1));
                        else keys.add(Set.of((String[]) rs.getArray(2).getArray()));
                    }
                }
            }
            return new RowBound.Columns(analyzed, keys);
        }
    }

    /** The first element of an EXPLAIN (FORMAT JSON) output. */
    private static JsonNode plan(java.sql.Statement st, String explain) throws SQLException {
        try (ResultSet rs = st.executeQuery(explain)) {
            if (!rs.next()) throw new SQLException("EXPLAIN returned no plan");
            return JSON.readTree(rs.getString(1)).path(0);
        } catch (IOException e) {
            throw new SQLException("EXPLAIN output is not JSON: " + e.getMessage());
        }
    }
}
