package dev.warden.core.engine;

import dev.warden.core.Classification;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Session state that changes what a text means.
 *
 * @param searchPath  the session's schema search path, used to resolve unqualified names
 * @param prepared    SQL-level prepared statements of the session (name to the classification of their body);
 *                    a live view kept by the front end, so {@code EXECUTE name} is judged as what it runs
 * @param schemaDoubt why the engine's live catalog cannot be trusted for this session now, or {@code null}: the
 *                    session changed the schema where the catalog's own connection cannot see it yet (in its open
 *                    transaction, or in temporary objects). An engine then proves nothing that depends on the
 *                    database's own objects, as while its catalog is unavailable, and says this reason.
 * @param roleUnknown why the role the session acts as is not known (a statement whose effect on it cannot be read),
 *                    or {@code null}: names that stand for the current role (PostgreSQL's {@code "$user"} in a search
 *                    path) are then proven only where every role the session may act as gives the same answer.
 * @param role        the role the session acts as (PostgreSQL's {@code current_user}) when known, or {@code null}: the
 *                    configured user, as the engine's catalog reads it
 */
public record ClassifyContext(List<String> searchPath, Map<String, Classification> prepared, String schemaDoubt,
                              String roleUnknown, String role) {
    public static final List<String> DEFAULT_SEARCH_PATH = List.of("$user", "public");

    public ClassifyContext(List<String> searchPath, Map<String, Classification> prepared) {
        this(searchPath, prepared, null, null, null);
    }

    /** This context with {@code doubt} as its {@link #schemaDoubt} (null: none). */
    public ClassifyContext withSchemaDoubt(String doubt) {
        return Objects.equals(doubt, schemaDoubt) ? this : new ClassifyContext(searchPath, prepared, doubt, roleUnknown, role);
    }

    /** This context acting as {@code role} ({@link #role}), or as an unknown role because of {@code unknown}. */
    public ClassifyContext withRole(String role, String unknown) {
        return Objects.equals(role, this.role) && Objects.equals(unknown, roleUnknown) ? this
                : new ClassifyContext(searchPath, prepared, schemaDoubt, unknown, role);
    }

    /** This context with {@code prepared} as its {@link #prepared} statements. */
    public ClassifyContext withPrepared(Map<String, Classification> prepared) {
        return new ClassifyContext(searchPath, prepared, schemaDoubt, roleUnknown, role);
    }

    /** Whether names resolve the same in both: the same search path, for the same (or equally unknown) role. */
    public boolean sameNames(ClassifyContext other) {
        return other != null && searchPath.equals(other.searchPath) && Objects.equals(role, other.role)
                && Objects.equals(roleUnknown, other.roleUnknown);
    }

    public static ClassifyContext defaults() {
        return new ClassifyContext(DEFAULT_SEARCH_PATH, Map.of());
    }
}
