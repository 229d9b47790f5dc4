package dev.warden.postgres.catalog;

import dev.warden.postgres.catalog.CatalogSnapshot.Function;
import dev.warden.postgres.catalog.CatalogSnapshot.Operator;
import dev.warden.postgres.catalog.CatalogSnapshot.Relation;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a {@link CatalogSnapshot} from {@code pg_catalog} in one read-only transaction, so that relations, columns
 * and functions are a consistent picture. Needs PostgreSQL 11 or newer ({@code prokind}).
 */
final class CatalogLoader {
    /** OIDs below this belong to PostgreSQL itself (initdb); user objects start here. */
    static final long FIRST_NORMAL_OBJECT_ID = 16384;

    private static final String IDENTITY = """
            SELECT session_user, d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()""";

    // Only those the user may use: PostgreSQL leaves a schema without USAGE out of the search path (and out of where an
    // unqualified creation goes), so an unqualified name resolves to what a later schema has.
    private static final String SCHEMAS = """
            SELECT nspname, pg_catalog.has_schema_privilege(session_user, oid, 'USAGE') FROM pg_catalog.pg_namespace""";
    // Schemas "$user" in a search path can stand for: named after the user or a role it may become (SET ROLE). A
    // superuser may become any role. The user is the session's (a role's or database's default role may be in force
    // for this connection; Warden's sessions start as the user, or are told the role they start as).
    private static final String ROLE_SCHEMAS = """
            SELECT n.nspname FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.rolname = n.nspname
            WHERE pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
               OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user)
            """;

    // Where a role the user may become may use other schemas than the user (PostgreSQL searches only those the acting
    // role may use): each such role and schema, up to a bound; past it, other roles' privileges count as not read.
    // A schema PUBLIC may use, every role may use, so only the others are crossed with the roles (measured with 3,000
    // roles and 300 such schemas under a superuser: 457 ms a read before, 39 ms after, the same pairs).
    static final int MAX_ROLE_USAGE = 10_000;
    private static final String ROLE_USAGE = """
            SELECT r.rolname, n.nspname
              FROM pg_catalog.pg_roles r
             CROSS JOIN (SELECT oid, nspname FROM pg_catalog.pg_namespace
                          WHERE NOT pg_catalog.has_schema_privilege('public', oid, 'USAGE')) n
             WHERE r.rolname <> session_user
               AND (pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
                    OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user))
               AND pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE')
                   <> pg_catalog.has_schema_privilege(session_user, n.oid, 'USAGE')
             LIMIT""" + " " + (MAX_ROLE_USAGE + 1);

    // Other sessions' temporary schemas are left out: their objects are not the agent's.
    private static final String RELATIONS = """
            SELECT c.oid, n.nspname, c.relname, c.relkind
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p')
              AND n.nspname !~ '^pg_(toast_)?temp_' AND n.nspname !~ '^pg_toast'""";

    /** The schemas and names of the relations {@link #RELATIONS} would read that have one of the names given. */
    static final String RELATIONS_NAMED = """
            SELECT n.nspname, c.relname
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = ANY (?::pg_catalog.name[]) AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
              AND n.nspname !~ '^pg_(toast_)?temp_' AND n.nspname !~ '^pg_toast'""";

    // Composite types' columns too (c): what a value of such a type runs is what its columns' types run.
    private static final String COLUMNS = """
            SELECT a.attrelid, a.attname, a.atttypid, a.attnum
            FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
            WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p', 'c') AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attrelid, a.attnum""";

    // A function is built in only when PostgreSQL created it (OID below FirstNormalObjectId, in pg_catalog) and no
    // extension owns it: plpgsql's handlers are created during initdb and have low OIDs too.
    private static final String FUNCTIONS = """
            SELECT p.oid, n.nspname, p.proname, p.provolatile, p.prosecdef, l.lanname, p.pronargs,
                   p.pronargdefaults, p.provariadic <> 0, p.proargtypes::text, p.prokind IN ('a', 'w'),
                   EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                           WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                             AND d.deptype = 'e')
            FROM pg_catalog.pg_proc p
                 JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
                 JOIN pg_catalog.pg_language l ON l.oid = p.prolang
            WHERE p.prokind <> 'p'""";

    // The last column says whether an operator is bound to its operand types (CatalogSnapshot.Operator#bound): both
    // are a user's standalone composite, enum, range or multirange types, not in the string category, into which no
    // other type has an implicit cast. c when one of them is composite (a record converts to it), o otherwise.
    private static final String OPERATORS = """
            SELECT o.oid, n.nspname, o.oprname, o.oprleft::text || ',' || o.oprright::text,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                           WHERE d.classid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND d.objid = o.oid
                             AND d.deptype = 'e'),
                   COALESCE(p.provolatile, '0'), p.oid,
                   CASE WHEN o.oprleft >= 16384 AND o.oprright >= 16384
                             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_cast c
                                             WHERE c.casttarget IN (o.oprleft, o.oprright) AND c.castcontext = 'i'
                                               AND c.castsource NOT IN (o.oprleft, o.oprright))
                        THEN (SELECT CASE WHEN pg_catalog.bool_and((t.typtype IN ('e', 'r', 'm')
                                                                    OR t.typtype = 'c' AND r.relkind = 'c')
                                                                   AND t.typcategory <> 'S')
                                          THEN CASE WHEN pg_catalog.bool_or(t.typtype = 'c') THEN 'c' ELSE 'o' END END
                              FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_class r ON r.oid = t.typrelid
                              WHERE t.oid IN (o.oprleft, o.oprright))
                   END
            FROM pg_catalog.pg_operator o
                 JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
                 LEFT JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode""";

    // What the planner may expand into a statement: view rules and row-level security policies, with the functions
    // and relations their expressions depend on.
    private static final String EXPANSIONS = """
            SELECT r.ev_class, d.refclassid::pg_catalog.regclass::text, d.refobjid
            FROM pg_catalog.pg_rewrite r
                 JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
            WHERE d.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_class'::pg_catalog.regclass,
                                   'pg_catalog.pg_operator'::pg_catalog.regclass)
              AND d.refobjid <> r.ev_class
            UNION ALL
            SELECT p.polrelid, d.refclassid::pg_catalog.regclass::text, d.refobjid
            FROM pg_catalog.pg_policy p
                 JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND d.objid = p.oid
            WHERE d.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_class'::pg_catalog.regclass,
                                   'pg_catalog.pg_operator'::pg_catalog.regclass)
              AND d.refobjid <> p.polrelid
            UNION ALL
            -- PostgreSQL records no dependency on its own (pinned) functions: read their calls from the expressions.
            SELECT r.ev_class, 'pg_proc', m[1]::pg_catalog.oid
            FROM pg_catalog.pg_rewrite r,
                 LATERAL pg_catalog.regexp_matches(r.ev_action::pg_catalog.text || ' ' || r.ev_qual::pg_catalog.text,
                                                   ':(?:funcid|opfuncid) ([0-9]+)', 'g') AS m
            UNION ALL
            SELECT p.polrelid, 'pg_proc', m[1]::pg_catalog.oid
            FROM pg_catalog.pg_policy p,
                 LATERAL pg_catalog.regexp_matches(COALESCE(p.polqual::pg_catalog.text, '') || ' '
                                                   || COALESCE(p.polwithcheck::pg_catalog.text, ''),
                                                   ':(?:funcid|opfuncid) ([0-9]+)', 'g') AS m""";

    // Casts whose function is not PostgreSQL's own (CREATE CAST … WITH FUNCTION): their target types' names and the
    // functions, of which an extension's that are not volatile count as its types' other code does (citext, hstore).
    private static final String USER_CASTS = """
            SELECT t.typname, c.castfunc
            FROM pg_catalog.pg_cast c JOIN pg_catalog.pg_type t ON t.oid = c.casttarget
            WHERE c.castmethod = 'f' AND c.castfunc >= 16384""";

    // Event triggers run code for DDL that the statement never names, where Warden cannot see into it (it may move the
    // search path or the role, or change how the server reads the next text). A login trigger fires for no statement.
    private static final String EVENT_TRIGGERS = """
            SELECT EXISTS (SELECT FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D' AND evtevent <> 'login')""";

    private CatalogLoader() {}

    /** Reads the catalog. The caller owns the connection's transaction (auto-commit off) and ends it. */
    static CatalogSnapshot load(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            String user;
            long dbOid;
            try (ResultSet rs = st.executeQuery(IDENTITY)) {
                if (!rs.next()) throw new SQLException("the current database is not in pg_database");
                user = rs.getString(1);
                dbOid = rs.getLong(2);
            }
            Set<String> schemas = new HashSet<>();
            Set<String> unusable = new HashSet<>();
            try (ResultSet rs = st.executeQuery(SCHEMAS)) {
                while (rs.next()) (rs.getBoolean(2) ? schemas : unusable).add(rs.getString(1));
            }
            Set<String> roleSchemas = new HashSet<>();
            try (ResultSet rs = st.executeQuery(ROLE_SCHEMAS)) {
                while (rs.next()) roleSchemas.add(rs.getString(1));
            }
            Map<String, Set<String>> roleUsage = new HashMap<>();
            int pairs = 0;
            try (ResultSet rs = st.executeQuery(ROLE_USAGE)) {
                while (rs.next()) {
                    pairs++;
                    roleUsage.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
                }
            }
            if (pairs > MAX_ROLE_USAGE) roleUsage = null;
            Map<Long, Function> byOid = new HashMap<>();
            Set<Long> extensionFunctions = new HashSet<>();
            Map<String, List<Function>> functions = new HashMap<>();
            try (ResultSet rs = st.executeQuery(FUNCTIONS)) {
                while (rs.next()) {
                    long oid = rs.getLong(1);
                    String schema = rs.getString(2);
                    // PostgreSQL's own: made by initdb (an OID below the first normal one) in pg_catalog, or in
                    // information_schema, whose views call its own SQL helpers (_pg_truetypid…).
                    boolean builtIn = (CatalogSnapshot.PG_CATALOG.equals(schema) || "information_schema".equals(schema))
                            && oid < FIRST_NORMAL_OBJECT_ID && !rs.getBoolean(12);
                    Function f = new Function(oid, schema, rs.getString(3), rs.getString(4).charAt(0), rs.getBoolean(5),
                            rs.getString(6), builtIn, rs.getInt(7), rs.getInt(8), rs.getBoolean(9), rs.getString(10), rs.getBoolean(11));
                    byOid.put(oid, f);
                    if (rs.getBoolean(12)) extensionFunctions.add(oid);
                    functions.computeIfAbsent(f.name(), k -> new ArrayList<>()).add(f);
                }
            }
            for (List<Function> fs : functions.values()) fs.sort((a, b) -> Long.compare(a.oid(), b.oid()));
            Map<String, List<Operator>> operators = new HashMap<>();
            Map<Long, Operator> operatorsByOid = new HashMap<>();
            try (ResultSet rs = st.executeQuery(OPERATORS)) {
                while (rs.next()) {
                    long oid = rs.getLong(1);
                    String schema = rs.getString(2);
                    boolean ext = rs.getBoolean(5);
                    // The function behind a built-in operator must itself be a built-in.
                    Function code = byOid.get(rs.getLong(7));
                    boolean builtIn = CatalogSnapshot.PG_CATALOG.equals(schema) && oid < FIRST_NORMAL_OBJECT_ID && !ext
                            && code != null && code.builtIn();
                    String bound = rs.getString(8);
                    Operator o = new Operator(oid, schema, rs.getString(3), rs.getString(4), builtIn, ext,
                            rs.getString(6).charAt(0), bound == null ? Operator.UNBOUND : bound.charAt(0));
                    operators.computeIfAbsent(o.name(), k -> new ArrayList<>()).add(o);
                    operatorsByOid.put(oid, o);
                }
            }
            Map<String, List<Operator>> frozenOperators = new HashMap<>();
            operators.forEach((k, v) -> {
                v.sort((a, b) -> Long.compare(a.oid(), b.oid()));
                frozenOperators.put(k, List.copyOf(v));
            });
            Map<Long, String[]> rels = new LinkedHashMap<>();
            try (ResultSet rs = st.executeQuery(RELATIONS)) {
                while (rs.next()) rels.put(rs.getLong(1), new String[] {rs.getString(2), rs.getString(3), rs.getString(4)});
            }
            Map<Long, List<String>> columns = new HashMap<>();
            Map<Long, List<ImplicitCodeLoader.Column>> typedColumns = new HashMap<>();
            try (ResultSet rs = st.executeQuery(COLUMNS)) {
                while (rs.next()) {
                    columns.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getString(2));
                    typedColumns.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>())
                            .add(new ImplicitCodeLoader.Column(rs.getString(2), rs.getLong(3), rs.getInt(4)));
                }
            }
            Map<Long, List<long[]>> expansions = new HashMap<>();
            try (ResultSet rs = st.executeQuery(EXPANSIONS)) {
                while (rs.next()) {
                    expansions.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>())
                            .add(new long[] {switch (rs.getString(2)) {
                                case "pg_proc" -> 1;
                                case "pg_operator" -> 2;
                                default -> 0;
                            }, rs.getLong(3)});
                }
            }
            ImplicitCode implicit = ImplicitCodeLoader.load(st, c.getMetaData().getDatabaseMajorVersion(), byOid,
                    extensionFunctions, operatorsByOid, rels, typedColumns);
            Map<Long, Boolean> userCode = new HashMap<>();
            Map<String, Relation> relations = new HashMap<>();
            for (var e : rels.entrySet()) {
                String[] r = e.getValue();
                boolean runs = runsUserCode(e.getKey(), expansions, byOid, operatorsByOid, userCode, new HashSet<>());
                String name = r[0] + "." + r[1];
                boolean writesRun = implicit.writes().containsKey(name) || implicit.columns().containsKey(name);
                relations.put(name, new Relation(e.getKey(), r[0], r[1], r[2].charAt(0),
                        columns.getOrDefault(e.getKey(), List.of()), runs, writesRun));
            }
            Map<String, List<Function>> frozen = new HashMap<>();
            functions.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
            Set<String> castTargets = new HashSet<>();
            try (ResultSet rs = st.executeQuery(USER_CASTS)) {
                while (rs.next()) {
                    Function f = byOid.get(rs.getLong(2));
                    boolean extensions = f != null && extensionFunctions.contains(f.oid()) && f.volatility() != 'v'
                            && !f.securityDefiner();
                    if (!extensions) castTargets.add(rs.getString(1));
                }
            }
            RelationReach reach = RelationReach.load(st, rels);
            boolean eventTriggers;
            try (ResultSet rs = st.executeQuery(EVENT_TRIGGERS)) {
                eventTriggers = !rs.next() || rs.getBoolean(1);
            }
            return new CatalogSnapshot(user, dbOid, schemas, roleSchemas, relations, frozen, frozenOperators, castTargets,
                    reach, implicit, unusable, true, roleUsage, eventTriggers);
        }
    }

    private static boolean runsUserCode(long rel, Map<Long, List<long[]>> expansions, Map<Long, Function> functions,
                                        Map<Long, Operator> operators, Map<Long, Boolean> memo, Set<Long> visiting) {
        Boolean known = memo.get(rel);
        if (known != null) return known;
        // A cycle cannot be planned anyway; counting it as user code keeps it on the safe side.
        if (!visiting.add(rel)) return true;
        boolean runs = false;
        for (long[] dep : expansions.getOrDefault(rel, List.of())) {
            runs = switch ((int) dep[0]) {
                case 1 -> {
                    // A built-in with a side effect (nextval, advisory locks, pg_notify…) or one that may have one
                    // (volatile, SECURITY DEFINER) counts too: reading the view runs it.
                    Function f = functions.get(dep[1]);
                    yield f == null || !f.builtIn() || f.securityDefiner()
                            || dev.warden.postgres.classify.FunctionRules.sideEffect(f.name(), f.schema().equals("pg_catalog")).isPresent()
                            || f.volatility() == 'v' && !dev.warden.postgres.classify.FunctionRules.harmlessVolatile(f.name());
                }
                case 2 -> {
                    Operator o = operators.get(dep[1]);
                    yield o == null || !o.builtIn();
                }
                default -> runsUserCode(dep[1], expansions, functions, operators, memo, visiting);
            };
            if (runs) break;
        }
        visiting.remove(rel);
        memo.put(rel, runs);
        return runs;
    }
}
