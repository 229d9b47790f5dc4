package dev.warden.mcp;

import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Gate;
import dev.warden.core.Kind;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;
import dev.warden.core.Verdict;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvals;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.engine.QueryResult;
import dev.warden.core.engine.UpstreamSession.UpstreamException;
import dev.warden.core.ledger.LedgerException;
import dev.warden.core.policy.Glob;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import dev.warden.core.approval.StatedReason;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the MCP tools do. Every statement an agent sends goes through the {@link Gate} exactly as on the wire (an
 * {@link Operation} with the agent, database, engine, exact text and stated reason); only a verdict that says run
 * reaches the database, through the engine's own upstream session, and its outcome is recorded after it.
 * Approvals never hold an MCP call: they answer at once with a request id (ticket mode).
 */
final class DatabaseTools {
    private final Gate gate;
    private final WardenConfig config;
    private final UpstreamPool pool;
    private final int maxRows;
    private final long maxBytes;
    private final String consoleUrl;
    /** Approval ids already run through {@code run_approved}: an approval runs once, whatever the policy says later. */
    private final Set<String> ran = ConcurrentHashMap.newKeySet();

    DatabaseTools(Gate gate, WardenConfig config, McpConfig mcp, UpstreamPool pool, String consoleUrl) {
        this.gate = gate;
        this.config = config;
        this.pool = pool;
        this.maxRows = mcp.maxRows();
        this.maxBytes = mcp.maxBytes();
        this.consoleUrl = consoleUrl;
    }

    // ---- list_databases ----------------------------------------------------------------------------------------

    ToolResult listDatabases(Caller caller) {
        Verdict v = recordWardenRead(caller, "", "-- list_databases", "list_databases: the databases this agent may use");
        if (!v.run()) return ToolResult.error(v.message() + ".", refusalJson(v, "denied"));
        AgentConfig agent = agent(caller);
        List<Map<String, Object>> dbs = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        for (DatabaseConfig d : config.databases()) {
            if (agent == null || !agent.mayUse(d.name())) continue;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", d.name());
            m.put("engine", d.engine());
            m.put("statement_timeout_ms", d.statementTimeout().toMillis());
            dbs.add(m);
            text.append(d.name()).append(" (").append(d.engine()).append(")\n");
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", "ok");
        s.put("databases", dbs);
        s.put("max_rows", maxRows);
        s.put("max_bytes", maxBytes);
        String warning = recordOutcome(v, Outcome.ok(dbs.size(), 0));
        if (warning != null) s.put("warning", warning);
        return ToolResult.ok(dbs.isEmpty() ? "No database is available to this agent." : ResultShape.json(s), s);
    }

    /**
     * Records a tool call that reads only Warden's own state, not a database: an entry like any other, so that every
     * tool call is in the ledger, allowed by no rule for {@code reason}; refused, as everything is, when the agent is
     * disabled or the ledger cannot record it.
     */
    private Verdict recordWardenRead(Caller caller, String database, String text, String reason) {
        Operation op = new Operation(caller.agent(), database, "mcp", text, List.of(), null, caller.sessionId(),
                caller.clientAddress(), null);
        Classification c = Classification.of(List.of(new dev.warden.core.Statement(Kind.READ, text, "", List.of(),
                List.of(), Set.of(), List.of(reason + " (Warden's own state; no database is touched)"))));
        return gate.recordOwn(op, c, reason + ": Warden's own state, not judged by the policy");
    }

    // ---- describe ----------------------------------------------------------------------------------------------

    ToolResult describe(Caller caller, String database) {
        Optional<DatabaseConfig> db = database(caller, database);
        if (db.isEmpty()) return unavailable(caller, database);
        DatabaseConfig d = db.get();
        CatalogQueries q = CatalogQueries.forEngine(d.engine());
        if (q == null) return ToolResult.error("describe is not available for " + d.engine() + " databases yet.");
        // The catalog queries reach the database, so they are recorded like any statement that does: the decision
        // (Warden's own texts, not the policy's to judge) before they run, how many tables were described after.
        Operation op = new Operation(caller.agent(), d.name(), d.engine(), q.text(), List.of(), null, caller.sessionId(),
                caller.clientAddress(), null);
        Verdict v = gate.recordOwn(op, gate.classify(op, ClassifyContext.defaults()), "describe: Warden's own read-only"
                + " catalog queries, not judged by the policy; only tables the policy lets this agent read are shown");
        if (!v.run()) return ToolResult.error(v.message() + ". Nothing was run.", refusalJson(v, "denied"));
        long start = System.nanoTime();
        try {
            QueryResult columns = pool.with(d, s -> s.run(q.columns(), true, 100_000, 64L * 1024 * 1024));
            QueryResult indexes = pool.with(d, s -> s.run(q.indexes(), true, 100_000, 64L * 1024 * 1024));
            List<Map<String, Object>> tables = tables(columns, indexes);
            // Only what this agent could read: a table the policy denies reading is not described either.
            tables.removeIf(t -> readDenied(caller, d, (String) t.get("name")));
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("status", "ok");
            s.put("database", d.name());
            s.put("tables", tables);
            String warning = recordOutcome(v, Outcome.ok(tables.size(), micros(start)));
            if (warning != null) s.put("warning", warning);
            return ToolResult.ok(ResultShape.json(s), s);
        } catch (UpstreamException e) {
            String message = brief(e.getMessage());
            recordOutcome(v, Outcome.error(e.code() + " " + message, micros(start)));
            return ToolResult.error("The catalog of '" + d.name() + "' could not be read: " + e.code() + " " + message);
        } catch (IOException e) {
            recordOutcome(v, Outcome.error("connection: " + e.getMessage(), micros(start)));
            return ToolResult.error("The database '" + d.name() + "' cannot be reached: " + e.getMessage());
        }
    }

    /** Whether the policy would deny this agent {@code SELECT * FROM} the table (previewed with its tags: nothing is recorded). */
    private boolean readDenied(Caller caller, DatabaseConfig d, String qualified) {
        int dot = qualified.indexOf('.');
        String text = "SELECT * FROM " + ident(qualified.substring(0, dot)) + "." + ident(qualified.substring(dot + 1));
        Operation probe = new Operation(caller.agent(), d.name(), d.engine(), text, List.of(), null, caller.sessionId(),
                caller.clientAddress(), null);
        // Enriched: a deny rule on the tags of its columns forbids reading it as much as one on its name.
        return gate.previewEnriched(probe, gate.classify(probe, ClassifyContext.defaults()), ClassifyContext.defaults())
                .action() == Action.DENY;
    }

    private static String ident(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }

    /** Rows of (schema, table, type, column, data type, nullable) and (schema, table, index, definition). */
    private List<Map<String, Object>> tables(QueryResult columns, QueryResult indexes) {
        Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
        for (List<String> r : columns.rows()) {
            String name = r.get(0) + "." + r.get(1);
            Map<String, Object> t = byName.computeIfAbsent(name, n -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", n);
                m.put("type", r.get(2));
                m.put("columns", new ArrayList<Map<String, Object>>());
                m.put("indexes", new ArrayList<Map<String, Object>>());
                return m;
            });
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("name", r.get(3));
            c.put("type", r.get(4));
            c.put("nullable", "YES".equals(r.get(5)));
            List<String> tags = tagsOf(name + "." + r.get(3));
            if (!tags.isEmpty()) c.put("tags", tags);
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> cols = (List<Map<String, Object>>) t.get("columns");
            cols.add(c);
        }
        for (List<String> r : indexes.rows()) {
            Map<String, Object> t = byName.get(r.get(0) + "." + r.get(1));
            if (t == null) continue;
            Map<String, Object> i = new LinkedHashMap<>();
            i.put("name", r.get(2));
            i.put("definition", r.get(3));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> idx = (List<Map<String, Object>>) t.get("indexes");
            idx.add(i);
        }
        return new ArrayList<>(byName.values());
    }

    private List<String> tagsOf(String column) {
        Set<String> out = new TreeSet<>();
        for (Map.Entry<String, List<String>> e : config.tags().entrySet()) {
            for (String g : e.getValue()) {
                if (Glob.of(g).matches(column)) out.add(e.getKey());
            }
        }
        return List.copyOf(out);
    }

    // ---- query / explain ---------------------------------------------------------------------------------------

    ToolResult query(Caller caller, String database, String sql, String reason) {
        Optional<DatabaseConfig> db = database(caller, database);
        if (db.isEmpty()) return unavailable(caller, database);
        if (sql == null || sql.isBlank()) return ToolResult.error("The argument 'sql' is empty.");
        Operation op = operation(caller, db.get(), sql, reason);
        Classification c = gate.classify(op, ClassifyContext.defaults());
        String refused = sessionRefusal(c);
        if (refused != null) return ToolResult.error(refused + " Nothing was run.");
        Verdict v = gate.judge(op, c, ClassifyContext.defaults(), Gate.ANSWERS_AT_ONCE);
        if (!v.run()) return refusal(v, op);
        return execute(db.get(), op, v, false);
    }

    /**
     * What a call may not do whatever the policy says, as on the wire front end: change Warden's
     * {@code statement_timeout} (PostgreSQL applies a new value to the rest of a multi-statement text), or control
     * the transaction (each call is its own; a COMMIT would end the read-only transaction a read runs in).
     */
    static String sessionRefusal(Classification c) {
        for (dev.warden.core.Statement st : c.statements()) {
            if (st.kind() == Kind.TCL) {
                return "Each query call runs in its own transaction: transaction control (" + st.command() + ") is not accepted.";
            }
            String text = st.text().toLowerCase(Locale.ROOT);
            boolean reasons = st.reasons().stream().anyMatch(r -> r.contains("statement_timeout"));
            if ((text.contains("statement_timeout") || reasons)
                    && (st.command().startsWith("SET") || st.command().startsWith("RESET")
                        || st.functions().stream().anyMatch(f -> f.endsWith("set_config")))) {
                return "statement_timeout is set by Warden for this database; agents cannot change it.";
            }
        }
        return null;
    }

    /** A database error as the agent and the ledger get it: bounded (an error text can carry data, as a cast's does). */
    static String brief(String message) {
        int max = 2000;
        if (message == null || message.length() <= max) return message;
        return message.substring(0, max) + "… (" + (message.length() - max) + " more characters not shown)";
    }

    ToolResult explain(Caller caller, String database, String sql) {
        Optional<DatabaseConfig> db = database(caller, database);
        if (db.isEmpty()) return unavailable(caller, database);
        if (sql == null || sql.isBlank()) return ToolResult.error("The argument 'sql' is empty.");
        String problem = explainProblem(sql);
        if (problem != null) return ToolResult.error(problem);
        // The EXPLAIN text itself is what the gate judges and what runs.
        Operation op = operation(caller, db.get(), "EXPLAIN " + sql.strip(), null);
        Classification c = gate.classify(op, ClassifyContext.defaults());
        if (c.statements().size() != 1) {
            return ToolResult.error("explain plans exactly one statement; the text holds " + c.statements().size()
                    + ". Nothing was run.");
        }
        if (c.kind() != Kind.READ) {
            return ToolResult.error("explain shows a plan only; this text would not be a plain EXPLAIN ("
                    + c.kind().label() + (c.statements().getFirst().reasons().isEmpty() ? ""
                    : ": " + c.statements().getFirst().reasons().getFirst()) + "). Nothing was run.");
        }
        Verdict v = gate.judge(op, c, ClassifyContext.defaults(), Gate.ANSWERS_AT_ONCE);
        if (!v.run()) return refusal(v, op);
        ToolResult r = execute(db.get(), op, v, true);
        if (r.error() || !(r.structured().get("rows") instanceof List<?> rows)) return r;
        // One plan line per row: give the plan as text, as psql shows it.
        StringBuilder plan = new StringBuilder();
        for (Object row : rows) {
            if (row instanceof List<?> cells && !cells.isEmpty()) plan.append(cells.getFirst()).append('\n');
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", "ok");
        s.put("statement", "EXPLAIN " + sql.strip());
        s.put("plan", plan.toString());
        if (Boolean.TRUE.equals(r.structured().get("truncated"))) s.put("truncation", r.structured().get("truncation"));
        return ToolResult.ok(plan.toString(), s);
    }

    /**
     * explain never executes the statement: options (and so {@code ANALYZE}) cannot be smuggled in front of it, and
     * the plan is taken in a read-only transaction, where PostgreSQL plans a write without running it.
     */
    static String explainProblem(String sql) {
        String s = sql.strip();
        if (s.isEmpty() || !Character.isLetter(s.charAt(0))) {
            return "explain takes one statement starting with its command word (SELECT, WITH, INSERT, UPDATE, DELETE, "
                    + "VALUES ...), without EXPLAIN options, comments or parentheses in front of it.";
        }
        int end = 0;
        while (end < s.length() && (Character.isLetter(s.charAt(end)) || s.charAt(end) == '_')) end++;
        String first = s.substring(0, end).toUpperCase(Locale.ROOT);
        if (first.equals("EXPLAIN") || first.equals("ANALYZE") || first.equals("ANALYSE") || first.equals("VERBOSE")) {
            return "explain shows the plan only and never runs a statement; pass the statement itself, without "
                    + "EXPLAIN, ANALYZE or other options.";
        }
        return null;
    }

    // ---- approvals ---------------------------------------------------------------------------------------------

    ToolResult requestApproval(Caller caller, String database, String sql, String reason) {
        Optional<DatabaseConfig> db = database(caller, database);
        if (db.isEmpty()) return unavailable(caller, database);
        if (sql == null || sql.isBlank()) return ToolResult.error("The argument 'sql' is empty.");
        Approvals approvals = gate.approvals();
        if (approvals == null) return ToolResult.error("No approval service is configured on this Warden.");
        Operation op = operation(caller, db.get(), sql, reason);
        Classification c = gate.classify(op, ClassifyContext.defaults());
        String refused = sessionRefusal(c);
        if (refused != null) return ToolResult.error(refused + " Nothing was run.");
        // With its tags: a rule on tags may send a statement the text alone seems to allow to a person.
        Action preview = gate.previewEnriched(op, c, ClassifyContext.defaults()).action();
        if (preview == Action.ALLOW) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("status", "not_needed");
            s.put("message", "The policy allows this statement without approval; run it with the query tool.");
            return ToolResult.ok((String) s.get("message"), s);
        }
        if (preview == Action.APPROVE) {
            String hash = op.statementHash();
            for (ApprovalRequest r : approvals.list()) {
                if (r.status() == ApprovalRequest.Status.APPROVED && r.operation().agent().equals(op.agent())
                        && r.operation().database().equals(op.database()) && r.hash().equals(hash) && !ran.contains(r.id())) {
                    return ToolResult.ok("Request " + r.id() + " for this exact statement is already approved; run it"
                            + " once with run_approved(id: \"" + r.id() + "\").", approvalJson(r));
                }
            }
        }
        // Judged and recorded like any statement: a denial stays a denial, and an approval request is opened.
        Verdict v = gate.judge(op, c, ClassifyContext.defaults(), Gate.ANSWERS_AT_ONCE);
        if (!v.run()) return refusal(v, op);
        // Enrichment turned it into an allowed statement: it was recorded as allowed, so it runs now.
        return execute(db.get(), op, v, false);
    }

    ToolResult approvalStatus(Caller caller, String id) {
        Optional<ApprovalRequest> r = ownRequest(caller, id);
        Verdict v = recordWardenRead(caller, r.map(a -> a.operation().database()).orElse(""), "-- approval_status " + id,
                "approval_status: the state of this agent's approval request");
        if (!v.run()) return ToolResult.error(v.message() + ".", refusalJson(v, "denied"));
        recordOutcome(v, r.isPresent() ? Outcome.ok(1, 0) : Outcome.error("no such request", 0));
        if (r.isEmpty()) return ToolResult.error("There is no approval request '" + id + "' for this agent.");
        ApprovalRequest a = r.get();
        String next = switch (a.status()) {
            case PENDING -> "It waits for a person" + where(a.id()) + "; check again later.";
            case APPROVED -> ran.contains(a.id()) ? "It was approved and has already run; an approval runs once."
                    : "It is approved: run it once with run_approved(id: \"" + a.id() + "\").";
            case DENIED -> "A person denied it" + (a.decidedBy() == null ? "" : " (" + a.decidedBy() + ")")
                    + (a.comment() == null || a.comment().isBlank() ? "" : ": " + a.comment()) + ". It will not run.";
            case EXPIRED -> "It expired without a usable decision. It will not run.";
            case USED -> "It was approved and has already run; an approval runs once.";
        };
        return ToolResult.ok("Request " + a.id() + " is " + a.status().name().toLowerCase(Locale.ROOT) + ". " + next,
                approvalJson(a));
    }

    ToolResult runApproved(Caller caller, String id) {
        Optional<ApprovalRequest> r = ownRequest(caller, id);
        if (r.isEmpty()) return ToolResult.error("There is no approval request '" + id + "' for this agent.");
        ApprovalRequest a = r.get();
        if (a.status() == ApprovalRequest.Status.USED || ran.contains(a.id())) {
            return ToolResult.error("Request " + a.id() + " has already run; an approval runs its statement once.", approvalJson(a));
        }
        if (a.status() != ApprovalRequest.Status.APPROVED) {
            return ToolResult.error("Request " + a.id() + " is " + a.status().name().toLowerCase(Locale.ROOT)
                    + "; only an approved request runs.", approvalJson(a));
        }
        Optional<DatabaseConfig> db = database(caller, a.operation().database());
        if (db.isEmpty()) return unavailable(caller, a.operation().database());
        Operation prior = a.operation();
        Operation op = new Operation(caller.agent(), prior.database(), prior.engine(), prior.text(), prior.parameters(),
                prior.reason(), caller.sessionId(), caller.clientAddress(), null);
        if (!ran.add(a.id())) {
            return ToolResult.error("Request " + a.id() + " has already run; an approval runs its statement once.", approvalJson(a));
        }
        // Judged again: the policy in force now decides, and the approval is redeemed (marked used) by the gate.
        Classification c = gate.classify(op, ClassifyContext.defaults());
        String refused = sessionRefusal(c);
        Verdict v = refused != null ? null : gate.judge(op, c, ClassifyContext.defaults(), Gate.ANSWERS_AT_ONCE);
        // Only a statement that runs uses the request up; after a refusal it is still there to be tried again.
        if (v == null || !v.run()) ran.remove(a.id());
        if (refused != null) return ToolResult.error(refused + " Nothing was run.");
        if (!v.run()) {
            if (v.decision().action() == Action.APPROVE && v.approvalId() != null && !v.approvalId().equals(a.id())) {
                return ToolResult.error("Request " + a.id() + " could not be redeemed (it was used or has lapsed); a new"
                        + " request " + v.approvalId() + " was opened" + where(v.approvalId()) + ".",
                        refusalJson(v, "pending_approval"));
            }
            return refusal(v, op);
        }
        return execute(db.get(), op, v, false);
    }

    // ---- shared --------------------------------------------------------------------------------------------------

    private ToolResult execute(DatabaseConfig db, Operation op, Verdict v, boolean alwaysReadOnly) {
        boolean readOnly = alwaysReadOnly || v.classification().kind().ordinal() <= Kind.READ.ordinal();
        long start = System.nanoTime();
        QueryResult result;
        try {
            result = pool.with(db, s -> s.run(op.text(), readOnly, maxRows, maxBytes));
        } catch (UpstreamException e) {
            // Statements before the failing one may have run (a text can hold several).
            if (v.changesSchema()) gate.target(db.name()).ifPresent(t -> t.catalog().invalidate());
            String message = brief(e.getMessage());
            recordOutcome(v, Outcome.error(e.code() + " " + message, micros(start)));
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("status", "database_error");
            s.put("code", e.code());
            s.put("message", message);
            return ToolResult.error("The database reported an error (" + e.code() + "): " + message, s);
        } catch (IOException e) {
            recordOutcome(v, Outcome.error("connection: " + e.getMessage(), micros(start)));
            return ToolResult.error("The database '" + db.name() + "' cannot be reached: " + e.getMessage());
        }
        if (v.changesSchema()) gate.target(db.name()).ifPresent(t -> t.catalog().invalidate());
        Map<String, Object> s = ResultShape.render(result, maxRows, maxBytes);
        String warning = recordOutcome(v, Outcome.ok(result.rowCount(), micros(start)));
        if (warning != null) s.put("warning", warning);
        if (v.approvalId() != null) s.put("approval_id", v.approvalId());
        return ToolResult.ok(ResultShape.json(s), s);
    }

    private String recordOutcome(Verdict v, Outcome o) {
        try {
            gate.outcome(v, o);
            return null;
        } catch (LedgerException | RuntimeException e) {
            return "the audit ledger could not record the outcome: " + e.getMessage();
        }
    }

    /** A refusal: either a pending approval (ticket) or a denial naming the rule and the reason. */
    private ToolResult refusal(Verdict v, Operation op) {
        if (v.decision().action() == Action.APPROVE && v.approvalId() != null && v.seq() >= 0) {
            String id = v.approvalId();
            Map<String, Object> s = refusalJson(v, "pending_approval");
            s.put("approval_id", id);
            if (consoleUrl != null) s.put("approve_at", consoleUrl + "/#/requests/" + id);
            String text = "Not run yet: this statement needs a person's approval under rule \"" + v.decision().rule()
                    + "\"" + firstReason(v) + ". Approval request " + id + " is open" + where(id) + ". Tell the user;"
                    + " check it with approval_status(id: \"" + id + "\") and, once approved, run it exactly once with"
                    + " run_approved(id: \"" + id + "\").";
            return ToolResult.ok(text, s);
        }
        Map<String, Object> s = refusalJson(v, "denied");
        String text = (v.message() == null ? "warden: " + v.decision().summary() : v.message())
                + ". The statement was not run. This is the policy's decision for this operation and it has been recorded.";
        return ToolResult.error(text, s);
    }

    private static Map<String, Object> refusalJson(Verdict v, String status) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", status);
        s.put("decision", v.decision().action().label());
        s.put("rule", v.decision().rule());
        s.put("reasons", v.decision().reasons());
        s.put("kind", v.classification().kind().label());
        return s;
    }

    private static String firstReason(Verdict v) {
        return v.decision().reasons().isEmpty() ? "" : " (" + v.decision().reasons().getFirst() + ")";
    }

    private String where(String id) {
        return consoleUrl == null ? "" : " at " + consoleUrl + "/#/requests/" + id;
    }

    private Map<String, Object> approvalJson(ApprovalRequest a) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", a.status() == ApprovalRequest.Status.APPROVED && ran.contains(a.id()) ? "used"
                : a.status().name().toLowerCase(Locale.ROOT));
        s.put("approval_id", a.id());
        s.put("database", a.operation().database());
        s.put("sql", a.operation().text());
        s.put("rule", a.decision().rule());
        s.put("expires", a.expires().toString());
        if (!a.approvedBy().isEmpty()) s.put("approved_by", a.approvedBy());
        if (a.decidedBy() != null) s.put("decided_by", a.decidedBy());
        if (a.comment() != null && !a.comment().isBlank()) s.put("comment", a.comment());
        if (consoleUrl != null) s.put("approve_at", consoleUrl + "/#/requests/" + a.id());
        return s;
    }

    private Optional<ApprovalRequest> ownRequest(Caller caller, String id) {
        Approvals approvals = gate.approvals();
        if (approvals == null || id == null || id.isBlank()) return Optional.empty();
        // Another agent's request is reported as absent: ids are not a way to learn about other agents.
        return approvals.get(id.strip()).filter(r -> r.operation().agent().equals(caller.agent()));
    }

    private Operation operation(Caller caller, DatabaseConfig db, String text, String reason) {
        // The stated reason is cleaned as on the wire: untrusted text for approvers, never part of a decision.
        String stated = reason == null || reason.isBlank() ? StatedReason.parse(text) : StatedReason.clean(reason);
        return new Operation(caller.agent(), db.name(), db.engine(), text, List.of(), stated, caller.sessionId(),
                caller.clientAddress(), null);
    }

    private AgentConfig agent(Caller caller) {
        return config.agent(caller.agent()).orElse(null);
    }

    private Optional<DatabaseConfig> database(Caller caller, String name) {
        AgentConfig agent = agent(caller);
        if (agent == null || name == null || !agent.mayUse(name)) return Optional.empty();
        return config.database(name);
    }

    private ToolResult unavailable(Caller caller, String name) {
        return ToolResult.error("There is no database '" + name + "' available to this agent; list_databases names the"
                + " ones it may use.");
    }

    private static long micros(long startNanos) {
        return (System.nanoTime() - startNanos) / 1000;
    }
}
