package dev.warden.postgres.catalog;

import java.util.List;
import java.util.Optional;

/**
 * What the classifier asks about names: which relation an identifier resolves to, its columns, and which functions
 * a call may reach. Two sources implement it: the live catalog of a database and, offline, the checked-in table of
 * PostgreSQL's built-in functions.
 */
public interface SchemaInfo {
    /**
     * Resolves a relation name through the search path. {@code schema} is {@code null} for an unqualified name.
     * Returns the qualified {@code schema.name}, or empty when it is not known (offline: unqualified names resolve
     * to the first real schema of the search path, {@code public} by default).
     */
    Optional<String> relation(List<String> searchPath, String schema, String name);

    /** The columns of a relation in order, or empty when not known (then {@code *} cannot be expanded). */
    Optional<List<String>> columns(String qualifiedRelation);

    /**
     * Every function a call of {@code schema.name} (or of an unqualified {@code name} through the search path,
     * {@code pg_catalog} first as PostgreSQL does implicitly) with {@code argCount} arguments may resolve to. An empty
     * list means the function is not known, which the classifier treats as not proven pure.
     */
    List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount);

    /** True when a live database answered; false for the offline table. */
    boolean live();

    /**
     * Why the live catalog that should answer cannot, or empty when these answers are all there is to know (a loaded
     * catalog, or the offline table where no database is configured). While it is unavailable the offline table
     * answers, which knows no user objects: the classifier then proves nothing that depends on them.
     */
    default Optional<String> unavailable() {
        return Optional.empty();
    }

    /**
     * The offline table's answers with {@code why} as the reason the live catalog cannot be trusted: for a session that
     * changed the schema where the catalog cannot see it (its open transaction, its temporary objects). As while the
     * catalog is unavailable, the classifier then proves nothing that depends on the database's own objects.
     * {@code reach} is what the catalog last knew of views, parents and cascades: what a statement reaches through
     * them is added to its objects (more objects only make rules stricter), not taken for all it reaches.
     */
    static SchemaInfo doubted(String why, RelationReach reach) {
        return new CatalogView.Unavailable(BuiltinCatalog.INSTANCE, why, reach);
    }

    /**
     * The answers of this moment. One classification asks only this, so that a catalog that loads or is lost
     * meanwhile cannot mix two sources in one judgement (a name resolved offline, then checked in a fresh snapshot).
     */
    default SchemaInfo pin() {
        return this;
    }

    /**
     * A text reads or writes relations of these names that this source does not have: when the database has one now
     * (made since it was read, outside Warden), reads it again and returns true if what it knows changed. The offline
     * table, which never changes, does nothing.
     */
    default boolean reloadIfMade(java.util.Set<String> relationNames) {
        return false;
    }

    /** Whether answers come without waiting for I/O (nothing to load or reload first); an offline source always does. */
    default boolean fresh() {
        return true;
    }

    /**
     * Changes whenever what this source knows may have changed (a catalog refresh, a reconnect): classifications
     * cached under another generation are dropped. The offline table never changes.
     */
    default long generation() {
        return 0;
    }

    /**
     * Whether reading the relation runs code that is not a built-in proven pure: a view, rule or row-level security
     * policy on it calls a user function or operator. Such a read may write, so it is not proven a read. The offline
     * table knows no user relations and answers false.
     */
    default boolean readRunsUserCode(String qualifiedRelation) {
        return false;
    }

    /** What a statement on a relation also reads or changes without naming it; the offline table knows nothing. */
    default RelationReach reach() {
        return RelationReach.NONE;
    }

    /**
     * Whether DDL may fire an event trigger (code a superuser attached to DDL, which no statement names): true unless
     * a live catalog read that the database has none enabled. The offline table cannot tell, so it says true (fail
     * closed). Answers without waiting.
     */
    default boolean eventTriggers() {
        return true;
    }

    /** What PostgreSQL runs for a statement without its naming it (domain checks, triggers…); offline, nothing. */
    default ImplicitCode implicitCode() {
        return ImplicitCode.NONE;
    }

    /**
     * These answers with {@code "$user"} in a search path standing for {@code role} (PostgreSQL's {@code current_user}),
     * not for the user Warden logs in as; {@code null}: that user. The offline table knows no user schemas.
     */
    default SchemaInfo actingAs(String role) {
        return this;
    }

    /**
     * The schema an object created with an unqualified name goes to: as PostgreSQL picks it, the session's temporary
     * schema ({@code pg_temp}) when the path names it before any schema that exists, else the first schema of the path
     * that exists. Offline, {@code "$user"} is passed over (no user schema is known) and every other schema exists.
     */
    default String creationSchema(List<String> searchPath) {
        for (String s : searchPath == null ? List.<String>of() : searchPath) {
            if (s.equals("pg_temp") || s.startsWith("pg_temp_")) return "pg_temp";
            if (!s.equals("$user") && !s.isEmpty()) return s;
        }
        return "public";
    }

    /**
     * Whether an unqualified relation {@code name} may resolve otherwise on
     * the server than here because the session acts as a role whose schema privileges were not read: PostgreSQL leaves
     * a schema the role may not use out of its search, and more than one schema of the path could be the answer.
     */
    default boolean resolvedByUnreadPrivileges(List<String> searchPath, String name) {
        return false;
    }

    /** The schemas named after the user or a role it may become: what {@code "$user"} can stand for. */
    default java.util.Set<String> roleSchemas() {
        return java.util.Set.of();
    }

    /**
     * Whether a cast to the type named {@code typeName} ({@code pg_type.typname}) may run a function that is not
     * PostgreSQL's own ({@code CREATE CAST … WITH FUNCTION}); which cast runs depends on the source type, which the
     * classifier does not know, so any such cast to that type counts. The offline table knows none.
     */
    default boolean castRunsUserCode(String typeName) {
        return false;
    }

    /**
     * Whether an operator symbol (unqualified, or in {@code schema}) resolves only to built-in operators whose
     * functions are not volatile. Defaults to the offline table of PostgreSQL's own operators.
     */
    default boolean builtInOperator(List<String> searchPath, String schema, String symbol) {
        return BuiltinCatalog.INSTANCE.builtInOperator(searchPath, schema, symbol);
    }

    /**
     * One function.
     *
     * @param volatility      {@code i} immutable, {@code s} stable, {@code v} volatile
     * @param securityDefiner runs with its owner's rights
     * @param language        such as {@code internal}, {@code c}, {@code sql}, {@code plpgsql}
     * @param builtIn         part of PostgreSQL itself (in {@code pg_catalog} and not from an extension)
     */
    record FunctionInfo(String schema, String name, char volatility, boolean securityDefiner, String language,
                        boolean builtIn) {
        public String qualifiedName() {
            return schema + "." + name;
        }
    }
}
