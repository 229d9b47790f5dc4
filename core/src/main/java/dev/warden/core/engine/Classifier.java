package dev.warden.core.engine;

import dev.warden.core.Classification;

/**
 * Turns an exact text into a {@link Classification}. Never throws for bad input: what cannot be parsed or
 * positively labelled is a statement of kind {@code unknown} with a reason.
 */
public interface Classifier {
    Classification classify(String text, ClassifyContext context);
}
