package dev.warden.core.engine;

import dev.warden.core.Classification;
import java.util.List;
import java.util.Map;

/**
 * Session state that changes what a text means.
 *
 * @param searchPath the session's schema search path, used to resolve unqualified names
 * @param prepared   SQL-level prepared statements of the session (name to the classification of their body);
 *                   a live view kept by the front end, so {@code EXECUTE name} is judged as what it runs
 */
public record ClassifyContext(List<String> searchPath, Map<String, Classification> prepared) {
    public static final List<String> DEFAULT_SEARCH_PATH = List.of("$user", "public");

    public static ClassifyContext defaults() {
        return new ClassifyContext(DEFAULT_SEARCH_PATH, Map.of());
    }
}
