package dev.warden.core.ledger;

import dev.warden.core.json.ModelJson;
import java.util.HashMap;
import java.util.Map;

/**
 * An entry's fields as recorded, without {@code seq}, {@code time} and {@code type}, which the ledger adds. Field
 * names come from {@link ModelJson}, so the ledger, the command line and the console name a field the same way.
 */
public final class EntryBody {
    private EntryBody() {}

    public static Map<String, Object> of(Entry entry, Redactor redactor) {
        Map<String, Object> m = new HashMap<>(64);
        switch (entry) {
            case Entry.DecisionEntry d -> {
                // statement_hash is computed from the exact text before anything is redacted: approvals bind it.
                m.putAll(ModelJson.operation(d.operation()));
                m.put("classification", ModelJson.classification(d.classification()));
                redactor.redactOperation(m, d.operation().engine());
                m.putAll(ModelJson.decision(d.decision()));
                m.put("policy_hash", d.policyHash());
                m.put("approval_id", d.approvalId());
            }
            case Entry.OutcomeEntry o -> {
                m.put("decision_seq", o.decisionSeq());
                m.putAll(ModelJson.outcome(o.outcome()));
            }
            case Entry.ApprovalEntry a -> {
                m.put("request_id", a.requestId());
                m.put("statement_hash", a.statementHash());
                m.put("approver", a.approver());
                m.put("verdict", a.verdict());
                m.put("comment", a.comment());
            }
            case Entry.PolicyEntry p -> {
                m.put("source", p.source());
                m.put("policy_hash", p.policyHash());
                m.put("rules", p.rules());
            }
            case Entry.RecoveryEntry r -> {
                m.put("segment", r.segment());
                m.put("valid_bytes", r.validBytes());
                m.put("quarantined_bytes", r.quarantinedBytes());
                m.put("quarantine_file", r.quarantineFile());
            }
        }
        m.remove("seq");
        m.remove("time");
        m.remove("type");
        return m;
    }
}
