package dev.warden.core.engine;

import dev.warden.core.Classification;
import java.util.Optional;

/**
 * Turns an exact text into a {@link Classification}. Never throws for bad input: what cannot be parsed or
 * positively labelled is a statement of kind {@code unknown} with a reason.
 */
public interface Classifier {
    Classification classify(String text, ClassifyContext context);

    /**
     * The classification when it is already known (cached, and what it was computed from is up to date), without
     * parsing or reading a catalog; empty when {@link #classify} must compute it, possibly waiting for I/O.
     */
    default Optional<Classification> cached(String text, ClassifyContext context) {
        return Optional.empty();
    }
}
