package dev.warden.core.json;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;
import dev.warden.core.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one JSON shape of the model, as plain maps and lists: used by the command line, the ledger and the console,
 * so a field is named the same everywhere.
 */
public final class ModelJson {
    private ModelJson() {}

    public static Map<String, Object> classification(Classification c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", c.kind().label());
        List<Object> statements = new ArrayList<>();
        for (Statement s : c.statements()) statements.add(statement(s));
        m.put("statements", statements);
        m.put("tags", List.copyOf(c.tags()));
        m.put("estimated_rows", c.estimatedRows() < 0 ? null : c.estimatedRows());
        m.put("enrichment", c.enrichment());
        return m;
    }

    public static Map<String, Object> statement(Statement s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", s.kind().label());
        m.put("command", s.command());
        m.put("text", s.text());
        List<Object> objects = new ArrayList<>();
        for (ObjectAccess o : s.objects()) {
            Map<String, Object> om = new LinkedHashMap<>();
            om.put("name", o.name());
            om.put("access", o.access().label());
            om.put("columns", o.columns());
            objects.add(om);
        }
        m.put("objects", objects);
        m.put("functions", s.functions());
        m.put("flags", List.copyOf(s.flags()));
        m.put("reasons", s.reasons());
        if (!s.unproven().isEmpty()) {
            m.put("unproven_functions", s.unproven());
            m.put("kind_if_proven", s.kindIfProven().label());
        }
        return m;
    }

    public static Map<String, Object> decision(Decision d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("decision", d.action().label());
        m.put("rule", d.rule());
        m.put("reasons", d.reasons());
        return m;
    }

    /** The operation as recorded: everything but the time, which the ledger entry carries itself. */
    public static Map<String, Object> operation(Operation op) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agent", op.agent());
        m.put("database", op.database());
        m.put("engine", op.engine());
        m.put("session", op.sessionId());
        m.put("client", op.clientAddress());
        m.put("statement", op.text());
        m.put("parameters", op.parameters());
        m.put("statement_hash", op.statementHash());
        m.put("reason", op.reason());
        return m;
    }

    public static Map<String, Object> outcome(Outcome o) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", o.status());
        m.put("rows", o.rows() < 0 ? null : o.rows());
        m.put("error", o.error());
        m.put("duration_us", o.durationMicros());
        return m;
    }
}
