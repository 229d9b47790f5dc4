package dev.warden.postgres.catalog;

import dev.warden.core.Kind;
import dev.warden.postgres.catalog.CatalogSnapshot.Function;
import dev.warden.postgres.catalog.CatalogSnapshot.Operator;
import dev.warden.postgres.catalog.ImplicitCode.Call;
import dev.warden.postgres.catalog.ImplicitCode.TypeCode;
import dev.warden.postgres.catalog.ImplicitCode.WriteCall;
import dev.warden.postgres.classify.FunctionRules;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads {@link ImplicitCode} in the catalog's transaction: five queries, each one pass over a system catalog, and
 * a closure over types in memory (a domain runs what its base type runs, an array what its element runs, a composite
 * or a table's row type what its columns run, a range what its subtype runs).
 *
 * <p>Two measures of "proven": code an expression calls (a CHECK, a default, a trigger) is judged as a call written in
 * the statement would be, so a function of an extension is not proven; a type's support functions and operator
 * classes count when PostgreSQL's own, or an extension's and not volatile, as the extension's operators do — else
 * every query on a column of an extension's type (citext, PostGIS, pgvector) would be refused.
 */
final class ImplicitCodeLoader {
    private static final long FIRST_USER_OID = CatalogLoader.FIRST_NORMAL_OBJECT_ID;

    /** A column of a relation or composite type, with its type and number. */
    record Column(String name, long type, int number) {}

    // typsubscript is PostgreSQL 14 and newer.
    private static String types(int major) {
        return """
                SELECT t.oid, n.nspname, t.typname, t.typbasetype, t.typelem, t.typrelid,
                       t.typinput::pg_catalog.oid, t.typoutput::pg_catalog.oid, t.typreceive::pg_catalog.oid,
                       t.typsend::pg_catalog.oid, t.typmodin::pg_catalog.oid, t.typmodout::pg_catalog.oid, %s
                FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
                WHERE n.nspname !~ '^pg_(toast_)?temp_' AND n.nspname !~ '^pg_toast'"""
                .formatted(major >= 14 ? "t.typsubscript::pg_catalog.oid" : "0::pg_catalog.oid");
    }

    private static String ranges(int major) {
        return """
                SELECT r.rngtypid, r.rngsubtype, r.rngsubopc, r.rngcanonical::pg_catalog.oid,
                       r.rngsubdiff::pg_catalog.oid, %s
                FROM pg_catalog.pg_range r""".formatted(major >= 14 ? "r.rngmultitypid" : "0::pg_catalog.oid");
    }

    // Members of operator families that PostgreSQL did not create (an ALTER OPERATOR FAMILY may add them to one of its
    // own): every operator class of such a family, whether it is its type's default for sorting or hashing, and the
    // member. PostgreSQL's own families contribute no rows.
    private static final String OPCLASS_MEMBERS = """
            SELECT c.oid, n.nspname || '.' || c.opcname, c.opcintype, c.opcdefault AND a.amname IN ('btree', 'hash'),
                   'pg_proc', p.amproc::pg_catalog.oid
            FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
                 JOIN pg_catalog.pg_am a ON a.oid = c.opcmethod
                 JOIN pg_catalog.pg_amproc p ON p.amprocfamily = c.opcfamily
            WHERE p.amproc::pg_catalog.oid >= 16384
            UNION ALL
            SELECT c.oid, n.nspname || '.' || c.opcname, c.opcintype, c.opcdefault AND a.amname IN ('btree', 'hash'),
                   'pg_operator', o.amopopr
            FROM pg_catalog.pg_opclass c JOIN pg_catalog.pg_namespace n ON n.oid = c.opcnamespace
                 JOIN pg_catalog.pg_am a ON a.oid = c.opcmethod
                 JOIN pg_catalog.pg_amop o ON o.amopfamily = c.opcfamily
            WHERE o.amopopr >= 16384""";

    // Casts PostgreSQL applies without a cast in the text (i implicit, a assignment) whose function is not its own.
    private static final String CASTS = """
            SELECT c.castsource, c.casttarget, c.castfunc, c.castcontext
            FROM pg_catalog.pg_cast c
            WHERE c.castmethod = 'f' AND c.castfunc >= 16384 AND c.castcontext IN ('i', 'a')""";

    // Expressions PostgreSQL evaluates on its own, with the functions, operators, types and operator classes they
    // reach. Owner r: when rows of a relation are written (CHECK constraints, defaults and generated columns, index
    // expressions, predicates and operator classes, row-level security policies, triggers and their WHEN clauses),
    // for the events as pg_trigger.tgtype bits (4 insert, 8 delete, 16 update, 32 truncate). Owner t: when a value
    // of a domain is made. pg_depend names the operators, types and operator classes an expression uses; functions
    // are read from the expression's text (:funcid, :opfuncid), since PostgreSQL records none on its own (pinned)
    // functions and a generated column's on the column rather than the expression. Of PostgreSQL's own only those not
    // proven pure come back (parameter 1 for domains, 2 for relations), so that the serial columns' nextval stays in
    // the server. Splitting the text is several times cheaper than a regular expression; plain indexes are left out.
    private static final String EXPRESSIONS = """
            WITH o AS (
                SELECT 'r' AS owner, con.conrelid AS id, 20 AS events, 'CHECK constraint ' || con.conname AS what,
                       'pg_catalog.pg_constraint'::pg_catalog.regclass AS classid, con.oid AS objid,
                       con.conbin::pg_catalog.text AS expr
                FROM pg_catalog.pg_constraint con WHERE con.contype = 'c' AND con.conrelid <> 0
                UNION ALL
                SELECT 't', con.contypid, 0, 'CHECK constraint ' || con.conname,
                       'pg_catalog.pg_constraint'::pg_catalog.regclass, con.oid, con.conbin::pg_catalog.text
                FROM pg_catalog.pg_constraint con WHERE con.contype = 'c' AND con.contypid <> 0
                UNION ALL
                SELECT 't', t.oid, 0, 'the default', 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid,
                       t.typdefaultbin::pg_catalog.text
                FROM pg_catalog.pg_type t WHERE t.typtype = 'd' AND t.typdefaultbin IS NOT NULL
                UNION ALL
                SELECT 'r', d.adrelid, 20, 'column ' || d.adnum, 'pg_catalog.pg_attrdef'::pg_catalog.regclass, d.oid,
                       d.adbin::pg_catalog.text
                FROM pg_catalog.pg_attrdef d
                UNION ALL
                SELECT 'r', i.indrelid, 20, 'index ' || c.relname, 'pg_catalog.pg_class'::pg_catalog.regclass,
                       i.indexrelid,
                       COALESCE(i.indexprs::pg_catalog.text, '') || ' ' || COALESCE(i.indpred::pg_catalog.text, '')
                FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
                WHERE i.indexprs IS NOT NULL OR i.indpred IS NOT NULL
                   OR EXISTS (SELECT 1 FROM pg_catalog.unnest(i.indclass::pg_catalog.oid[]) AS k(opc) WHERE k.opc >= 16384)
                UNION ALL
                -- USING and WITH CHECK by command; a SELECT policy applies to the rows an UPDATE or DELETE reads.
                SELECT 'r', p.polrelid,
                       CASE p.polcmd WHEN 'a' THEN 4 WHEN 'w' THEN 16 WHEN 'd' THEN 8 ELSE 28 END,
                       'row-level security policy ' || p.polname, 'pg_catalog.pg_policy'::pg_catalog.regclass, p.oid,
                       COALESCE(p.polqual::pg_catalog.text, '') || ' ' || COALESCE(p.polwithcheck::pg_catalog.text, '')
                FROM pg_catalog.pg_policy p
                UNION ALL
                -- Owner s: what reading a relation runs. Views and SELECT policies whose functions and operators
                -- the catalog already judges (CatalogLoader's expansions): only the types they make values of.
                SELECT 's', r.ev_class, 0, 'the view', 'pg_catalog.pg_rewrite'::pg_catalog.regclass, r.oid, NULL
                FROM pg_catalog.pg_rewrite r WHERE r.ev_type = '1'
                UNION ALL
                SELECT 's', p.polrelid, 0, 'row-level security policy ' || p.polname,
                       'pg_catalog.pg_policy'::pg_catalog.regclass, p.oid, NULL
                FROM pg_catalog.pg_policy p WHERE p.polcmd IN ('r', '*')
                UNION ALL
                SELECT 'r', g.tgrelid, g.tgtype::pg_catalog.int4 & 60, 'trigger ' || g.tgname,
                       'pg_catalog.pg_trigger'::pg_catalog.regclass, g.oid, g.tgqual::pg_catalog.text
                FROM pg_catalog.pg_trigger g WHERE g.tgenabled <> 'D'
            )
            SELECT o.owner, o.id, o.events, o.what, d.refclassid::pg_catalog.regclass::pg_catalog.text, d.refobjid
            FROM o JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = o.objid
            WHERE d.refclassid IN ('pg_catalog.pg_proc'::pg_catalog.regclass, 'pg_catalog.pg_operator'::pg_catalog.regclass,
                                   'pg_catalog.pg_type'::pg_catalog.regclass, 'pg_catalog.pg_opclass'::pg_catalog.regclass)
              AND NOT (o.owner = 't' AND d.refobjid = o.id)
              AND (o.owner <> 's' OR d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass)
            UNION ALL
            SELECT o.owner, o.id, o.events, o.what, 'pg_proc', f.oid
            FROM o, LATERAL pg_catalog.unnest(pg_catalog.string_to_array(o.expr, 'funcid ')) WITH ORDINALITY AS p(x, n),
                 LATERAL (SELECT CASE WHEN p.x ~ '^[0-9]+ ' THEN pg_catalog.split_part(p.x, ' ', 1)::pg_catalog.oid END)
                     AS f(oid)
            WHERE p.n > 1
              AND (f.oid >= 16384 OR o.owner = 't' AND f.oid::pg_catalog.int8 = ANY (?)
                   OR o.owner = 'r' AND f.oid::pg_catalog.int8 = ANY (?))""";

    private record TypeRow(long oid, String schema, String name, long base, long elem, long relid, long[] support) {
        String qualified() {
            return schema + "." + name;
        }
    }

    private record Range(long subtype, long subopc, long canonical, long subdiff) {}

    /** A type an expression on a relation's write reaches (a cast to a domain in a default). */
    private record Ref(long type, int events) {}

    private static final String[] SUPPORT = {"input", "output", "receive", "send", "type modifier input",
            "type modifier output", "subscripting"};
    /** Which support functions run when a value is made (the rest when it is used). */
    private static final boolean[] MAKES = {true, false, true, false, true, false, false};

    private final Map<Long, Function> functions;
    private final Set<Long> extensionFunctions;
    private final Map<Long, Operator> operators;
    private final Map<Long, TypeRow> types = new HashMap<>();
    private final Map<Long, Range> ranges = new HashMap<>();
    private final Map<Long, Long> multiranges = new HashMap<>();
    private final Map<Long, List<Call>> opclasses = new HashMap<>();
    private final Map<Long, Set<Call>> ownMake = new HashMap<>();
    private final Map<Long, Set<Call>> ownUse = new HashMap<>();
    private final Map<Long, List<Long>> madeVia = new HashMap<>(); // expressions of a domain reaching other types
    private final Map<Long, List<Column>> columns;
    private final Map<Long, TypeCode> closed = new HashMap<>();

    private ImplicitCodeLoader(Map<Long, Function> functions, Set<Long> extensionFunctions, Map<Long, Operator> operators,
                               Map<Long, List<Column>> columns) {
        this.functions = functions;
        this.extensionFunctions = extensionFunctions;
        this.operators = operators;
        this.columns = columns;
    }

    /**
     * @param rels    relation OID to schema, name and relkind, as {@link CatalogLoader} read them
     * @param columns relation or composite type's relation OID to its columns in order
     */
    static ImplicitCode load(Statement st, int major, Map<Long, Function> functions, Set<Long> extensionFunctions,
                             Map<Long, Operator> operators, Map<Long, String[]> rels, Map<Long, List<Column>> columns)
            throws SQLException {
        ImplicitCodeLoader l = new ImplicitCodeLoader(functions, extensionFunctions, operators, columns);
        l.readTypes(st, major);
        l.readOperatorClasses(st);
        l.readCasts(st);
        l.boundOperators();
        Map<String, List<Call>> scans = new HashMap<>();
        Map<String, List<WriteCall>> writes = new HashMap<>();
        l.readExpressions(st, rels, scans, writes);
        return l.result(rels, scans, writes);
    }

    private void readTypes(Statement st, int major) throws SQLException {
        try (ResultSet rs = st.executeQuery(types(major))) {
            while (rs.next()) {
                long[] support = new long[SUPPORT.length];
                for (int i = 0; i < support.length; i++) support[i] = rs.getLong(7 + i);
                TypeRow t = new TypeRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                        rs.getLong(6), support);
                types.put(t.oid(), t);
            }
        }
        try (ResultSet rs = st.executeQuery(ranges(major))) {
            while (rs.next()) {
                ranges.put(rs.getLong(1), new Range(rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
                if (rs.getLong(6) != 0) multiranges.put(rs.getLong(6), rs.getLong(1));
            }
        }
        for (TypeRow t : types.values()) {
            for (int i = 0; i < SUPPORT.length; i++) {
                Call c = supportCall(t.support()[i], "the " + SUPPORT[i] + " function of type " + t.qualified());
                if (c != null) own(MAKES[i] ? ownMake : ownUse, t.oid()).add(c);
            }
        }
        ranges.forEach((type, r) -> {
            String of = " of range type " + name(type);
            Call canonical = supportCall(r.canonical(), "the canonical function" + of);
            if (canonical != null) own(ownMake, type).add(canonical);
            Call diff = supportCall(r.subdiff(), "the subtype_diff function" + of);
            if (diff != null) own(ownUse, type).add(diff);
        });
    }

    private void readOperatorClasses(Statement st) throws SQLException {
        Map<Long, Long> defaults = new HashMap<>();
        try (ResultSet rs = st.executeQuery(OPCLASS_MEMBERS)) {
            while (rs.next()) {
                long opclass = rs.getLong(1);
                String origin = "operator class " + rs.getString(2);
                Call c = rs.getString(5).equals("pg_proc") ? supportCall(rs.getLong(6), origin)
                        : operatorCall(rs.getLong(6), origin);
                List<Call> calls = opclasses.computeIfAbsent(opclass, k -> new ArrayList<>());
                if (c != null && !calls.contains(c)) calls.add(c);
                if (rs.getBoolean(4)) defaults.put(opclass, rs.getLong(3));
            }
        }
        opclasses.values().removeIf(List::isEmpty);
        // A type's default btree and hash classes sort, group, deduplicate and join its values.
        defaults.forEach((opclass, type) -> {
            List<Call> calls = opclasses.get(opclass);
            if (calls != null) own(ownUse, type).addAll(calls);
        });
        ranges.forEach((type, r) -> {
            // A range compares its bounds with its subtype's class when it is made and when it is compared.
            List<Call> calls = opclasses.get(r.subopc());
            if (calls != null) {
                own(ownMake, type).addAll(calls);
                own(ownUse, type).addAll(calls);
            }
        });
    }

    private void readCasts(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery(CASTS)) {
            while (rs.next()) {
                long source = rs.getLong(1);
                long target = rs.getLong(2);
                boolean implicit = rs.getString(4).equals("i");
                Call c = supportCall(rs.getLong(3), "the " + (implicit ? "implicit" : "assignment") + " cast from "
                        + name(source) + " to " + name(target));
                if (c == null) continue;
                // Values of the source are converted where the target is wanted (a function argument, a column
                // written); values of the target are then made by it. Only a user's type can be the side the
                // statement's values come from without naming the other, but when both are PostgreSQL's own
                // (a superuser's cast) both count.
                boolean bothBuiltIn = source < FIRST_USER_OID && target < FIRST_USER_OID;
                if (source >= FIRST_USER_OID || bothBuiltIn) own(ownUse, source).add(c);
                if (target >= FIRST_USER_OID || bothBuiltIn) {
                    own(ownMake, target).add(c);
                    if (implicit) own(ownUse, target).add(c); // SELECT 1 UNION SELECT p: the 1 becomes a pair
                }
            }
        }
    }

    /**
     * An operator bound to its operand types (see {@link Operator#bound()}) that is not proven pure runs wherever a
     * value of one of them is compared: part of what using a value of those types runs, since the classifier, judging
     * operators by symbol, leaves it out of what the symbol alone may reach.
     */
    private void boundOperators() {
        for (Operator o : operators.values()) {
            if (o.bound() == Operator.UNBOUND || o.provenPure()) continue;
            String name = "operator " + o.schema() + "." + o.name();
            long[] operands = o.operandTypes();
            Call c = new Call(name, false, name + "(" + name(operands[0]) + ", " + name(operands[1]) + ")");
            for (long type : operands) own(ownUse, type).add(c);
        }
    }

    private void readExpressions(Statement st, Map<Long, String[]> rels, Map<String, List<Call>> scans,
                                 Map<String, List<WriteCall>> writes) throws SQLException {
        Map<Long, List<Ref>> relationTypeRefs = new HashMap<>();
        Map<String, List<Long>> readTypeRefs = new HashMap<>();
        List<Long> onDomains = new ArrayList<>();
        List<Long> onWrites = new ArrayList<>();
        for (Function f : functions.values()) {
            if (!f.builtIn()) continue;
            if (expressionCall(f.oid(), "", false) != null) onDomains.add(f.oid());
            if (expressionCall(f.oid(), "", true) != null) onWrites.add(f.oid());
        }
        // Arrays as typed values: a text cast to oid[] would be parsed again for every row.
        try (PreparedStatement ps = st.getConnection().prepareStatement(EXPRESSIONS)) {
            ps.setArray(1, st.getConnection().createArrayOf("int8", onDomains.toArray()));
            ps.setArray(2, st.getConnection().createArrayOf("int8", onWrites.toArray()));
            expressionRows(ps, rels, scans, writes, relationTypeRefs, readTypeRefs);
        }
        // Types are closed over once every domain's own code is known.
        readTypeRefs.forEach((name, refs) -> {
            // A view that casts to a domain runs its CHECK whenever it is read.
            for (long type : refs) {
                TypeCode code = closure(type, new HashSet<>());
                if (code.isEmpty()) continue;
                List<Call> list = scans.computeIfAbsent(name, k -> new ArrayList<>());
                addAll(list, code.make());
                addAll(list, code.use());
            }
        });
        // A cast to a domain inside a default or CHECK makes a value of that domain: its make runs.
        relationTypeRefs.forEach((rel, refs) -> {
            String name = rels.get(rel)[0] + "." + rels.get(rel)[1];
            for (Ref r : refs) {
                for (Call c : closure(r.type(), new HashSet<>()).make()) {
                    WriteCall w = new WriteCall(r.events(), c);
                    List<WriteCall> list = writes.computeIfAbsent(name, k -> new ArrayList<>());
                    if (!list.contains(w)) list.add(w);
                }
            }
        });
    }

    private void expressionRows(PreparedStatement ps, Map<Long, String[]> rels, Map<String, List<Call>> scans,
                                Map<String, List<WriteCall>> writes, Map<Long, List<Ref>> relationTypeRefs,
                                Map<String, List<Long>> readTypeRefs) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                boolean read = rs.getString(1).equals("s");
                boolean relation = read || rs.getString(1).equals("r");
                long owner = rs.getLong(2);
                int events = rs.getInt(3);
                String cls = rs.getString(5);
                long ref = rs.getLong(6);
                String ownerName = relation ? (rels.containsKey(owner) ? rels.get(owner)[0] + "." + rels.get(owner)[1] : null)
                        : name(owner);
                if (ownerName == null) continue; // a relation the catalog does not keep (another session's temporary table)
                String what = rs.getString(4);
                if (relation && what.startsWith("column ")) what = "the default or generation expression of " + ownerName + "."
                        + columnName(owner, Integer.parseInt(what.substring(7)));
                String origin = relation && what.startsWith("the default") ? what
                        : what + (relation ? " on " : " of domain ") + ownerName;
                if (read) {
                    readTypeRefs.computeIfAbsent(ownerName, k -> new ArrayList<>()).add(ref);
                    continue;
                }
                if (cls.equals("pg_type")) {
                    if (relation) relationTypeRefs.computeIfAbsent(owner, k -> new ArrayList<>()).add(new Ref(ref, events));
                    else madeVia.computeIfAbsent(owner, k -> new ArrayList<>()).add(ref);
                    continue;
                }
                List<Call> calls = switch (cls) {
                    case "pg_proc" -> listOf(expressionCall(ref, origin, relation));
                    case "pg_operator" -> listOf(operatorCall(ref, origin));
                    case "pg_opclass" -> {
                        List<Call> found = opclasses.getOrDefault(ref, List.of());
                        // An index scan compares with the class too, so reading the relation runs it.
                        if (relation && !found.isEmpty()) addAll(scans.computeIfAbsent(ownerName, k -> new ArrayList<>()), found);
                        yield found;
                    }
                    default -> List.of();
                };
                for (Call c : calls) {
                    if (relation) {
                        WriteCall w = new WriteCall(events, c);
                        List<WriteCall> list = writes.computeIfAbsent(ownerName, k -> new ArrayList<>());
                        if (!list.contains(w)) list.add(w);
                    } else {
                        own(ownMake, owner).add(c);
                    }
                }
            }
        }
    }

    private ImplicitCode result(Map<Long, String[]> rels, Map<String, List<Call>> scans, Map<String, List<WriteCall>> writes) {
        Map<String, TypeCode> byName = new HashMap<>();
        Map<Long, TypeCode> byOid = new HashMap<>();
        Set<Call> inputs = new LinkedHashSet<>();
        Set<Long> all = new HashSet<>(types.keySet());
        all.addAll(ownMake.keySet());
        all.addAll(ownUse.keySet());
        for (long type : all) {
            TypeCode code = closure(type, new HashSet<>());
            if (code.isEmpty()) continue;
            byOid.put(type, code);
            inputs.addAll(code.make());
            TypeRow t = types.get(type);
            if (t == null) continue;
            byName.merge(t.name(), code, ImplicitCodeLoader::union);
        }
        Map<String, Map<String, TypeCode>> byColumn = new HashMap<>();
        rels.forEach((rel, r) -> {
            Map<String, TypeCode> cols = new HashMap<>();
            for (Column c : columns.getOrDefault(rel, List.of())) {
                TypeCode code = closure(c.type(), new HashSet<>());
                if (!code.isEmpty()) cols.put(c.name(), code);
            }
            if (!cols.isEmpty()) byColumn.put(r[0] + "." + r[1], Map.copyOf(cols));
        });
        Map<String, List<Call>> frozenScans = new HashMap<>();
        scans.forEach((k, v) -> frozenScans.put(k, List.copyOf(v)));
        Map<String, List<WriteCall>> frozenWrites = new HashMap<>();
        writes.forEach((k, v) -> frozenWrites.put(k, List.copyOf(v)));
        return new ImplicitCode(byName, byOid, byColumn, frozenScans, frozenWrites, List.copyOf(inputs));
    }

    /** What making and using a value of the type runs, its parts included. */
    private TypeCode closure(long type, Set<Long> visiting) {
        TypeCode known = closed.get(type);
        if (known != null) return known;
        if (type == 0 || !visiting.add(type)) return TypeCode.NONE;
        Set<Call> make = new LinkedHashSet<>(ownMake.getOrDefault(type, Set.of()));
        Set<Call> use = new LinkedHashSet<>(ownUse.getOrDefault(type, Set.of()));
        List<Long> parts = new ArrayList<>();
        TypeRow t = types.get(type);
        if (t != null) {
            parts.add(t.base());
            parts.add(t.elem());
            if (t.relid() != 0) for (Column c : columns.getOrDefault(t.relid(), List.of())) parts.add(c.type());
        }
        Range r = ranges.get(type);
        if (r != null) parts.add(r.subtype());
        Long range = multiranges.get(type);
        if (range != null) parts.add(range);
        for (long part : parts) {
            TypeCode p = closure(part, visiting);
            make.addAll(p.make());
            use.addAll(p.use());
        }
        for (long via : madeVia.getOrDefault(type, List.of())) make.addAll(closure(via, visiting).make());
        visiting.remove(type);
        TypeCode code = make.isEmpty() && use.isEmpty() ? TypeCode.NONE : new TypeCode(List.copyOf(make), List.copyOf(use));
        closed.put(type, code);
        return code;
    }

    /** A type's support function (or a cast's): proven when PostgreSQL's own, or an extension's and not volatile. */
    private Call supportCall(long oid, String origin) {
        if (oid == 0) return null;
        Function f = functions.get(oid);
        if (f != null && (f.builtIn() || extensionFunctions.contains(oid) && f.volatility() != 'v' && !f.securityDefiner())) {
            return null;
        }
        return new Call(functionName(oid), false, origin);
    }

    /**
     * A function an expression calls, judged as a call in the statement: proven when PostgreSQL's own and neither
     * volatile (unless harmless) nor with a side effect. A side effect is kept as PostgreSQL's own code, judged by its
     * effect; on a write, one that only writes (nextval behind serial) adds nothing and is left out.
     */
    private Call expressionCall(long oid, String origin, boolean onWrite) {
        Function f = functions.get(oid);
        if (f != null && f.builtIn() && !f.securityDefiner()) {
            Optional<FunctionRules.Effect> e = FunctionRules.sideEffect(f.name(), true);
            if (e.isPresent()) {
                boolean onlyWrites = e.get().kind() == Kind.WRITE && e.get().flags().isEmpty();
                return onWrite && onlyWrites ? null : new Call(functionName(oid), true, origin);
            }
            if (f.volatility() != 'v' || FunctionRules.harmlessVolatile(f.name())) return null;
        }
        return new Call(functionName(oid), false, origin);
    }

    private Call operatorCall(long oid, String origin) {
        Operator o = operators.get(oid);
        if (o != null && o.provenPure()) return null;
        return new Call(o == null ? "operator " + oid : "operator " + o.schema() + "." + o.name(), false, origin);
    }

    private String columnName(long relation, int number) {
        for (Column c : columns.getOrDefault(relation, List.of())) if (c.number() == number) return c.name();
        return "#" + number;
    }

    private String functionName(long oid) {
        Function f = functions.get(oid);
        return f == null ? "function " + oid : f.schema() + "." + f.name();
    }

    private String name(long type) {
        TypeRow t = types.get(type);
        return t == null ? "type " + type : t.qualified();
    }

    private static Set<Call> own(Map<Long, Set<Call>> map, long type) {
        return map.computeIfAbsent(type, k -> new LinkedHashSet<>());
    }

    private static List<Call> listOf(Call c) {
        return c == null ? List.of() : List.of(c);
    }

    private static void addAll(List<Call> to, List<Call> calls) {
        for (Call c : calls) if (!to.contains(c)) to.add(c);
    }

    private static TypeCode union(TypeCode a, TypeCode b) {
        Set<Call> make = new LinkedHashSet<>(a.make());
        make.addAll(b.make());
        Set<Call> use = new LinkedHashSet<>(a.use());
        use.addAll(b.use());
        return new TypeCode(List.copyOf(make), List.copyOf(use));
    }
}
