package dev.warden.mcp;

import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.server.McpSyncServerExchange;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import io.modelcontextprotocol.spec.McpSchema.Tool;
import io.modelcontextprotocol.spec.McpSchema.ToolAnnotations;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The tools as MCP sees them. Names and argument names are a contract. The annotations are truthful: {@code query}
 * and {@code run_approved} may change data (the policy decides what actually runs), the others only read or only
 * touch Warden's approval store.
 */
final class ToolSpecs {
    static final String AGENT = "warden.agent";
    static final String CLIENT = "warden.client";

    private ToolSpecs() {}

    static List<SyncToolSpecification> all(DatabaseTools tools) {
        return List.of(
                spec(tool("list_databases", "List databases",
                        "Lists the databases this agent may use through Warden, with their engine (postgres, mysql, "
                                + "mongodb) and the result caps. Call it first to learn the database names the other tools take.",
                        schema(Map.of(), List.of()), annotations("List databases", true, false, true)),
                        (c, a) -> tools.listDatabases(c)),
                spec(tool("describe", "Describe a database",
                        "Describes one database from its live catalog: every table and view with its columns (name, type, "
                                + "nullable, and sensitivity tags such as pii where configured) and its indexes. Use it "
                                + "before writing SQL so column names are right. Reads the catalog only.",
                        schema(Map.of("database", prop("The database name, as given by list_databases.")), List.of("database")),
                        annotations("Describe a database", true, false, true)),
                        (c, a) -> tools.describe(c, str(a, "database"))),
                spec(tool("query", "Run SQL",
                        "Runs one SQL text on a database through Warden's policy. Every call is classified, decided and "
                                + "recorded in an audit ledger. Allowed reads run in a read-only transaction and return "
                                + "compact JSON: column names once, then rows as arrays of text values (null for NULL). "
                                + "Results are capped (see list_databases); when a result is cut the answer says so in "
                                + "'truncation' - narrow the query rather than assume the rows shown are all. A statement "
                                + "the policy denies returns an error naming the rule: that is the final answer for that "
                                + "operation, report it to the user. A statement that needs a person's approval is not run: "
                                + "the answer gives an approval request id to check with approval_status and run with run_approved.",
                        schema(Map.of(
                                "database", prop("The database name, as given by list_databases."),
                                "sql", prop("The exact SQL text to run. It is judged and run exactly as given."),
                                "reason", prop("Optional: why this is needed, in one sentence. Shown to a person when "
                                        + "approval is needed; it does not change the decision.")), List.of("database", "sql")),
                        annotations("Run SQL", false, true, false)),
                        (c, a) -> tools.query(c, str(a, "database"), str(a, "sql"), str(a, "reason"))),
                spec(tool("explain", "Explain a query plan",
                        "Shows the database's plan for one statement without running it (EXPLAIN, never EXPLAIN ANALYZE). "
                                + "Pass the statement itself, without EXPLAIN or options. The EXPLAIN is judged by the policy "
                                + "like any statement and runs in a read-only transaction.",
                        schema(Map.of(
                                "database", prop("The database name, as given by list_databases."),
                                "sql", prop("The statement to plan, without EXPLAIN.")), List.of("database", "sql")),
                        annotations("Explain a query plan", true, false, true)),
                        (c, a) -> tools.explain(c, str(a, "database"), str(a, "sql"))),
                spec(tool("request_approval", "Ask a person to approve SQL",
                        "Opens an approval request for one exact SQL text that the policy sends to approval, and returns "
                                + "its id at once. A person decides it in Warden's console; the reason is shown to them. "
                                + "The statement does not run now: once approved, run_approved runs exactly this text once. "
                                + "A statement the policy denies cannot be sent to approval.",
                        schema(Map.of(
                                "database", prop("The database name, as given by list_databases."),
                                "sql", prop("The exact SQL text to approve; exactly this text will run."),
                                "reason", prop("Why this is needed, for the person who decides.")), List.of("database", "sql", "reason")),
                        annotations("Ask for approval", false, false, false)),
                        (c, a) -> tools.requestApproval(c, str(a, "database"), str(a, "sql"), str(a, "reason"))),
                spec(tool("approval_status", "Check an approval request",
                        "Tells whether an approval request of this agent is pending, approved, denied, expired or already "
                                + "used, with the statement it binds.",
                        schema(Map.of("id", prop("The approval request id.")), List.of("id")),
                        annotations("Check an approval request", true, false, true)),
                        (c, a) -> tools.approvalStatus(c, str(a, "id"))),
                spec(tool("run_approved", "Run an approved statement",
                        "Runs the exact statement of an approved request, once. A second call for the same id is refused. "
                                + "Returns the result like query.",
                        schema(Map.of("id", prop("The approval request id.")), List.of("id")),
                        annotations("Run an approved statement", false, true, false)),
                        (c, a) -> tools.runApproved(c, str(a, "id"))));
    }

    private static Tool tool(String name, String title, String description, Map<String, Object> schema, ToolAnnotations annotations) {
        return Tool.builder().name(name).title(title).description(description).inputSchema(schema).annotations(annotations).build();
    }

    private static ToolAnnotations annotations(String title, boolean readOnly, boolean destructive, boolean idempotent) {
        // openWorldHint false: the tools reach the configured databases only.
        return new ToolAnnotations(title, readOnly, destructive, idempotent, false, null);
    }

    private static Map<String, Object> schema(Map<String, Object> properties, List<String> required) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("type", "object");
        s.put("properties", new LinkedHashMap<>(properties));
        s.put("required", required);
        s.put("additionalProperties", false);
        return s;
    }

    private static Map<String, Object> prop(String description) {
        return Map.of("type", "string", "description", description);
    }

    private static String str(Map<String, Object> args, String key) {
        Object v = args == null ? null : args.get(key);
        return v == null ? null : v.toString();
    }

    private static SyncToolSpecification spec(Tool tool, BiFunction<Caller, Map<String, Object>, ToolResult> handler) {
        return SyncToolSpecification.builder().tool(tool).callHandler((exchange, request) -> {
            Caller caller = caller(exchange);
            if (caller == null) return toCall(ToolResult.error("Not authenticated."));
            try {
                return toCall(handler.apply(caller, request.arguments()));
            } catch (RuntimeException e) {
                return toCall(ToolResult.error("Warden could not complete the call: " + e.getMessage()));
            }
        }).build();
    }

    private static Caller caller(McpSyncServerExchange exchange) {
        Object agent = exchange.transportContext() == null ? null : exchange.transportContext().get(AGENT);
        if (!(agent instanceof String a)) return null;
        Object client = exchange.transportContext().get(CLIENT);
        return new Caller(a, exchange.sessionId(), client == null ? "" : client.toString());
    }

    private static CallToolResult toCall(ToolResult r) {
        return CallToolResult.builder().addContent(new McpSchema.TextContent(r.text()))
                .structuredContent(r.structured()).isError(r.error()).build();
    }
}
