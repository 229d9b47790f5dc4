package dev.warden.mcp;

import static dev.warden.mcp.McpHttpTest.call;
import static dev.warden.mcp.McpHttpTest.data;
import static dev.warden.mcp.McpHttpTest.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Action;
import dev.warden.core.Gate;
import dev.warden.core.Kind;
import dev.warden.core.Operation;
import dev.warden.core.Target;
import dev.warden.core.Verdict;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.MemoryLedger;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The PostgreSQL classifier's bypass suite sent through the {@code query} tool: every case is classified and decided
 * exactly as the gate classifies and decides the same operation for the wire front end (same engine, same policy);
 * nothing denied reaches the database, which is unchanged afterwards.
 */
class McpBypassSuiteTest {
    static McpFixture f;
    static McpSyncClient client;
    static Gate wire;
    static String before;

    @BeforeAll
    static void start() throws Exception {
        f = McpFixture.start(false);
        client = f.httpClient(McpFixture.SECRET);
        // The same policy and engine, as the wire front end asks it.
        wire = new Gate(Map.of("app", new Target("app", "postgres",
                new McpFixture.StandInEngine().classifier(Catalog.NONE), Catalog.NONE)),
                f.gate.policy(), McpFixture.approvals(new MemoryLedger()), new MemoryLedger(), null);
        before = snapshot();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (f != null) assertThat(snapshot()).as("the database after the whole suite").isEqualTo(before);
        } finally {
            if (client != null) client.closeGracefully();
            if (f != null) f.close();
        }
    }

    static String snapshot() throws Exception {
        return f.count("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace") + "/"
                + f.count("SELECT count(*) FROM orders") + "/" + f.count("SELECT count(*) FROM audit_log") + "/"
                + f.count("SELECT count(*) FROM pg_roles");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.warden.postgres.classify.BypassSuiteTest#cases")
    void decidedAsOnTheWire(String sql, Kind kind, Set<String> flags) {
        CallToolResult r = call(client, "query", Map.of("database", "app", "sql", sql));
        if (sql.isBlank()) {
            // An empty text is refused by the tool before the gate: nothing to run.
            assertThat(r.isError()).isTrue();
            return;
        }
        Verdict expected = wire.submit(new Operation("coding-agent", "app", "postgres", sql, List.of(), null, "wire", "", null),
                ClassifyContext.defaults(), null);
        if (DatabaseTools.sessionRefusal(expected.classification()) != null) {
            // Where MCP differs from the wire on purpose: a call is its own transaction, and Warden's statement
            // timeout stays; refused before the gate, whatever the policy says.
            assertThat(r.isError()).as(sql).isTrue();
            assertThat(text(r)).contains("Nothing was run");
            return;
        }
        Map<String, Object> d = data(r);
        Action actual = switch (String.valueOf(d.get("status"))) {
            case "ok", "database_error" -> Action.ALLOW;
            case "pending_approval" -> Action.APPROVE;
            case "denied" -> Action.DENY;
            default -> throw new AssertionError("unexpected answer: " + text(r));
        };
        assertThat(actual).as("decision for %s: %s", sql, text(r)).isEqualTo(expected.decision().action());
        if (actual != Action.ALLOW) assertThat(d.get("rule")).isEqualTo(expected.decision().rule());
        Entry.DecisionEntry recorded = f.ledger.entries().reversed().stream()
                .filter(e -> e instanceof Entry.DecisionEntry de && de.operation().text().equals(sql))
                .map(e -> (Entry.DecisionEntry) e).findFirst().orElseThrow();
        // The kind the wire path gives this text: the suite states the native grammar's kinds, while the engine also
        // asks its second grammar (PostgreSQL 18) when the first reports a syntax error.
        assertThat(recorded.classification().kind()).as("kind of %s", sql).isEqualTo(expected.classification().kind());
        assertThat(recorded.decision().action()).isEqualTo(expected.decision().action());
        if (actual != Action.ALLOW) assertThat(r.isError() || actual == Action.APPROVE).isTrue();
    }
}
