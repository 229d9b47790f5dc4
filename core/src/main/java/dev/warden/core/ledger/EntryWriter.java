package dev.warden.core.ledger;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;
import dev.warden.core.Statement;
import dev.warden.core.json.ModelJson;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The canonical bytes of decision and outcome entries written straight as bytes ({@link JsonBytes}), with the keys in
 * their canonical order spelled out, instead of through {@link EntryBody}'s maps: these two run for every statement.
 * The result is byte for byte what {@code Prepared.of(type, EntryBody.of(entry, redactor))} gives (a test holds
 * them to it), so the verifier, which re-serializes through the maps, accepts it.
 *
 * <p>A classification's statements are serialized once per classification: the classifier caches classifications,
 * and enrichment keeps the same statement list, so the list's identity keys its canonical (redacted) bytes.
 */
final class EntryWriter {
    private static final int MAX_CACHED = 4096;

    private final Redactor redactor;
    private final Map<Identity, byte[]> statements = new ConcurrentHashMap<>();
    // Loop threads write an entry per statement; their buffer is reused (toArray hands out the one copy kept).
    private static final ThreadLocal<JsonBytes> SCRATCH = ThreadLocal.withInitial(JsonBytes::new);

    EntryWriter(Redactor redactor) {
        this.redactor = redactor;
    }

    /** The entry prepared for the ledger, or null when it is not one this class writes. */
    FileLedger.Prepared prepare(Entry entry) {
        return switch (entry) {
            case Entry.DecisionEntry d -> decision(d);
            case Entry.OutcomeEntry o -> outcome(o);
            default -> null;
        };
    }

    private FileLedger.Prepared decision(Entry.DecisionEntry d) {
        Operation op = d.operation();
        Classification c = d.classification();
        Decision dec = d.decision();
        JsonBytes j = SCRATCH.get().reset();
        j.raw("{\"agent\":").string(op.agent());
        j.raw(",\"approval_id\":").nullable(d.approvalId());
        // classification: enrichment, estimated_rows, kind, statements, tags
        j.raw(",\"classification\":{\"enrichment\":").string(c.enrichment());
        j.raw(",\"estimated_rows\":");
        if (c.estimatedRows() < 0) j.raw("null");
        else j.number(c.estimatedRows());
        j.raw(",\"kind\":").string(c.kind().label());
        j.raw(",\"statements\":").raw(statements(c.statements(), op.engine()));
        j.raw(",\"tags\":").strings(c.tags());
        j.raw("},\"client\":").string(op.clientAddress());
        j.raw(",\"database\":").string(op.database());
        j.raw(",\"decision\":").string(dec.action().label());
        j.raw(",\"engine\":").string(op.engine());
        j.raw(",\"parameters\":[");
        boolean first = true;
        boolean mask = redactor.allLiterals();
        for (String p : op.parameters()) {
            if (!first) j.raw(',');
            first = false;
            if (p == null) j.raw("null");
            else if (mask) j.raw("\"?\"");
            else j.string(p);
        }
        j.raw("],\"policy_hash\":").nullable(d.policyHash());
        j.raw(",\"reason\":").string(op.reason());
        j.raw(",\"reasons\":").strings(dec.reasons());
        j.raw(",\"rule\":").nullable(dec.rule());
        j.raw(",\"seq\":");
        int cut1 = j.length();
        j.raw(",\"session\":").string(op.sessionId());
        j.raw(",\"statement\":").string(redactor.redact(op.engine(), op.text()));
        j.raw(",\"statement_hash\":").string(op.statementHash());
        j.raw(",\"time\":\"");
        int cut2 = j.length();
        j.raw("\",\"type\":\"decision\"}\n");
        return new FileLedger.Prepared(j.toArray(), cut1, cut2);
    }

    private static FileLedger.Prepared outcome(Entry.OutcomeEntry e) {
        Outcome o = e.outcome();
        JsonBytes j = SCRATCH.get().reset();
        j.raw("{\"decision_seq\":").number(e.decisionSeq());
        j.raw(",\"duration_us\":").number(o.durationMicros());
        j.raw(",\"error\":").nullable(o.error());
        j.raw(",\"rows\":");
        if (o.rows() < 0) j.raw("null");
        else j.number(o.rows());
        j.raw(",\"seq\":");
        int cut1 = j.length();
        j.raw(",\"status\":").nullable(o.status());
        j.raw(",\"time\":\"");
        int cut2 = j.length();
        j.raw("\",\"type\":\"outcome\"}\n");
        return new FileLedger.Prepared(j.toArray(), cut1, cut2);
    }

    private byte[] statements(List<Statement> list, String engine) {
        Identity key = new Identity(list, engine);
        byte[] s = statements.get(key);
        if (s != null) return s;
        JsonBytes j = new JsonBytes();
        j.raw('[');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) j.raw(',');
            statement(j, list.get(i), engine);
        }
        s = j.raw(']').toArray();
        // Bounded: when full, start over (the classifier's own cache decides what stays hot).
        if (statements.size() >= MAX_CACHED) statements.clear();
        statements.put(key, s);
        return s;
    }

    /**
     * One statement as {@link ModelJson#statement} shapes it, keys in canonical order: command, flags, functions,
     * kind, kind_if_proven, objects (access, columns, name), reasons, text, unproven_functions.
     */
    private void statement(JsonBytes j, Statement st, String engine) {
        j.raw("{\"command\":").string(st.command());
        j.raw(",\"flags\":").strings(st.flags());
        j.raw(",\"functions\":").strings(st.functions());
        j.raw(",\"kind\":").string(st.kind().label());
        boolean unproven = !st.unproven().isEmpty();
        if (unproven) j.raw(",\"kind_if_proven\":").string(st.kindIfProven().label());
        j.raw(",\"objects\":[");
        for (int i = 0; i < st.objects().size(); i++) {
            ObjectAccess o = st.objects().get(i);
            if (i > 0) j.raw(',');
            j.raw("{\"access\":").string(o.access().label());
            j.raw(",\"columns\":").strings(o.columns());
            j.raw(",\"name\":").string(o.name());
            j.raw('}');
        }
        j.raw("],\"reasons\":").strings(st.reasons());
        j.raw(",\"text\":").string(redactor.redact(engine, st.text()));
        if (unproven) j.raw(",\"unproven_functions\":").strings(st.unproven());
        j.raw('}');
    }

    /** A statement list by identity (its own hashCode walks every statement). */
    private record Identity(List<Statement> list, String engine) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Identity i && i.list == list && i.engine.equals(engine);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(list) * 31 + engine.hashCode();
        }
    }
}
