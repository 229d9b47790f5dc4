package dev.warden.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Action;
import dev.warden.core.ledger.Entry;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The SDK's own MCP client against Warden's MCP server over streamable HTTP, on a real PostgreSQL. */
class McpHttpTest {
    static McpFixture f;
    static McpSyncClient client;

    @BeforeAll
    static void start() throws Exception {
        f = McpFixture.start();
        client = f.httpClient(McpFixture.SECRET);
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) client.closeGracefully();
        if (f != null) f.close();
    }

    static CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
        return c.callTool(new McpSchema.CallToolRequest(tool, args));
    }

    static String text(CallToolResult r) {
        return ((McpSchema.TextContent) r.content().getFirst()).text();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> data(CallToolResult r) {
        return (Map<String, Object>) r.structuredContent();
    }

    @Test
    @SuppressWarnings("unchecked")
    void listsTheToolsWithTruthfulAnnotations() {
        Map<String, McpSchema.Tool> tools = new java.util.HashMap<>();
        for (McpSchema.Tool t : client.listTools().tools()) tools.put(t.name(), t);
        assertThat(tools).containsOnlyKeys("list_databases", "describe", "query", "explain", "request_approval",
                "approval_status", "run_approved");
        assertThat(tools.get("query").annotations().readOnlyHint()).isFalse();
        assertThat(tools.get("query").annotations().destructiveHint()).isTrue();
        assertThat(tools.get("run_approved").annotations().destructiveHint()).isTrue();
        assertThat(tools.get("describe").annotations().readOnlyHint()).isTrue();
        assertThat(tools.get("explain").annotations().readOnlyHint()).isTrue();
        assertThat(tools.get("list_databases").annotations().readOnlyHint()).isTrue();
        assertThat(tools.get("query").inputSchema().get("required")).isEqualTo(List.of("database", "sql"));
        assertThat((Map<String, Object>) tools.get("query").inputSchema().get("properties")).containsOnlyKeys("database", "sql", "reason");
        assertThat((Map<String, Object>) tools.get("run_approved").inputSchema().get("properties")).containsOnlyKeys("id");
    }

    @Test
    void listsOnlyTheDatabasesOfTheAgent() {
        CallToolResult r = call(client, "list_databases", Map.of());
        assertThat(r.isError()).isFalse();
        assertThat(text(r)).contains("\"name\":\"app\"").contains("\"engine\":\"postgres\"");
    }

    @Test
    void anAllowedReadReturnsTheRows() throws Exception {
        int before = f.ledger.entries().size();
        CallToolResult r = call(client, "query", Map.of("database", "app", "sql", "SELECT id, item FROM orders WHERE id <= 3 ORDER BY id",
                "reason", "checking the orders"));
        assertThat(r.isError()).as(text(r)).isFalse();
        Map<String, Object> d = data(r);
        assertThat(d.get("columns")).isEqualTo(List.of("id", "item"));
        assertThat(d.get("rows")).isEqualTo(List.of(List.of("1", "apple"), List.of("2", "pear"), List.of("3", "plum")));
        assertThat(d.get("truncated")).isEqualTo(false);
        // The decision entry before, the outcome entry after, with the agent, the exact text and the reason.
        List<Entry> added = f.ledger.entries().subList(before, f.ledger.entries().size());
        Entry.DecisionEntry decision = added.stream().filter(e -> e instanceof Entry.DecisionEntry)
                .map(e -> (Entry.DecisionEntry) e).filter(e -> e.operation().text().equals("SELECT id, item FROM orders WHERE id <= 3 ORDER BY id"))
                .findFirst().orElseThrow();
        assertThat(decision.operation().agent()).isEqualTo("coding-agent");
        assertThat(decision.operation().database()).isEqualTo("app");
        assertThat(decision.operation().reason()).isEqualTo("checking the orders");
        assertThat(decision.decision().action()).isEqualTo(Action.ALLOW);
        assertThat(added).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(Entry.OutcomeEntry.class,
                o -> assertThat(o.outcome().rows()).isEqualTo(3)));
    }

    @Test
    void aDeniedWriteIsAToolErrorNamingTheRuleAndTheDatabaseIsUnchanged() throws Exception {
        long before = f.count("SELECT count(*) FROM audit_log");
        CallToolResult r = call(client, "query", Map.of("database", "app", "sql", "DELETE FROM audit_log"));
        assertThat(r.isError()).isTrue();
        assertThat(text(r)).contains("protect-audit-log").contains("the audit log is append-only").contains("not run");
        assertThat(text(r)).doesNotContainIgnoringCase("try");
        assertThat(data(r)).containsEntry("decision", "deny").containsEntry("rule", "protect-audit-log");
        assertThat(f.count("SELECT count(*) FROM audit_log")).isEqualTo(before).isEqualTo(2);
    }

    @Test
    void whatNoRuleAllowsIsDeniedByDefault() throws Exception {
        CallToolResult r = call(client, "query", Map.of("database", "app", "sql", "DROP TABLE orders"));
        assertThat(r.isError()).isTrue();
        assertThat(text(r)).contains("default deny");
        assertThat(f.count("SELECT count(*) FROM pg_tables WHERE tablename = 'orders'")).isEqualTo(1);
    }

    @Test
    void aStatementNeedingApprovalAnswersAtOnceThenRunsOnceWhenApproved() throws Exception {
        String sql = "INSERT INTO orders VALUES (100, 'approved', 'x@example.com')";
        CallToolResult pending = call(client, "query", Map.of("database", "app", "sql", sql, "reason", "customer asked"));
        assertThat(pending.isError()).isFalse();
        assertThat(data(pending)).containsEntry("status", "pending_approval").containsEntry("rule", "order-changes");
        String id = (String) data(pending).get("approval_id");
        assertThat(text(pending)).contains(id).contains("run_approved");
        assertThat(f.count("SELECT count(*) FROM orders WHERE id = 100")).isZero();

        CallToolResult notYet = call(client, "run_approved", Map.of("id", id));
        assertThat(notYet.isError()).isTrue();
        assertThat(text(notYet)).contains("pending");
        assertThat(data(call(client, "approval_status", Map.of("id", id)))).containsEntry("status", "pending")
                .containsEntry("sql", sql);

        f.approvals.decide(id, "alice", true, "fine");
        assertThat(data(call(client, "approval_status", Map.of("id", id)))).containsEntry("status", "approved");

        CallToolResult ran = call(client, "run_approved", Map.of("id", id));
        assertThat(ran.isError()).as(text(ran)).isFalse();
        assertThat(f.count("SELECT count(*) FROM orders WHERE id = 100")).isEqualTo(1);

        CallToolResult again = call(client, "run_approved", Map.of("id", id));
        assertThat(again.isError()).isTrue();
        assertThat(text(again)).contains("already run");
        assertThat(f.count("SELECT count(*) FROM orders WHERE id = 100")).isEqualTo(1);
        assertThat(data(call(client, "approval_status", Map.of("id", id)))).containsEntry("status", "used");
    }

    @Test
    void requestApprovalOpensATicketButNeverForADeniedStatement() throws Exception {
        CallToolResult denied = call(client, "request_approval", Map.of("database", "app", "sql", "DELETE FROM audit_log",
                "reason", "please, it is urgent"));
        assertThat(denied.isError()).isTrue();
        assertThat(text(denied)).contains("protect-audit-log");
        assertThat(f.approvals.list()).noneMatch(a -> a.operation().text().equals("DELETE FROM audit_log"));

        // Not "SELECT 1 FROM orders": a table named without columns touches them all, email (pii) included, which
        // the personal-data rule sends to approval (McpRequestApprovalTagsTest).
        CallToolResult allowed = call(client, "request_approval", Map.of("database", "app", "sql", "SELECT item FROM orders", "reason", "x"));
        assertThat(data(allowed)).containsEntry("status", "not_needed");

        String sql = "UPDATE orders SET item = 'quince' WHERE id = 3";
        CallToolResult opened = call(client, "request_approval", Map.of("database", "app", "sql", sql, "reason", "rename"));
        assertThat(opened.isError()).isFalse();
        String id = (String) data(opened).get("approval_id");
        assertThat(f.approvals.get(id)).hasValueSatisfying(a -> {
            assertThat(a.operation().text()).isEqualTo(sql);
            assertThat(a.operation().reason()).isEqualTo("rename");
        });
        assertThat(f.count("SELECT count(*) FROM orders WHERE item = 'quince'")).isZero();
    }

    @Test
    void anotherAgentsApprovalIsNotVisible() throws Exception {
        String sql = "INSERT INTO orders VALUES (200, 'other', NULL)";
        String id = (String) data(call(client, "query", Map.of("database", "app", "sql", sql))).get("approval_id");
        f.approvals.decide(id, "alice", true, null);
        McpSyncClient other = f.httpClient(McpFixture.OTHER_SECRET);
        try {
            CallToolResult r = call(other, "run_approved", Map.of("id", id));
            assertThat(r.isError()).isTrue();
            assertThat(text(r)).contains("no approval request");
            assertThat(call(other, "query", Map.of("database", "app", "sql", "SELECT 1 FROM orders")).isError()).isTrue();
        } finally {
            other.closeGracefully();
        }
        assertThat(f.count("SELECT count(*) FROM orders WHERE id = 200")).isZero();
    }

    @Test
    void truncationByRowsAndByBytesIsStated() {
        CallToolResult rows = call(client, "query", Map.of("database", "app",
                "sql", "SELECT g FROM generate_series(1, 3000) AS g"));
        assertThat(rows.isError()).as(text(rows)).isFalse();
        assertThat(data(rows)).containsEntry("truncated", true).containsEntry("row_count", 1000);
        assertThat((String) data(rows).get("truncation")).contains("max_rows (1000)");
        assertThat(text(rows)).contains("\"truncated\":true");

        CallToolResult bytes = call(client, "query", Map.of("database", "app",
                "sql", "SELECT repeat('x', 5000) FROM generate_series(1, 400)"));
        assertThat(data(bytes)).containsEntry("truncated", true);
        assertThat((String) data(bytes).get("truncation")).contains("max_bytes");
        assertThat(text(bytes).length()).isLessThan(1024 * 1024 + 4096);
    }

    @Test
    void explainShowsThePlanWithoutRunningAndRefusesAnalyze() throws Exception {
        CallToolResult plan = call(client, "explain", Map.of("database", "app", "sql", "SELECT id, item FROM orders WHERE item = 'pear'"));
        assertThat(plan.isError()).as(text(plan)).isFalse();
        assertThat(text(plan)).contains("Scan");
        CallToolResult analyze = call(client, "explain", Map.of("database", "app", "sql", "ANALYZE SELECT * FROM orders"));
        assertThat(analyze.isError()).isTrue();
        CallToolResult options = call(client, "explain", Map.of("database", "app", "sql", "(ANALYZE) DELETE FROM orders"));
        assertThat(options.isError()).isTrue();
        CallToolResult stacked = call(client, "explain", Map.of("database", "app", "sql", "SELECT 1; DELETE FROM orders"));
        assertThat(stacked.isError()).isTrue();
        assertThat(text(stacked)).contains("exactly one statement");
        assertThat(data(plan).get("plan")).asString().contains("orders");
        assertThat(f.count("SELECT count(*) FROM orders WHERE id IN (1, 2, 3)")).isEqualTo(3);
    }

    @Test
    void describeListsTablesColumnsTagsAndIndexes() {
        CallToolResult r = call(client, "describe", Map.of("database", "app"));
        assertThat(r.isError()).as(text(r)).isFalse();
        assertThat(text(r)).contains("public.orders").contains("public.audit_log").contains("orders_item")
                .contains("{\"name\":\"email\",\"type\":\"text\",\"nullable\":true,\"tags\":[\"pii\"]}");
    }

    @Test
    void anUnknownDatabaseIsAnError() {
        CallToolResult r = call(client, "query", Map.of("database", "nope", "sql", "SELECT 1"));
        assertThat(r.isError()).isTrue();
        assertThat(text(r)).contains("list_databases");
    }

    @Test
    void aWrongOrMissingBearerTokenIsRefused() throws Exception {
        assertThatThrownBy(() -> f.httpClient("not-the-secret")).isInstanceOf(Exception.class);
        HttpClient http = HttpClient.newHttpClient();
        String init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                + "\"capabilities\":{},\"clientInfo\":{\"name\":\"x\",\"version\":\"1\"}}}";
        for (String auth : new String[] {null, "Bearer wrong", "Basic " + McpFixture.SECRET, "Bearer " + McpFixture.SECRET + "x"}) {
            HttpRequest.Builder b = HttpRequest.newBuilder(f.server.endpoint()).header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream").POST(HttpRequest.BodyPublishers.ofString(init));
            if (auth != null) b.header("Authorization", auth);
            HttpResponse<String> res = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).as(String.valueOf(auth)).isEqualTo(401);
            assertThat(res.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"warden\"");
        }
        HttpRequest ok = HttpRequest.newBuilder(f.server.endpoint()).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("Authorization", "Bearer " + McpFixture.SECRET)
                .header("X-Warden-Agent", "reporting-agent").POST(HttpRequest.BodyPublishers.ofString(init)).build();
        assertThat(http.send(ok, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
    }

    /**
     * A wrong bearer token left no trace and cost nothing: no ledger entry (a wrong secret on the wire has one) and no
     * delay, so a guesser could try tokens as fast as the endpoint answered.
     */
    @Test
    void aWrongTokenIsRecordedAndSlowsTheNextOnesFromItsAddress() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                + "\"capabilities\":{},\"clientInfo\":{\"name\":\"x\",\"version\":\"1\"}}}";
        HttpRequest wrong = HttpRequest.newBuilder(f.server.endpoint()).header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("Authorization", "Bearer guess")
                .header("X-Warden-Agent", "coding-agent").POST(HttpRequest.BodyPublishers.ofString(init)).build();
        int before = f.ledger.entries().size();
        assertThat(http.send(wrong, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        long start = System.nanoTime();
        assertThat(http.send(wrong, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        assertThat((System.nanoTime() - start) / 1_000_000).as("the second wrong token's answer waits").isGreaterThanOrEqualTo(150);
        assertThat(f.ledger.entries().subList(before, f.ledger.entries().size()))
                .filteredOn(e -> e instanceof Entry.DecisionEntry d && d.operation().text().equals("-- authentication"))
                .hasSize(2)
                .allSatisfy(e -> {
                    Entry.DecisionEntry d = (Entry.DecisionEntry) e;
                    assertThat(d.decision().action()).isEqualTo(Action.DENY);
                    assertThat(d.operation().engine()).isEqualTo("mcp");
                    assertThat(d.operation().agent()).isEqualTo("coding-agent");
                    assertThat(d.decision().reasons().getFirst()).contains("wrong MCP bearer token for agent \"coding-agent\"");
                });
        // The agent itself, at work from this address, still gets in.
        CallToolResult r = call(client, "list_databases", Map.of());
        assertThat(r.isError()).isFalse();
    }

    /** Malformed JSON from an agent got the SDK's 400 with a Java stack trace: class names, lines, library versions. */
    @Test
    void aMalformedRequestGetsAPlainErrorWithoutInternals() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (String body : new String[] {"{not json", "[1,2", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}"}) {
            HttpRequest bad = HttpRequest.newBuilder(f.server.endpoint()).header("Content-Type", "application/json")
                    .header("Accept", "application/json, text/event-stream").header("Authorization", "Bearer " + McpFixture.SECRET)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            HttpResponse<String> res = http.send(bad, HttpResponse.BodyHandlers.ofString());
            assertThat(res.statusCode()).as(body).isEqualTo(400);
            assertThat(res.body()).as(body).doesNotContain("\tat ", "Exception", "io.modelcontextprotocol", "com.fasterxml");
        }
    }

    /**
     * What JsonRpcFilter let through still met the SDK's own error answer, the exception serialized whole: a body the
     * filter read as JSON-RPC but the SDK did not (a UTF-8 byte order mark, UTF-16), one it judged otherwise (an id
     * that is null or past a long), and requests the SDK refuses for their headers or session (no session id, a
     * response or notification outside a session, the wrong Content-Type, a GET without a session).
     */
    @Test
    void noErrorOfTheTransportShowsItsInternals() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-06-18\","
                + "\"capabilities\":{},\"clientInfo\":{\"name\":\"x\",\"version\":\"1\"}}}";
        Map<String, byte[]> bodies = new java.util.LinkedHashMap<>();
        bodies.put("byte order mark", ("\uFEFF" + init).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        bodies.put("UTF-16", init.getBytes(java.nio.charset.StandardCharsets.UTF_16LE));
        bodies.put("null id", "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"initialize\"}".getBytes());
        bodies.put("huge id", "{\"jsonrpc\":\"2.0\",\"id\":123456789012345678901234567890,\"method\":\"initialize\",\"params\":{}}".getBytes());
        bodies.put("response without session", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}".getBytes());
        bodies.put("notification without session", "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}".getBytes());
        bodies.put("request without session", "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}".getBytes());
        List<HttpRequest> requests = new java.util.ArrayList<>();
        bodies.forEach((name, body) -> requests.add(authorized().header("Content-Type", "application/json")
                .header("Accept", "application/json, text/event-stream").header("X-Case", name)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build()));
        requests.add(authorized().header("Content-Type", "text/plain").header("Accept", "application/json, text/event-stream")
                .header("X-Case", "text/plain").POST(HttpRequest.BodyPublishers.ofString(init)).build());
        requests.add(authorized().header("Accept", "text/event-stream").header("X-Case", "GET without session").GET().build());
        for (HttpRequest r : requests) {
            HttpResponse<String> res = http.send(r, HttpResponse.BodyHandlers.ofString());
            String name = r.headers().firstValue("X-Case").orElseThrow();
            assertThat(res.statusCode()).as(name).isBetween(400, 499);
            assertThat(res.body()).as(name).doesNotContain("stackTrace", "\tat ", "Exception", "io.modelcontextprotocol",
                    "com.fasterxml", "java.");
        }
    }

    private static HttpRequest.Builder authorized() {
        return HttpRequest.newBuilder(f.server.endpoint()).header("Authorization", "Bearer " + McpFixture.SECRET);
    }

    @Test
    void aDisabledAgentIsRefused() {
        f.disabled.add("reporting-agent");
        try {
            assertThatThrownBy(() -> f.httpClient(McpFixture.OTHER_SECRET)).isInstanceOf(Exception.class);
        } finally {
            f.disabled.remove("reporting-agent");
        }
    }

    @Test
    void eachCallStartsFromACleanSession() {
        CallToolResult set = call(client, "query", Map.of("database", "app", "sql", "SELECT set_config('application_name', 'leak', false)"));
        assertThat(set.isError()).as(text(set)).isFalse();
        CallToolResult after = call(client, "query", Map.of("database", "app", "sql", "SELECT current_setting('application_name')"));
        assertThat(data(after).get("rows")).isNotEqualTo(List.of(List.of("leak")));
    }

    @Test
    void theDatabasesStatementTimeoutApplies() {
        CallToolResult r = call(client, "query", Map.of("database", "app", "sql", "SELECT pg_sleep(10)"));
        assertThat(r.isError()).as(text(r)).isTrue();
        assertThat(data(r)).containsEntry("status", "database_error").containsEntry("code", "57014");
        // The session it ran on is clean again for the next call.
        assertThat(call(client, "query", Map.of("database", "app", "sql", "SELECT 1")).isError()).isFalse();
    }

    @Test
    void aReadRunsInAReadOnlyTransaction() {
        CallToolResult r = call(client, "query", Map.of("database", "app", "sql", "SELECT current_setting('transaction_read_only')"));
        assertThat(data(r).get("rows")).isEqualTo(List.of(List.of("on")));
    }

    @Test
    void theLiveCatalogTagsWhatIsReadAndThePolicySeesIt() throws Exception {
        CallToolResult r = call(client, "query", Map.of("database", "app", "sql", "SELECT email FROM orders WHERE id = 1"));
        assertThat(r.isError()).isFalse();
        assertThat(data(r)).containsEntry("status", "pending_approval").containsEntry("rule", "personal-data");
        assertThat(text(r)).doesNotContain("a@example.com");
        Entry.DecisionEntry d = f.ledger.entries().reversed().stream().filter(e -> e instanceof Entry.DecisionEntry de
                && de.operation().text().equals("SELECT email FROM orders WHERE id = 1")).map(e -> (Entry.DecisionEntry) e)
                .findFirst().orElseThrow();
        assertThat(d.classification().tags()).containsExactly("pii");
        String id = (String) data(r).get("approval_id");
        f.approvals.decide(id, "alice", true, null);
        CallToolResult ran = call(client, "run_approved", Map.of("id", id));
        assertThat(data(ran).get("rows")).isEqualTo(List.of(List.of("a@example.com")));
    }

    @Test
    void twoConcurrentRunApprovedCallsRunTheStatementOnce() throws Exception {
        String sql = "INSERT INTO orders VALUES (400, 'race', NULL)";
        String id = (String) data(call(client, "query", Map.of("database", "app", "sql", sql))).get("approval_id");
        f.approvals.decide(id, "alice", true, null);
        McpSyncClient second = f.httpClient(McpFixture.SECRET);
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var a = pool.submit(() -> call(client, "run_approved", Map.of("id", id)));
            var b = pool.submit(() -> call(second, "run_approved", Map.of("id", id)));
            List<CallToolResult> results = List.of(a.get(), b.get());
            assertThat(results).filteredOn(r -> !r.isError()).hasSize(1);
        } finally {
            second.closeGracefully();
        }
        assertThat(f.count("SELECT count(*) FROM orders WHERE id = 400")).isEqualTo(1);
    }
}
