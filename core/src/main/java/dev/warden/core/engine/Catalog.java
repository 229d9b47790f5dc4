package dev.warden.core.engine;

import dev.warden.core.Classification;
import dev.warden.core.Operation;
import java.util.Optional;

/**
 * What a live database knows: columns, function attributes, sensitivity tags, row estimates. Enrichment
 * never lets a statement reach the database; an estimate is the catalog's own query.
 */
public interface Catalog extends AutoCloseable {
    /** Adds tags and the row estimate. Without a usable catalog it returns the classification unchanged but says why. */
    Classification enrich(Operation operation, Classification classification, ClassifyContext context);

    /**
     * As {@link #enrich(Operation, Classification, ClassifyContext)}; {@code estimate} false says no policy rule could
     * use a row estimate for this operation, so a catalog may skip asking the planner (the estimate is then absent).
     */
    default Classification enrich(Operation operation, Classification classification, ClassifyContext context, boolean estimate) {
        return enrich(operation, classification, context);
    }

    /**
     * The enrichment without an estimate, when it needs no waiting (no query, no refresh: what is cached is up to
     * date); empty when the caller must call {@link #enrich} on a thread that may block. An event-loop front end
     * asks this first so that one session's catalog read never stalls the others.
     */
    default Optional<Classification> enrichWithoutWaiting(Operation operation, Classification classification, ClassifyContext context) {
        return Optional.empty();
    }

    /**
     * DDL ran on this database (or a transaction that ran DDL ended): what the catalog cached may be out of date.
     * Front ends call it after such a statement completes; cheap, any thread. Does nothing without a live catalog.
     */
    default void invalidate() {}

    @Override
    default void close() {}

    /** No live catalog: enrichment is not available. */
    Catalog NONE = new Catalog() {
        @Override
        public Classification enrich(Operation op, Classification c, ClassifyContext ctx) {
            return c.withEnrichment(c.tags(), Classification.NO_ESTIMATE, "no catalog: enrichment not available");
        }

        @Override
        public Optional<Classification> enrichWithoutWaiting(Operation op, Classification c, ClassifyContext ctx) {
            return Optional.of(enrich(op, c, ctx));
        }
    };
}
