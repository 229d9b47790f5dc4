package dev.warden.bench;

import dev.warden.core.Classification;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.catalog.BuiltinCatalog;
import dev.warden.postgres.classify.NativePgQuery;
import dev.warden.postgres.classify.PostgresClassifier;
import dev.warden.postgres.classify.SqlParser;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * PostgreSQL classification on one thread over a realistic mix of what agents send: point reads, joins and
 * aggregates, CTEs, writes with WHERE, EXPLAIN, transaction control, catalog queries, a multi-statement text.
 * {@code cold}: every call parses and walks (no cache). {@code cached}: the exact-text cache answers.
 * {@code nativeParseOnly}: libpg_query alone, for scale.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ClassifierBenchmark {
    static final List<String> MIX = List.of(
            "SELECT * FROM orders WHERE id = 42",
            "SELECT id, name, email FROM users WHERE email = 'a@example.com' LIMIT 1",
            "SELECT o.id, o.total, u.name FROM orders o JOIN users u ON u.id = o.user_id WHERE o.created_at > now() - interval '7 days' ORDER BY o.total DESC LIMIT 50",
            "SELECT date_trunc('day', created_at) AS d, count(*), sum(total), percentile_cont(0.5) WITHIN GROUP (ORDER BY total) FROM orders GROUP BY 1 ORDER BY 1",
            "WITH recent AS (SELECT user_id, max(created_at) AS last FROM orders GROUP BY user_id) SELECT u.name, r.last FROM users u JOIN recent r ON r.user_id = u.id WHERE r.last < now() - interval '90 days'",
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
            "SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY n_live_tup DESC LIMIT 20",
            "SELECT lower(name), coalesce(phone, '-'), jsonb_build_object('id', id, 'tags', tags) FROM customers WHERE status IN ('active', 'trial')",
            "INSERT INTO events (kind, payload) VALUES ('login', '{\"ip\": \"10.0.0.1\"}')",
            "UPDATE orders SET status = 'shipped', shipped_at = now() WHERE id = 1001",
            "DELETE FROM sessions WHERE expires_at < now()",
            "EXPLAIN (FORMAT JSON) SELECT * FROM orders WHERE user_id = 7",
            "BEGIN",
            "COMMIT",
            "SHOW search_path",
            "SELECT count(*) FROM orders WHERE status = 'open'",
            "BEGIN READ ONLY; SELECT * FROM invoices WHERE customer_id = 3; COMMIT",
            "SELECT p.name, sum(li.qty * li.price) AS revenue FROM line_items li JOIN products p ON p.id = li.product_id GROUP BY p.name HAVING sum(li.qty * li.price) > 1000 ORDER BY revenue DESC",
            "SELECT * FROM generate_series(1, 10) AS g(i) CROSS JOIN LATERAL (SELECT i * 2 AS twice) t",
            "WITH d AS (DELETE FROM carts WHERE updated_at < now() - interval '30 days' RETURNING id) SELECT count(*) FROM d");

    SqlParser parser;
    PostgresClassifier cold;
    PostgresClassifier cached;
    ClassifyContext ctx;
    int i;

    @Setup
    public void setup() {
        parser = NativePgQuery.require();
        cold = new PostgresClassifier(parser, BuiltinCatalog.INSTANCE, 0);
        cached = new PostgresClassifier(NativePgQuery.require(), BuiltinCatalog.INSTANCE, 10_000);
        ctx = ClassifyContext.defaults();
        for (String s : MIX) cached.classify(s, ctx);
    }

    @Benchmark
    public Classification coldClassify() {
        String s = MIX.get(i++ % MIX.size());
        return cold.classify(s, ctx);
    }

    /** The native parser alone (text to JSON parse tree): what the cold path costs at the least. */
    @Benchmark
    public SqlParser.ParseResult nativeParseOnly() {
        String s = MIX.get(i++ % MIX.size());
        return parser.parse(s);
    }

    @Benchmark
    public Classification cachedClassify() {
        String s = MIX.get(i++ % MIX.size());
        return cached.classify(s, ctx);
    }
}
