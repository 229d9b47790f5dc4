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
 * @param schemaDoubt why the engine's live catalog cannot be trusted for this session now, or {@code null}: the
 *                   session changed the schema where the catalog's own connection cannot see it yet (in its open
 *                   transaction, or in temporary objects). An engine then proves nothing that depends on the
 *                   database's own objects, as while its catalog is unavailable, and says this reason.
 * @param roleChange what may have made the session act as a role other than the configured user (a statement, or
 *                   the role it started as), or {@code null}: names that stand for the current role (PostgreSQL's
 *                   {@code "$user"} in a search path) may not be what the catalog resolves them as.
 */
public record ClassifyContext(List<String> searchPath, Map<String, Classification> prepared, String schemaDoubt,
                              String roleChange) {
    public static final List<String> DEFAULT_SEARCH_PATH = List.of("$user", "public");

    public ClassifyContext(List<String> searchPath, Map<String, Classification> prepared) {
        this(searchPath, prepared, null, null);
    }

    /** This context with {@code doubt} as its {@link #schemaDoubt} (null: none). */
    public ClassifyContext withSchemaDoubt(String doubt) {
        return java.util.Objects.equals(doubt, schemaDoubt) ? this : new ClassifyContext(searchPath, prepared, doubt, roleChange);
    }

    /** This context with {@code change} as its {@link #roleChange} (null: none). */
    public ClassifyContext withRoleChange(String change) {
        return java.util.Objects.equals(change, roleChange) ? this : new ClassifyContext(searchPath, prepared, schemaDoubt, change);
    }

    public static ClassifyContext defaults() {
        return new ClassifyContext(DEFAULT_SEARCH_PATH, Map.of());
    }
}
