package dev.warden.core;

import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * What an operation does: the statements found in it (a text may hold several) plus what enrichment added.
 *
 * @param statements    at least one; a text that holds none is classified as one {@code unknown} statement
 * @param tags          sensitivity tags of the columns read or written (from the configuration's {@code tags:})
 * @param estimatedRows rows in scope according to the engine's planner, or -1 when not available
 * @param enrichment    how enrichment went: {@code "catalog"} when a live catalog enriched it, otherwise why not
 */
public record Classification(List<Statement> statements, Set<String> tags, long estimatedRows, String enrichment) {
    public static final long NO_ESTIMATE = -1;

    public Classification {
        if (statements == null || statements.isEmpty()) throw new IllegalArgumentException("no statements");
        statements = List.copyOf(statements);
        tags = Set.copyOf(new TreeSet<>(tags));
        enrichment = enrichment == null ? "" : enrichment;
    }

    public static Classification of(List<Statement> statements) {
        return new Classification(statements, Set.of(), NO_ESTIMATE, "not enriched");
    }

    public static Classification unknown(String text, String reason) {
        return of(List.of(Statement.unknown(text, reason)));
    }

    /** The riskiest kind among the statements. */
    public Kind kind() {
        Kind k = Kind.TCL;
        for (Statement s : statements) k = Kind.riskiest(k, s.kind());
        return k;
    }

    /** Whether any of its statements {@link Statement#mayChangeSchema() may have changed the schema}. */
    public boolean mayChangeSchema() {
        return firstSchemaChange() != null;
    }

    /** The first statement that {@link Statement#mayChangeSchema() may have changed the schema}, or null. */
    public Statement firstSchemaChange() {
        for (Statement s : statements) if (s.mayChangeSchema()) return s;
        return null;
    }

    public OptionalLong estimate() {
        return estimatedRows < 0 ? OptionalLong.empty() : OptionalLong.of(estimatedRows);
    }

    public Classification withEnrichment(Set<String> tags, long estimatedRows, String enrichment) {
        return new Classification(statements, tags, estimatedRows, enrichment);
    }
}
