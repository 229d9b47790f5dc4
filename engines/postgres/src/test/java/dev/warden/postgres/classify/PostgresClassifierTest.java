package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Access;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Action;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.postgres.catalog.BuiltinCatalog;
import dev.warden.postgres.catalog.SchemaInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PostgresClassifierTest {
    static final PostgresClassifier OFFLINE = new PostgresClassifier(NativePgQuery.require(), BuiltinCatalog.INSTANCE, 0);

    /** A schema source with a few user tables and functions on top of the built-ins, changeable for cache tests. */
    static final class Schema implements SchemaInfo {
        final AtomicLong generation = new AtomicLong();
        Map<String, List<String>> tables = Map.of("public.users", List.of("id", "name", "ssn"),
                "public.orders", List.of("id", "user_id", "total"), "app.users", List.of("id", "email"));
        Map<String, FunctionInfo> functions = Map.of(
                "public.reader", new FunctionInfo("public", "reader", 's', false, "sql", false),
                "public.lower", new FunctionInfo("public", "lower", 'v', true, "plpgsql", false));

        @Override
        public Optional<String> relation(List<String> searchPath, String schema, String name) {
            if (schema != null) return Optional.of(schema + "." + name);
            for (String s : BuiltinCatalog.effectivePath(searchPath)) {
                if (tables.containsKey(s + "." + name)) return Optional.of(s + "." + name);
            }
            return BuiltinCatalog.INSTANCE.relation(searchPath, null, name);
        }

        @Override
        public Optional<List<String>> columns(String q) {
            return Optional.ofNullable(tables.get(q)).or(() -> BuiltinCatalog.INSTANCE.columns(q));
        }

        @Override
        public List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount) {
            if (schema != null && functions.containsKey(schema + "." + name)) return List.of(functions.get(schema + "." + name));
            if (schema != null) return BuiltinCatalog.INSTANCE.functions(searchPath, schema, name, argCount);
            for (String s : BuiltinCatalog.effectivePath(searchPath)) {
                if (functions.containsKey(s + "." + name)) return List.of(functions.get(s + "." + name));
                List<FunctionInfo> b = BuiltinCatalog.INSTANCE.functions(List.of(s), s, name, argCount);
                if (!b.isEmpty()) return b;
            }
            return List.of();
        }

        @Override
        public boolean live() {
            return true;
        }

        @Override
        public long generation() {
            return generation.get();
        }
    }

    static Statement one(Classification c) {
        assertThat(c.statements()).hasSize(1);
        return c.statements().get(0);
    }

    static ClassifyContext path(String... p) {
        return new ClassifyContext(List.of(p), Map.of());
    }

    @Test
    void identifiersFoldAndQuoteAsPostgresDoes() {
        assertThat(one(OFFLINE.classify("DROP TABLE audit_log", null)).objects())
                .containsExactly(ObjectAccess.of("public.audit_log", Access.DDL));
        assertThat(one(OFFLINE.classify("DROP TABLE \"public\".\"audit_log\"", null)).objects())
                .containsExactly(ObjectAccess.of("public.audit_log", Access.DDL));
        assertThat(one(OFFLINE.classify("drop table PUBLIC.Audit_Log", null)).objects())
                .containsExactly(ObjectAccess.of("public.audit_log", Access.DDL));
        assertThat(one(OFFLINE.classify("DROP TABLE \"Audit_Log\"", null)).objects())
                .containsExactly(ObjectAccess.of("public.Audit_Log", Access.DDL));
        assertThat(one(OFFLINE.classify("DROP TABLE U&\"audit\\005flog\"", null)).objects())
                .containsExactly(ObjectAccess.of("public.audit_log", Access.DDL));
        assertThat(one(OFFLINE.classify("DROP TABLE audit_log", path("app", "public"))).objects())
                .containsExactly(ObjectAccess.of("app.audit_log", Access.DDL));
        assertThat(one(OFFLINE.classify("SELECT * FROM pg_class", null)).objects().get(0).name()).isEqualTo("pg_catalog.pg_class");
    }

    /**
     * Code the classifier cannot see into (a DO block, an unknown function) may call set_config: the names of the
     * statements after it in the same text were resolved with the path from before it, and a person asked to approve
     * the code saw them as plain reads of public objects. They are unknown now, saying why; transaction control is not.
     */
    @Test
    void namesAfterUnseenCodeInTheSameTextAreNotProven() {
        for (String code : new String[] {"DO $$BEGIN PERFORM set_config('search_path', 'evil, public', false); END$$",
                "SELECT public.unknown_fn()"}) {
            List<Statement> sts = OFFLINE.classify("BEGIN; " + code + "; SELECT * FROM orders; COMMIT", null).statements();
            assertThat(sts).extracting(Statement::kind).containsExactly(Kind.TCL, Kind.UNKNOWN, Kind.UNKNOWN, Kind.TCL);
            assertThat(String.join("; ", sts.get(2).reasons())).contains("runs code Warden cannot see into");
        }
        assertThat(OFFLINE.classify("SELECT * FROM orders; SELECT * FROM users", null).statements())
                .extracting(Statement::kind).containsExactly(Kind.READ, Kind.READ);
    }

    @Test
    void objectsCarryModesAndColumns() {
        Statement s = one(OFFLINE.classify("UPDATE orders o SET total = 0 FROM users u WHERE o.user_id = u.id AND u.name = 'x'", null));
        assertThat(s.kind()).isEqualTo(Kind.WRITE);
        assertThat(s.objects()).contains(new ObjectAccess("public.orders", Access.WRITE, List.of("total")),
                new ObjectAccess("public.users", Access.READ, List.of("id", "name")));
        assertThat(s.flags()).isEmpty();

        Statement ins = one(OFFLINE.classify("INSERT INTO t (a, b) SELECT x, y FROM s ON CONFLICT (a) DO UPDATE SET b = excluded.b", null));
        assertThat(ins.objects()).contains(new ObjectAccess("public.t", Access.WRITE, List.of("a", "b")));
        assertThat(ins.objects()).anySatisfy(o -> assertThat(o.name()).isEqualTo("public.s"));

        Statement union = one(OFFLINE.classify("WITH t AS (SELECT 1 AS x) SELECT x FROM t UNION SELECT x FROM b", null));
        assertThat(union.objects()).containsExactly(new ObjectAccess("public.b", Access.READ, List.of("x")));
        Statement cte = one(OFFLINE.classify("WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets", null));
        assertThat(cte.objects()).extracting(ObjectAccess::name).containsExactly("public.secrets");
    }

    @Test
    void starExpandsThroughTheSchema() {
        PostgresClassifier live = new PostgresClassifier(NativePgQuery.require(), new Schema(), 0);
        Statement s = one(live.classify("SELECT * FROM users", null));
        assertThat(s.objects()).containsExactly(new ObjectAccess("public.users", Access.READ, List.of("id", "name", "ssn")));
        Statement j = one(live.classify("SELECT u.*, o.total FROM users u JOIN orders o ON o.user_id = u.id", null));
        assertThat(j.objects()).contains(new ObjectAccess("public.users", Access.READ, List.of("id", "name", "ssn")),
                new ObjectAccess("public.orders", Access.READ, List.of("user_id", "total")));
        Statement unq = one(live.classify("SELECT ssn FROM users JOIN orders ON orders.user_id = users.id", null));
        assertThat(unq.objects()).filteredOn(o -> o.name().equals("public.users"))
                .singleElement().satisfies(o -> assertThat(o.columns()).containsExactlyInAnyOrder("ssn", "id"));
        Statement app = one(live.classify("SELECT * FROM users", path("app", "public")));
        assertThat(app.objects()).containsExactly(new ObjectAccess("app.users", Access.READ, List.of("id", "email")));
        // Offline the columns are not known: the star stays visible.
        assertThat(one(OFFLINE.classify("SELECT * FROM users", null)).objects())
                .containsExactly(new ObjectAccess("public.users", Access.READ, List.of("*")));
    }

    @Test
    void functionsAreGuiltyUntilProvenInnocent() {
        PostgresClassifier live = new PostgresClassifier(NativePgQuery.require(), new Schema(), 0);
        // pg_catalog comes first implicitly: lower is the built-in even though public.lower exists.
        Statement builtin = one(live.classify("SELECT lower(name) FROM users", null));
        assertThat(builtin.kind()).isEqualTo(Kind.READ);
        assertThat(builtin.functions()).containsExactly("pg_catalog.lower");
        // Qualified, or with pg_catalog later in the path, the user's SECURITY DEFINER lower is what runs.
        Statement shadow = one(live.classify("SELECT public.lower(name) FROM users", null));
        assertThat(shadow.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(shadow.unproven()).containsExactly("public.lower");
        assertThat(shadow.reasons()).anySatisfy(r -> assertThat(r).contains("public.lower").contains("SECURITY DEFINER"));
        Statement later = one(live.classify("SELECT lower(name) FROM users", path("public", "pg_catalog")));
        assertThat(later.unproven()).containsExactly("public.lower");
        // A user function is unknown, with the kind it would have if a rule declares it a reader.
        Statement user = one(live.classify("SELECT reader(id) FROM users", null));
        assertThat(user.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(user.kindIfProven()).isEqualTo(Kind.READ);
        assertThat(user.unproven()).containsExactly("public.reader");
        Statement mixed = one(live.classify("WITH d AS (DELETE FROM orders WHERE id = 1 RETURNING *) SELECT reader(id) FROM d", null));
        assertThat(mixed.kindIfProven()).isEqualTo(Kind.WRITE);
    }

    @Test
    void policyRuleNamingTheUnprovenFunctionTreatsTheStatementAsItsProvenKind() throws Exception {
        Policy policy = PolicyLoader.parse(Path.of("p.yaml"), """
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: our-readers
                    match: { kind: [read], functions: ["public.my_reader"] }
                    action: allow
                """.getBytes(StandardCharsets.UTF_8));
        Classification reader = OFFLINE.classify("SELECT my_reader(1)", null);
        Classification other = OFFLINE.classify("SELECT my_reader(1), my_writer(2)", null);
        Classification dblink = OFFLINE.classify("SELECT my_reader(1), dblink_exec('x', 'DROP TABLE t')", null);
        assertThat(decide(policy, reader).action()).isEqualTo(Action.ALLOW);
        assertThat(decide(policy, other).action()).isEqualTo(Action.DENY);
        assertThat(decide(policy, dblink).action()).isEqualTo(Action.DENY);
        // Within one text a declared reader is still code Warden cannot see into for what follows it (the policy
        // judges each statement on its own: an allow rule for the function must not allow the next statement's read):
        // refused with the reason, which says to send it separately.
        Classification after = OFFLINE.classify("SELECT my_reader(1); SELECT * FROM orders", null);
        assertThat(decide(policy, after).action()).isEqualTo(Action.DENY);
        assertThat(String.join("; ", after.statements().get(1).reasons())).contains("send it separately");
    }

    static Decision decide(Policy p, Classification c) {
        Operation op = new Operation("agent", "app", "postgres", c.statements().get(0).text(), List.of(), null, "s", "local", null);
        return PolicyEngine.decide(p, op, c);
    }

    @Test
    void executeResolvesFromTheSessionAndFromTheSameText() {
        Map<String, Classification> prepared = OFFLINE.prepared("PREPARE del AS DELETE FROM orders WHERE id = $1", null);
        assertThat(prepared).containsKey("del");
        assertThat(prepared.get("del").kind()).isEqualTo(Kind.WRITE);
        ClassifyContext session = new ClassifyContext(ClassifyContext.DEFAULT_SEARCH_PATH, prepared);
        Statement exec = one(OFFLINE.classify("EXECUTE del(1)", session));
        assertThat(exec.kind()).isEqualTo(Kind.WRITE);
        assertThat(exec.objects()).anySatisfy(o -> assertThat(o).isEqualTo(ObjectAccess.of("public.orders", Access.WRITE)));
        // Prepared names fold like identifiers.
        assertThat(one(OFFLINE.classify("EXECUTE DEL(1)", session)).kind()).isEqualTo(Kind.WRITE);
        assertThat(one(OFFLINE.classify("EXECUTE del(1)", null)).kind()).isEqualTo(Kind.UNKNOWN);
        Classification both = OFFLINE.classify("PREPARE q AS SELECT 1; EXECUTE q", null);
        assertThat(both.statements().get(1).kind()).isEqualTo(Kind.READ);
    }

    @Test
    void statementTextsAreSlicedByThePosition() {
        Classification c = OFFLINE.classify("SELECT 'héllo ✓'; DELETE FROM t WHERE id = 1; SELECT '😀'", null);
        assertThat(c.statements()).extracting(Statement::text)
                .containsExactly("SELECT 'héllo ✓'", "DELETE FROM t WHERE id = 1", "SELECT '😀'");
        assertThat(c.kind()).isEqualTo(Kind.WRITE);
    }

    @Test
    void syntaxErrorsNameThePosition() {
        Statement s = one(OFFLINE.classify("SELECT ✓ FROM t WHERE", null));
        assertThat(s.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(s.reasons().get(0)).contains("syntax error").contains("position");
        SqlParser.ParseResult r = NativePgQuery.require().parse("SELECT 'é' FRM t");
        assertThat(r).isInstanceOf(SqlParser.SyntaxError.class);
        assertThat(((SqlParser.SyntaxError) r).position()).isEqualTo(15);
        SqlParser.ParseResult astral = NativePgQuery.require().parse("SELECT '😀' FRM t");
        assertThat(((SqlParser.SyntaxError) astral).position()).isEqualTo(16);
    }

    @Test
    void deepNestingIsRefusedOrHandledWithoutCrashing() {
        Classification chain = OFFLINE.classify("SELECT " + "1+".repeat(100_000) + "1", null);
        assertThat(chain.kind()).isEqualTo(Kind.READ);
        Classification parens = OFFLINE.classify("SELECT " + "(".repeat(5000) + "1" + ")".repeat(5000), null);
        assertThat(parens.kind()).isEqualTo(Kind.UNKNOWN);
        // The largest text accepted, in the deepest shape: labelled or refused, never a crash.
        Classification huge = OFFLINE.classify("SELECT " + "1+".repeat(DeepStack.MAX_TEXT / 2 - 10) + "1", null);
        assertThat(huge.kind()).isIn(Kind.READ, Kind.UNKNOWN);
        assertThat(OFFLINE.classify("SELECT 1 " + " ".repeat(DeepStack.MAX_TEXT), null).kind()).isEqualTo(Kind.UNKNOWN);
        Classification hidden = OFFLINE.classify("SELECT " + "1+".repeat(50_000) + "1; DELETE FROM t", null);
        assertThat(hidden.kind()).isEqualTo(Kind.WRITE);
    }

    @Test
    void fallbackAsksTheSecondCarrierOnlyOnASyntaxError() {
        int[] calls = {0};
        SqlParser second = sql -> {
            calls[0]++;
            return new SqlParser.Tree("{\"version\":180000,\"stmts\":[{\"stmt\":{\"SelectStmt\":{\"op\":\"SETOP_NONE\"}}}]}", "pg18-test");
        };
        PostgresClassifier c = new PostgresClassifier(new FallbackParser(NativePgQuery.require(), () -> second),
                BuiltinCatalog.INSTANCE, 0);
        assertThat(c.classify("SELECT 1", null).kind()).isEqualTo(Kind.READ);
        assertThat(calls[0]).isZero();
        Classification newer = c.classify("SELECT new syntax here", null);
        assertThat(calls[0]).isEqualTo(1);
        assertThat(newer.statements().get(0).reasons()).anySatisfy(r -> assertThat(r).contains("pg18-test"));
        SqlParser failing = sql -> new SqlParser.SyntaxError("nope", 3, "pg18-test");
        PostgresClassifier both = new PostgresClassifier(new FallbackParser(NativePgQuery.require(), failing),
                BuiltinCatalog.INSTANCE, 0);
        assertThat(one(both.classify("SELEC 1", null)).reasons().get(0)).contains("neither");
    }

    @Test
    void withoutTheLibraryEverythingIsUnknownWithTheInstallHint() {
        PostgresClassifier none = new PostgresClassifier(null, BuiltinCatalog.INSTANCE, 0);
        Statement s = one(none.classify("SELECT 1", null));
        assertThat(s.kind()).isEqualTo(Kind.UNKNOWN);
        assertThat(s.reasons().get(0)).contains("libpg-query-dev");
    }

    @Test
    void cacheIsKeyedByTextAndSearchPathAndDroppedWhenTheSchemaChanges() {
        Schema schema = new Schema();
        PostgresClassifier c = new PostgresClassifier(NativePgQuery.require(), schema, 100);
        Classification a = c.classify("SELECT * FROM users", null);
        assertThat(c.classify("SELECT * FROM users", null)).isSameAs(a);
        assertThat(one(c.classify("SELECT * FROM users", path("app"))).objects().get(0).name()).isEqualTo("app.users");
        schema.tables = Map.of("public.users", List.of("id"));
        assertThat(c.classify("SELECT * FROM users", null)).isSameAs(a);
        schema.generation.incrementAndGet();
        Classification b = c.classify("SELECT * FROM users", null);
        assertThat(b).isNotSameAs(a);
        assertThat(one(b).objects().get(0).columns()).containsExactly("id");
        // EXECUTE depends on the session's prepared statements: never cached.
        Map<String, Classification> p1 = Map.of("x", OFFLINE.classify("SELECT 1", null));
        Map<String, Classification> p2 = Map.of("x", OFFLINE.classify("DELETE FROM t", null));
        assertThat(c.classify("EXECUTE x", new ClassifyContext(ClassifyContext.DEFAULT_SEARCH_PATH, p1)).kind()).isEqualTo(Kind.READ);
        assertThat(c.classify("EXECUTE x", new ClassifyContext(ClassifyContext.DEFAULT_SEARCH_PATH, p2)).kind()).isEqualTo(Kind.WRITE);
    }

    @Test
    void manyThreadsParseAtOnce() throws Exception {
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger bad = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < 16; t++) {
            int n = t;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 500; i++) {
                    Classification c = OFFLINE.classify("SELECT " + n + ", " + i + " FROM t" + n + "; DELETE FROM u WHERE id = " + i, null);
                    if (c.kind() != Kind.WRITE || !c.statements().get(0).objects().get(0).name().equals("public.t" + n)) bad.incrementAndGet();
                }
            }));
        }
        for (Thread t : threads) t.join();
        assertThat(bad.get()).isZero();
    }
}
