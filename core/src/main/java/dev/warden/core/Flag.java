package dev.warden.core;

/** Well-known statement flags. Engines may add their own; policies match flags by these names. */
public final class Flag {
    /** Removes data or objects wholesale: DROP, TRUNCATE, DELETE/UPDATE without WHERE. */
    public static final String DESTRUCTIVE = "destructive";
    /** Takes locks beyond the statement's own: FOR UPDATE/SHARE, LOCK, advisory locks. */
    public static final String LOCKS = "locks";
    /** Reads or writes server files or runs server programs. */
    public static final String FILE_ACCESS = "file_access";
    /** Runs code the classifier cannot see into: DO, CALL, dynamic SQL, user functions. */
    public static final String SERVER_SIDE_CODE = "server_side_code";
    /** Changes identity or privileges: roles, grants, session authorization. */
    public static final String PRIVILEGE = "privilege";

    /** Every flag a policy may name: a misspelled one in a rule is a load error, not a rule that never fires. */
    public static final java.util.Set<String> ALL = java.util.Set.of(DESTRUCTIVE, LOCKS, FILE_ACCESS, SERVER_SIDE_CODE, PRIVILEGE);

    private Flag() {}
}
