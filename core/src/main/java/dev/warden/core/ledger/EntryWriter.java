package dev.warden.core.ledger;

import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;
import dev.warden.core.Statement;
import dev.warden.core.json.ModelJson;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The canonical bytes of decision and outcome entries written straight into one builder, with the keys in their
 * canonical order spelled out, instead of through {@link EntryBody}'s maps: these two run for every statement.
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
        StringBuilder sb = new StringBuilder(768 + 2 * op.text().length());
        sb.append("{\"agent\":");
        CanonicalJson.string(sb, op.agent());
        sb.append(",\"approval_id\":");
        nullable(sb, d.approvalId());
        // classification: enrichment, estimated_rows, kind, statements, tags
        sb.append(",\"classification\":{\"enrichment\":");
        CanonicalJson.string(sb, c.enrichment());
        sb.append(",\"estimated_rows\":");
        if (c.estimatedRows() < 0) sb.append("null");
        else sb.append(c.estimatedRows());
        sb.append(",\"kind\":");
        CanonicalJson.string(sb, c.kind().label());
        sb.append(",\"statements\":");
        // The statements' bytes are cached; they often hold non-Latin-1 characters (reasons), which would turn the
        // whole builder into UTF-16: so the line is put together from three byte arrays.
        byte[] head = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] middle = statements(c.statements(), op.engine());
        sb.setLength(0);
        sb.append(",\"tags\":[");
        boolean first = true;
        for (String t : c.tags()) {
            if (!first) sb.append(',');
            first = false;
            CanonicalJson.string(sb, t);
        }
        sb.append("]},\"client\":");
        CanonicalJson.string(sb, op.clientAddress());
        sb.append(",\"database\":");
        CanonicalJson.string(sb, op.database());
        sb.append(",\"decision\":");
        CanonicalJson.string(sb, dec.action().label());
        sb.append(",\"engine\":");
        CanonicalJson.string(sb, op.engine());
        sb.append(",\"parameters\":[");
        first = true;
        boolean mask = redactor.allLiterals();
        for (String p : op.parameters()) {
            if (!first) sb.append(',');
            first = false;
            if (p == null) sb.append("null");
            else if (mask) sb.append("\"?\"");
            else CanonicalJson.string(sb, p);
        }
        sb.append("],\"policy_hash\":");
        nullable(sb, d.policyHash());
        sb.append(",\"reason\":");
        CanonicalJson.string(sb, op.reason());
        sb.append(",\"reasons\":");
        CanonicalJson.write(sb, dec.reasons());
        sb.append(",\"rule\":");
        nullable(sb, dec.rule());
        sb.append(",\"seq\":");
        int cut1 = sb.length();
        sb.append(",\"session\":");
        CanonicalJson.string(sb, op.sessionId());
        sb.append(",\"statement\":");
        CanonicalJson.string(sb, redactor.redact(op.engine(), op.text()));
        sb.append(",\"statement_hash\":");
        CanonicalJson.string(sb, op.statementHash());
        sb.append(",\"time\":\"");
        int cut2 = sb.length();
        sb.append("\",\"type\":\"decision\"}\n");
        FileLedger.Prepared tail = FileLedger.Prepared.of(sb.toString(), cut1, cut2);
        byte[] all = new byte[head.length + middle.length + tail.bytes().length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(middle, 0, all, head.length, middle.length);
        System.arraycopy(tail.bytes(), 0, all, head.length + middle.length, tail.bytes().length);
        int shift = head.length + middle.length;
        return new FileLedger.Prepared(all, tail.cut1() + shift, tail.cut2() + shift);
    }

    private static FileLedger.Prepared outcome(Entry.OutcomeEntry e) {
        Outcome o = e.outcome();
        StringBuilder sb = new StringBuilder(160);
        sb.append("{\"decision_seq\":").append(e.decisionSeq());
        sb.append(",\"duration_us\":").append(o.durationMicros());
        sb.append(",\"error\":");
        nullable(sb, o.error());
        sb.append(",\"rows\":");
        if (o.rows() < 0) sb.append("null");
        else sb.append(o.rows());
        sb.append(",\"seq\":");
        int cut1 = sb.length();
        sb.append(",\"status\":");
        nullable(sb, o.status());
        sb.append(",\"time\":\"");
        int cut2 = sb.length();
        sb.append("\",\"type\":\"outcome\"}\n");
        return FileLedger.Prepared.of(sb.toString(), cut1, cut2);
    }

    private byte[] statements(List<Statement> list, String engine) {
        Identity key = new Identity(list, engine);
        byte[] s = statements.get(key);
        if (s != null) return s;
        StringBuilder sb = new StringBuilder(256 * list.size());
        sb.append('[');
        for (int i = 0; i < list.size(); i++) {
            if (i > 0) sb.append(',');
            statement(sb, list.get(i), engine);
        }
        s = sb.append(']').toString().getBytes(StandardCharsets.UTF_8);
        // Bounded: when full, start over (the classifier's own cache decides what stays hot).
        if (statements.size() >= MAX_CACHED) statements.clear();
        statements.put(key, s);
        return s;
    }

    /**
     * One statement as {@link ModelJson#statement} shapes it, keys in canonical order: command, flags, functions,
     * kind, kind_if_proven, objects (access, columns, name), reasons, text, unproven_functions.
     */
    private void statement(StringBuilder sb, Statement st, String engine) {
        sb.append("{\"command\":");
        CanonicalJson.string(sb, st.command());
        sb.append(",\"flags\":");
        strings(sb, st.flags());
        sb.append(",\"functions\":");
        strings(sb, st.functions());
        sb.append(",\"kind\":");
        CanonicalJson.string(sb, st.kind().label());
        boolean unproven = !st.unproven().isEmpty();
        if (unproven) {
            sb.append(",\"kind_if_proven\":");
            CanonicalJson.string(sb, st.kindIfProven().label());
        }
        sb.append(",\"objects\":[");
        for (int i = 0; i < st.objects().size(); i++) {
            ObjectAccess o = st.objects().get(i);
            if (i > 0) sb.append(',');
            sb.append("{\"access\":");
            CanonicalJson.string(sb, o.access().label());
            sb.append(",\"columns\":");
            strings(sb, o.columns());
            sb.append(",\"name\":");
            CanonicalJson.string(sb, o.name());
            sb.append('}');
        }
        sb.append("],\"reasons\":");
        strings(sb, st.reasons());
        sb.append(",\"text\":");
        CanonicalJson.string(sb, redactor.redact(engine, st.text()));
        if (unproven) {
            sb.append(",\"unproven_functions\":");
            strings(sb, st.unproven());
        }
        sb.append('}');
    }

    private static void strings(StringBuilder sb, java.util.Collection<String> values) {
        sb.append('[');
        boolean first = true;
        for (String v : values) {
            if (!first) sb.append(',');
            first = false;
            nullable(sb, v);
        }
        sb.append(']');
    }

    private static void nullable(StringBuilder sb, String s) {
        if (s == null) sb.append("null");
        else CanonicalJson.string(sb, s);
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
