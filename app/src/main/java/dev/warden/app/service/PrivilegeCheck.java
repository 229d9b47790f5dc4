package dev.warden.app.service;

import dev.warden.core.Action;
import dev.warden.core.Gate;
import dev.warden.core.Operation;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.engine.QueryResult;
import dev.warden.core.engine.UpstreamSession;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The least-privilege check at start (PostgreSQL): what the upstream role can change — tables it may write or owns,
 * sequences it may set or owns, {@code SECURITY DEFINER} functions it may call (they run with their owner's
 * privileges), schemas it may create in, the database if it may create schemas — that no rule of the policy would
 * ever let an agent of that database do. Each privilege is
 * put to the gate as the statement that would use it ({@code DELETE FROM t}, {@code DROP TABLE t}…), classified and
 * decided as any statement is (without a row estimate, so a {@code rows_over} rule counts as matching); a privilege
 * whose statements every agent would be denied is more than Warden needs. Warden stays the first fence either way:
 * the check says where the database could be the second one too.
 */
final class PrivilegeCheck {
    private static final int MAX_TABLES = 2000;
    private static final String TABLES = """
            SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                   has_table_privilege(c.oid, 'INSERT'), has_table_privilege(c.oid, 'UPDATE'),
                   has_table_privilege(c.oid, 'DELETE'), has_table_privilege(c.oid, 'TRUNCATE'),
                   pg_has_role(c.relowner, 'USAGE'),
                   (SELECT quote_ident(a.attname) FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum LIMIT 1)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'f')
               AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
               AND (has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') OR pg_has_role(c.relowner, 'USAGE'))
             ORDER BY 1 LIMIT""" + " " + MAX_TABLES;
    private static final String SEQUENCES = """
            SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                   has_sequence_privilege(c.oid, 'UPDATE'), pg_has_role(c.relowner, 'USAGE')
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'S' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
               AND (has_sequence_privilege(c.oid, 'UPDATE') OR pg_has_role(c.relowner, 'USAGE'))
             ORDER BY 1 LIMIT""" + " " + MAX_TABLES;
    // Only SECURITY DEFINER ones: any other function runs with the role's own privileges, which the rest covers.
    private static final String DEFINER_FUNCTIONS = """
            SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname), p.prokind = 'p',
                   coalesce((SELECT string_agg('NULL::' || format_type(t, NULL), ', ' ORDER BY i)
                               FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, i)), ''),
                   p.oid::regprocedure::text
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE p.prosecdef AND p.prokind IN ('f', 'p')
               AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
               AND has_function_privilege(p.oid, 'EXECUTE')
             ORDER BY 1 LIMIT""" + " " + MAX_TABLES;
    private static final String SCHEMAS = """
            SELECT quote_ident(nspname) FROM pg_namespace
             WHERE has_schema_privilege(oid, 'CREATE') AND nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%'
             ORDER BY 1""";

    /** A privilege, in words, and the statement that would use it. */
    record Probe(String privilege, String statement) {}

    private PrivilegeCheck() {}

    /** The statements that would use what the role can change. */
    static List<Probe> probes(UpstreamSession s) throws IOException, UpstreamSession.UpstreamException {
        List<Probe> out = new ArrayList<>();
        QueryResult tables = s.run(TABLES, true, MAX_TABLES, 1 << 24);
        for (List<String> r : tables.rows()) {
            String t = r.get(0);
            if (yes(r.get(1))) out.add(new Probe("INSERT on " + t, "INSERT INTO " + t + " DEFAULT VALUES"));
            if (yes(r.get(2)) && r.get(6) != null) {
                out.add(new Probe("UPDATE on " + t, "UPDATE " + t + " SET " + r.get(6) + " = " + r.get(6)));
            }
            if (yes(r.get(3))) out.add(new Probe("DELETE on " + t, "DELETE FROM " + t));
            if (yes(r.get(4))) out.add(new Probe("TRUNCATE on " + t, "TRUNCATE " + t));
            if (yes(r.get(5))) out.add(new Probe("ownership of " + t + " (ALTER, DROP)", "DROP TABLE " + t));
        }
        for (List<String> r : s.run(SEQUENCES, true, MAX_TABLES, 1 << 24).rows()) {
            String q = r.get(0);
            if (yes(r.get(1))) out.add(new Probe("UPDATE on sequence " + q + " (setval)", "SELECT setval('" + q.replace("'", "''") + "', 1)"));
            if (yes(r.get(2))) out.add(new Probe("ownership of sequence " + q + " (ALTER, DROP)", "DROP SEQUENCE " + q));
        }
        for (List<String> r : s.run(DEFINER_FUNCTIONS, true, MAX_TABLES, 1 << 24).rows()) {
            String call = r.get(0) + "(" + r.get(2) + ")";
            out.add(new Probe("EXECUTE on SECURITY DEFINER " + (yes(r.get(1)) ? "procedure " : "function ") + r.get(3),
                    yes(r.get(1)) ? "CALL " + call : "SELECT " + call));
        }
        for (List<String> r : s.run(SCHEMAS, true, 1000, 1 << 20).rows()) {
            out.add(new Probe("CREATE in schema " + r.get(0), "CREATE TABLE " + r.get(0) + ".warden_privilege_probe (x int)"));
        }
        List<List<String>> db = s.run("SELECT has_database_privilege(current_database(), 'CREATE')", true, 1, 1 << 10).rows();
        if (!db.isEmpty() && yes(db.getFirst().getFirst())) {
            out.add(new Probe("CREATE on the database (new schemas)", "CREATE SCHEMA warden_privilege_probe"));
        }
        return out;
    }

    /** The privileges no agent of {@code db} could ever use under the gate's policy. */
    static List<String> unused(List<Probe> probes, Gate gate, DatabaseConfig db, List<AgentConfig> agents) {
        List<String> unused = new ArrayList<>();
        for (Probe p : probes) {
            boolean used = false;
            for (AgentConfig a : agents) {
                if (!a.mayUse(db.name())) continue;
                Operation op = new Operation(a.name(), db.name(), db.engine(), p.statement(), List.of(), null,
                        "warden-start", null, null);
                if (gate.preview(op, gate.classify(op, ClassifyContext.defaults())).action() != Action.DENY) {
                    used = true;
                    break;
                }
            }
            if (!used) unused.add(p.privilege());
        }
        return unused;
    }

    private static boolean yes(String v) {
        return "t".equals(v);
    }
}
