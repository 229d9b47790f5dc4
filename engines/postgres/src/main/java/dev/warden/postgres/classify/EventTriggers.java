package dev.warden.postgres.classify;

import dev.warden.core.Access;
import dev.warden.core.Kind;
import dev.warden.core.Statement;

/**
 * Which statements may fire an event trigger: code a superuser attached to DDL ({@code ddl_command_start},
 * {@code ddl_command_end}, {@code sql_drop}, {@code table_rewrite}), which the server runs for a statement that never
 * names it, where Warden cannot see into it. It may move the search path or the role ({@code set_config}), or change
 * how the server reads the next text (standard_conforming_strings).
 */
public final class EventTriggers {
    private EventTriggers() {}

    /**
     * Whether {@code s} may fire one: PostgreSQL's firing matrix (CREATE, ALTER, DROP, COMMENT, GRANT, REVOKE, SECURITY
     * LABEL, IMPORT FOREIGN SCHEMA, REFRESH MATERIALIZED VIEW, SELECT INTO, on temporary objects too), read wide where
     * unsure: every statement that may change the schema, and whatever creates or drops an object.
     */
    public static boolean mayFire(Statement s) {
        // The kind it has once the functions a policy declares readers are counted: a SELECT of one is no DDL.
        Kind k = s.kindIfProven();
        // SET ROLE and SET SESSION AUTHORIZATION (DCL) fire none, and are followed as they are.
        if (k == Kind.DCL && (s.command().startsWith("SET ") || s.command().startsWith("RESET "))) return false;
        if (k.mayChangeSchema()) return true;
        // Not DDL to the policy: a temporary table (CREATE, SELECT INTO), REFRESH MATERIALIZED VIEW (a write).
        if (s.command().equals("REFRESH MATERIALIZED VIEW")) return true;
        for (var o : s.objects()) if (o.access() == Access.DDL) return true;
        return false;
    }
}
