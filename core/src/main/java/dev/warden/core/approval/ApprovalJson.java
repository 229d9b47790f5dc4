package dev.warden.core.approval;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.json.ModelJson;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON shape of an approval request: what is stored under {@code approvals/}, what the API returns and what
 * {@code warden approvals list --json} prints. Reading accepts exactly what writing produces.
 */
public final class ApprovalJson {
    private ApprovalJson() {}

    public static Map<String, Object> write(ApprovalRequest r) {
        Map<String, Object> m = new LinkedHashMap<>();
        Operation op = r.operation();
        m.put("id", r.id());
        m.put("status", r.status().name().toLowerCase(Locale.ROOT));
        m.put("agent", op.agent());
        m.put("database", op.database());
        m.put("engine", op.engine());
        m.put("statement", op.text());
        m.put("parameters", op.parameters());
        m.put("statement_hash", r.hash());
        m.put("reason", op.reason());
        m.put("session", op.sessionId());
        m.put("client", op.clientAddress());
        m.put("operation_time", op.time().toString());
        m.put("rule", r.decision().rule());
        m.put("decision", ModelJson.decision(r.decision()));
        ApprovalSpec spec = r.decision().approval();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("mode", spec.mode().name().toLowerCase(Locale.ROOT));
        s.put("approvers", spec.approvers());
        s.put("timeout_s", spec.timeout().toSeconds());
        s.put("valid_for_s", spec.validFor().toSeconds());
        m.put("approval", s);
        m.put("classification", ModelJson.classification(r.classification()));
        m.put("created", r.created().toString());
        m.put("expires", r.expires().toString());
        m.put("approved_by", r.approvedBy());
        m.put("decided_by", r.decidedBy());
        m.put("comment", r.comment());
        m.put("comments", r.comments().stream().map(c -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("by", c.by());
            e.put("comment", c.comment());
            return e;
        }).toList());
        m.put("in_transaction", r.inTransaction());
        return m;
    }

    /** The API's view: the stored shape plus seconds left before the request (or approval) lapses. */
    public static Map<String, Object> view(ApprovalRequest r, Instant now) {
        Map<String, Object> m = write(r);
        boolean live = r.status() == ApprovalRequest.Status.PENDING || r.status() == ApprovalRequest.Status.APPROVED;
        m.put("seconds_left", live ? Math.max(0, Duration.between(now, r.expires()).toSeconds()) : null);
        m.put("approvals_needed", r.decision().approval().approvers());
        return m;
    }

    @SuppressWarnings("unchecked")
    public static ApprovalRequest read(Map<String, Object> m) {
        Operation op = new Operation(str(m, "agent"), str(m, "database"), str(m, "engine"), str(m, "statement"),
                (List<String>) m.get("parameters"), (String) m.get("reason"), (String) m.get("session"),
                (String) m.get("client"), Instant.parse(str(m, "operation_time")));
        Map<String, Object> d = (Map<String, Object>) m.get("decision");
        Map<String, Object> s = (Map<String, Object>) m.get("approval");
        ApprovalSpec spec = new ApprovalSpec(ApprovalSpec.Mode.valueOf(str(s, "mode").toUpperCase(Locale.ROOT)),
                ((Number) s.get("approvers")).intValue(), Duration.ofSeconds(((Number) s.get("timeout_s")).longValue()),
                Duration.ofSeconds(((Number) s.get("valid_for_s")).longValue()));
        Decision decision = new Decision(Action.valueOf(str(d, "decision").toUpperCase(Locale.ROOT)),
                (String) d.get("rule"), (List<String>) d.get("reasons"), spec);
        return new ApprovalRequest(str(m, "id"), op, str(m, "statement_hash"),
                classification((Map<String, Object>) m.get("classification")), decision,
                Instant.parse(str(m, "created")), Instant.parse(str(m, "expires")),
                ApprovalRequest.Status.valueOf(str(m, "status").toUpperCase(Locale.ROOT)),
                (List<String>) m.get("approved_by"), (String) m.get("decided_by"), (String) m.get("comment"),
                Boolean.TRUE.equals(m.get("in_transaction")), comments((List<Map<String, Object>>) m.get("comments")));
    }

    /** Requests stored before comments were kept have none. */
    private static List<ApprovalRequest.ApproverComment> comments(List<Map<String, Object>> list) {
        if (list == null) return List.of();
        return list.stream().map(c -> new ApprovalRequest.ApproverComment(str(c, "by"), str(c, "comment"))).toList();
    }

    @SuppressWarnings("unchecked")
    static Classification classification(Map<String, Object> m) {
        List<Statement> statements = new ArrayList<>();
        for (Object o : (List<Object>) m.get("statements")) {
            Map<String, Object> s = (Map<String, Object>) o;
            List<ObjectAccess> objects = new ArrayList<>();
            for (Object oo : (List<Object>) s.get("objects")) {
                Map<String, Object> om = (Map<String, Object>) oo;
                objects.add(new ObjectAccess(str(om, "name"), Access.valueOf(str(om, "access").toUpperCase(Locale.ROOT)),
                        (List<String>) om.get("columns")));
            }
            List<String> unproven = s.containsKey("unproven_functions") ? (List<String>) s.get("unproven_functions") : List.of();
            Kind kind = Kind.parse(str(s, "kind"));
            Kind ifProven = s.containsKey("kind_if_proven") ? Kind.parse(str(s, "kind_if_proven")) : kind;
            statements.add(new Statement(kind, (String) s.get("text"), (String) s.get("command"), objects,
                    (List<String>) s.get("functions"), new LinkedHashSet<>((List<String>) s.get("flags")),
                    (List<String>) s.get("reasons"), unproven, ifProven));
        }
        Number rows = (Number) m.get("estimated_rows");
        return new Classification(statements, new LinkedHashSet<>((List<String>) m.get("tags")),
                rows == null ? Classification.NO_ESTIMATE : rows.longValue(), (String) m.get("enrichment"));
    }

    private static String str(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof String s)) throw new IllegalArgumentException("missing or non-text field '" + key + "'");
        return s;
    }
}
