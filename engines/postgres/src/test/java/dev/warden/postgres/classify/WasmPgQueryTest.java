package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.postgres.classify.SqlParser.ParseResult;
import dev.warden.postgres.classify.SqlParser.SyntaxError;
import dev.warden.postgres.classify.SqlParser.Tree;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class WasmPgQueryTest {

    private static WasmPgQuery parser;

    @BeforeAll
    static void load() throws Exception {
        parser = new WasmPgQuery();
        long start = System.nanoTime();
        ParseResult first = parser.preload().get();
        long firstMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(first).isInstanceOf(Tree.class);
        // A second carrier reuses the loaded module: this is the cost of one more instance.
        WasmPgQuery other = new WasmPgQuery(1, Duration.ofSeconds(30));
        start = System.nanoTime();
        assertThat(other.preload().get()).isInstanceOf(Tree.class);
        long instanceMillis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("pg18-wasm: start-up %d ms wall, %.0f ms CPU (module load + first instance + first parse); "
                + "one more instance %d ms wall%n", firstMillis,
                (parser.stats().instanceCpuNanos() + parser.stats().parseCpuNanos()) / 1e6, instanceMillis);
    }

    @AfterAll
    static void timing() {
        String sql = "SELECT a.id, b.name FROM a JOIN b ON a.id = b.a_id WHERE a.x > 10 ORDER BY 1 LIMIT 5";
        for (int i = 0; i < 100; i++) {
            parser.parse(sql);
        }
        int n = 200;
        WasmPgQuery.Stats before = parser.stats();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            parser.parse(sql);
        }
        WasmPgQuery.Stats after = parser.stats();
        System.out.printf("pg18-wasm: a short SELECT costs %.3f ms CPU (%.3f ms wall) per parse, one caller%n",
                (after.parseCpuNanos() - before.parseCpuNanos()) / 1e6 / n, (System.nanoTime() - start) / 1e6 / n);
    }

    @Test
    void parsesToLibpgQueryJson() {
        ParseResult r = parser.parse("SELECT a FROM t WHERE b = 1");
        assertThat(r).isInstanceOf(Tree.class);
        Tree t = (Tree) r;
        assertThat(t.grammar()).isEqualTo("pg18-wasm");
        assertThat(t.json()).startsWith("{\"version\":18").contains("\"SelectStmt\"").contains("\"RangeVar\"")
                .contains("\"relname\":\"t\"");
    }

    @Test
    void knowsPostgres18SyntaxThatPostgres15DoesNot() {
        // RETURNING in MERGE (PostgreSQL 17), JSON_TABLE (17), OLD/NEW in RETURNING (18)
        assertThat(parser.parse("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING t.*"))
                .isInstanceOf(Tree.class);
        assertThat(parser.parse("SELECT * FROM JSON_TABLE('[1]'::jsonb, '$[*]' COLUMNS (a int PATH '$'))"))
                .isInstanceOf(Tree.class);
        Tree t = (Tree) parser.parse("UPDATE t SET a = 1 RETURNING old.a, new.a");
        assertThat(t.json()).contains("\"UpdateStmt\"");
    }

    @Test
    void syntaxErrorsComeBackWithTheirPositionNotAsExceptions() {
        ParseResult r = parser.parse("SELECT * FROM FROM t");
        assertThat(r).isInstanceOf(SyntaxError.class);
        SyntaxError e = (SyntaxError) r;
        assertThat(e.message()).isEqualTo("syntax error at or near \"FROM\"");
        assertThat(e.position()).isEqualTo(14);
        assertThat(e.grammar()).isEqualTo("pg18-wasm");
    }

    @Test
    void positionCountsCharactersNotUtf8Bytes() {
        String sql = "SELECT 'żółć€😀' FROM FROM t";
        SyntaxError e = (SyntaxError) parser.parse(sql);
        assertThat(e.position()).isEqualTo(sql.indexOf("FROM t"));
    }

    @Test
    void scannerErrorsAndEndOfInput() {
        assertThat(parser.parse("SELECT 'unterminated")).isInstanceOfSatisfying(SyntaxError.class,
                e -> assertThat(e.message()).contains("unterminated quoted string"));
        assertThat(parser.parse("SELECT (1")).isInstanceOfSatisfying(SyntaxError.class,
                e -> assertThat(e.message()).isEqualTo("syntax error at end of input"));
    }

    @Test
    void manyErrorsInARowLeaveTheInstanceUsable() {
        // Every syntax error is a longjmp through invoke_*: a broken emulation shows up as a trap or a leak here.
        for (int i = 0; i < 150; i++) {
            assertThat(parser.parse("SELEC " + i)).isInstanceOf(SyntaxError.class);
            assertThat(parser.parse("SELECT " + i)).isInstanceOf(Tree.class);
        }
    }

    @Test
    void multipleStatementsAreSplitByTheParser() {
        Tree t = (Tree) parser.parse("SELECT ';'; DELETE FROM t; SELECT $$;$$");
        assertThat(t.json()).contains("\"DeleteStmt\"");
        assertThat(t.json().split("\"stmt\":", -1)).hasSize(4);
    }

    @Test
    void textThatCIsNotShownWholeIsRefused() {
        assertThat(parser.parse("SELECT 1;\0 DROP TABLE t")).isInstanceOfSatisfying(SyntaxError.class,
                e -> assertThat(e.position()).isEqualTo(9));
        assertThat(parser.parse("SELECT '\uD800'")).isInstanceOf(SyntaxError.class);
        assertThat(parser.parse(null)).isInstanceOf(SyntaxError.class);
    }

    @Test
    void emptyAndCommentOnlyTextIsAnEmptyTree() {
        assertThat(parser.parse("")).isInstanceOf(Tree.class);
        assertThat(parser.parse("-- nothing")).isInstanceOf(Tree.class);
    }

    @Test
    void deepNestingDoesNotBreakTheParser() {
        String deep = "SELECT " + "(".repeat(5_000) + "1" + ")".repeat(5_000);
        ParseResult r = parser.parse(deep);
        // Either PostgreSQL's own depth limit or a tree; never an exception, and the parser still works after.
        assertThat(r).isNotNull();
        assertThat(parser.parse("SELECT 2")).isInstanceOf(Tree.class);
    }

    @Test
    void aStatementThatTakesTooLongIsRefusedAndItsWorkerFreed() throws Exception {
        WasmPgQuery one = new WasmPgQuery(1, Duration.ofSeconds(60));
        assertThat(one.preload().get()).isInstanceOf(Tree.class);
        // Uninterrupted, this takes minutes (nesting costs more than linear time under Chicory's interpreter).
        ParseResult slow = one.parse("SELECT " + "1+".repeat(60_000) + "1", Duration.ofMillis(300));
        assertThat(slow).isInstanceOfSatisfying(SyntaxError.class,
                e -> assertThat(e.message()).contains("took longer than 300 ms"));
        // The worker was interrupted and its instance thrown away: the next statement gets a new instance at once.
        long start = System.nanoTime();
        assertThat(one.parse("SELECT 2")).isInstanceOf(Tree.class);
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("pg18-wasm: next parse after a timeout %d ms%n", millis);
        assertThat(millis).isLessThan(15_000);
    }

    @Test
    void linearMemoryGrowsWhenMallocNeedsMore() throws Exception {
        // Data and the C stack end just below 33 MiB (527 pages); start two pages above and make malloc grow.
        WasmPgQuery tight = new WasmPgQuery(1, Duration.ofSeconds(60), 529);
        String literal = "ab€".repeat(80_000); // 240,000 characters, 400,000 bytes: under the size limit
        assertThat(literal.length()).isLessThan(DeepStack.MAX_TEXT - 100);
        ParseResult r = tight.parse("SELECT '" + literal + "' AS big");
        assertThat(r).isInstanceOfSatisfying(Tree.class, t -> assertThat(t.json()).contains(literal));
        assertThat(tight.stats().memoryGrowths()).isEqualTo(1);
        assertThat(tight.parse("SELECT 3")).isInstanceOf(Tree.class);
    }

    @Test
    void refusesTextsTheNativeCarrierRefusesAsTooLarge() {
        String huge = "SELECT '" + "x".repeat(DeepStack.MAX_TEXT) + "'";
        assertThat(parser.parse(huge)).isInstanceOfSatisfying(SyntaxError.class,
                e -> assertThat(e.message()).contains("too large"));
    }

    @Test
    void parsesFromManyThreadsAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 120; i++) {
                int n = i + 1; // PostgreSQL's JSON leaves out zero values
                Callable<Boolean> task = () -> {
                    ParseResult ok = parser.parse("SELECT " + n + " AS c" + n);
                    ParseResult bad = parser.parse("SELECT " + n + " FROM FROM");
                    return ok instanceof Tree t && t.json().contains("\"ival\":" + n)
                            && bad instanceof SyntaxError;
                };
                results.add(pool.submit(task));
            }
            for (Future<Boolean> f : results) {
                assertThat(f.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
