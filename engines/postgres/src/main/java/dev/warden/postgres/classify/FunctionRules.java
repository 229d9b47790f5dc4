package dev.warden.postgres.classify;

import dev.warden.core.Flag;
import dev.warden.core.Kind;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The two curated function lists, in one place: built-ins with side effects (whatever their volatility), and
 * volatile built-ins that have none. Every entry says why it is there. Names are bare {@code pg_catalog} names;
 * an entry marked {@code anySchema} applies wherever the function lives (extensions install into any schema).
 */
public final class FunctionRules {
    /** What calling a side-effect function does to the statement. {@code kind} UNKNOWN means opaque: never provable. */
    public record Effect(String name, Kind kind, Set<String> flags, boolean anySchema, String why) {}

    private static final Set<String> NONE = Set.of();
    private static final Set<String> LOCKS = Set.of(Flag.LOCKS);
    private static final Set<String> FILE = Set.of(Flag.FILE_ACCESS);
    private static final Set<String> CODE = Set.of(Flag.SERVER_SIDE_CODE);
    private static final Set<String> PRIV = Set.of(Flag.PRIVILEGE);

    private static final List<Effect> SIDE_EFFECTS = List.of(
            // Sequences: advancing or setting a sequence is a write that no rollback undoes.
            e("nextval", Kind.WRITE, NONE, "advances a sequence"),
            e("setval", Kind.WRITE, NONE, "sets a sequence"),
            // Transaction ids: txid_current is STABLE but assigns a transaction id (a write to the xid space).
            e("txid_current", Kind.WRITE, NONE, "assigns a transaction id"),
            e("pg_current_xact_id", Kind.WRITE, NONE, "assigns a transaction id"),
            // Large objects: create, change or delete data outside any table.
            e("lo_create", Kind.WRITE, NONE, "creates a large object"),
            e("lo_creat", Kind.WRITE, NONE, "creates a large object"),
            e("lo_from_bytea", Kind.WRITE, NONE, "creates a large object"),
            e("lo_unlink", Kind.WRITE, Set.of(Flag.DESTRUCTIVE), "deletes a large object"),
            e("lowrite", Kind.WRITE, NONE, "writes a large object"),
            e("lo_put", Kind.WRITE, NONE, "writes a large object"),
            e("lo_truncate", Kind.WRITE, NONE, "truncates a large object"),
            e("lo_truncate64", Kind.WRITE, NONE, "truncates a large object"),
            e("lo_open", Kind.WRITE, NONE, "opens a large object descriptor (possibly for writing)"),
            // Server files and programs (CVE-style exfiltration: pg_read_file called from FROM or a SELECT list).
            e("lo_import", Kind.ADMIN, FILE, "reads a server file into a large object"),
            e("lo_export", Kind.ADMIN, FILE, "writes a large object to a server file"),
            e("pg_read_file", Kind.ADMIN, FILE, "reads a server file"),
            e("pg_read_file_old", Kind.ADMIN, FILE, "reads a server file"),
            e("pg_read_binary_file", Kind.ADMIN, FILE, "reads a server file"),
            e("pg_stat_file", Kind.ADMIN, FILE, "inspects a server file"),
            e("pg_ls_dir", Kind.ADMIN, FILE, "lists a server directory"),
            e("pg_ls_logdir", Kind.ADMIN, FILE, "lists the server log directory"),
            e("pg_ls_waldir", Kind.ADMIN, FILE, "lists the server WAL directory"),
            e("pg_ls_tmpdir", Kind.ADMIN, FILE, "lists a server temporary directory"),
            e("pg_ls_archive_statusdir", Kind.ADMIN, FILE, "lists a server directory"),
            e("pg_ls_logicalmapdir", Kind.ADMIN, FILE, "lists a server directory"),
            e("pg_ls_logicalsnapdir", Kind.ADMIN, FILE, "lists a server directory"),
            e("pg_ls_replslotdir", Kind.ADMIN, FILE, "lists a server directory"),
            e("pg_current_logfile", Kind.ADMIN, FILE, "names server log files"),
            e("pg_show_all_file_settings", Kind.ADMIN, FILE, "reads the server configuration files"),
            e("pg_hba_file_rules", Kind.ADMIN, FILE, "reads pg_hba.conf"),
            e("pg_ident_file_mappings", Kind.ADMIN, FILE, "reads pg_ident.conf"),
            any("pg_file_write", Kind.ADMIN, FILE, "adminpack: writes a server file"),
            any("pg_file_rename", Kind.ADMIN, FILE, "adminpack: renames a server file"),
            any("pg_file_unlink", Kind.ADMIN, FILE, "adminpack: deletes a server file"),
            any("pg_file_sync", Kind.ADMIN, FILE, "adminpack: syncs a server file"),
            any("pg_logdir_ls", Kind.ADMIN, FILE, "adminpack: lists the log directory"),
            // Advisory locks: held past the statement, can block every other session.
            e("pg_advisory_lock", Kind.WRITE, LOCKS, "takes an advisory lock"),
            e("pg_advisory_lock_shared", Kind.WRITE, LOCKS, "takes an advisory lock"),
            e("pg_advisory_xact_lock", Kind.WRITE, LOCKS, "takes an advisory lock"),
            e("pg_advisory_xact_lock_shared", Kind.WRITE, LOCKS, "takes an advisory lock"),
            e("pg_try_advisory_lock", Kind.WRITE, LOCKS, "takes an advisory lock"),
            e("pg_try_advisory_lock_shared", Kind.WRITE, LOCKS, "takes an advisory lock"),
            e("pg_try_advisory_xact_lock", Kind.WRITE, LOCKS, "takes an advisory lock"),
            e("pg_try_advisory_xact_lock_shared", Kind.WRITE, LOCKS, "takes an advisory lock"),
            // Releasing one: only the session's own locks, blocking no one (DISCARD ALL releases them all, and so does
            // asyncpg's pool each time it takes a connection back).
            e("pg_advisory_unlock", Kind.SESSION, NONE, "releases one of the session's advisory locks"),
            e("pg_advisory_unlock_shared", Kind.SESSION, NONE, "releases one of the session's advisory locks"),
            e("pg_advisory_unlock_all", Kind.SESSION, NONE, "releases the session's advisory locks"),
            // Backend and server control.
            e("pg_terminate_backend", Kind.ADMIN, NONE, "terminates another session"),
            e("pg_cancel_backend", Kind.ADMIN, NONE, "cancels another session's query"),
            e("pg_reload_conf", Kind.ADMIN, NONE, "reloads the server configuration"),
            e("pg_rotate_logfile", Kind.ADMIN, NONE, "rotates the server log"),
            e("pg_rotate_logfile_old", Kind.ADMIN, NONE, "rotates the server log"),
            e("pg_switch_wal", Kind.ADMIN, NONE, "switches the WAL file"),
            e("pg_create_restore_point", Kind.ADMIN, NONE, "writes a WAL restore point"),
            e("pg_start_backup", Kind.ADMIN, NONE, "starts a backup"),
            e("pg_stop_backup", Kind.ADMIN, NONE, "stops a backup"),
            e("pg_backup_start", Kind.ADMIN, NONE, "starts a backup"),
            e("pg_backup_stop", Kind.ADMIN, NONE, "stops a backup"),
            e("pg_promote", Kind.ADMIN, NONE, "promotes a standby"),
            e("pg_wal_replay_pause", Kind.ADMIN, NONE, "pauses WAL replay"),
            e("pg_wal_replay_resume", Kind.ADMIN, NONE, "resumes WAL replay"),
            e("pg_create_physical_replication_slot", Kind.ADMIN, NONE, "creates a replication slot (retains WAL)"),
            e("pg_create_logical_replication_slot", Kind.ADMIN, NONE, "creates a replication slot (retains WAL)"),
            e("pg_copy_physical_replication_slot", Kind.ADMIN, NONE, "creates a replication slot"),
            e("pg_copy_logical_replication_slot", Kind.ADMIN, NONE, "creates a replication slot"),
            e("pg_drop_replication_slot", Kind.ADMIN, NONE, "drops a replication slot"),
            e("pg_replication_slot_advance", Kind.ADMIN, NONE, "advances a replication slot"),
            e("pg_logical_slot_get_changes", Kind.ADMIN, NONE, "consumes changes from a replication slot"),
            e("pg_logical_slot_get_binary_changes", Kind.ADMIN, NONE, "consumes changes from a replication slot"),
            e("pg_logical_emit_message", Kind.ADMIN, NONE, "writes a message into the WAL"),
            e("pg_replication_origin_create", Kind.ADMIN, NONE, "changes replication origins"),
            e("pg_replication_origin_drop", Kind.ADMIN, NONE, "changes replication origins"),
            e("pg_replication_origin_advance", Kind.ADMIN, NONE, "changes replication origins"),
            e("pg_replication_origin_session_setup", Kind.ADMIN, NONE, "changes replication origins"),
            e("pg_replication_origin_session_reset", Kind.ADMIN, NONE, "changes replication origins"),
            e("pg_replication_origin_xact_setup", Kind.ADMIN, NONE, "changes replication origins"),
            e("pg_replication_origin_xact_reset", Kind.ADMIN, NONE, "changes replication origins"),
            e("pg_stat_reset", Kind.ADMIN, NONE, "resets statistics"),
            e("pg_stat_reset_shared", Kind.ADMIN, NONE, "resets statistics"),
            e("pg_stat_reset_single_table_counters", Kind.ADMIN, NONE, "resets statistics"),
            e("pg_stat_reset_single_function_counters", Kind.ADMIN, NONE, "resets statistics"),
            e("pg_stat_reset_slru", Kind.ADMIN, NONE, "resets statistics"),
            e("pg_stat_reset_replication_slot", Kind.ADMIN, NONE, "resets statistics"),
            e("pg_stat_reset_subscription_stats", Kind.ADMIN, NONE, "resets statistics"),
            e("pg_log_backend_memory_contexts", Kind.ADMIN, NONE, "makes another backend write to the server log"),
            e("pg_import_system_collations", Kind.ADMIN, NONE, "creates collations"),
            e("pg_nextoid", Kind.ADMIN, NONE, "consumes an OID"),
            e("brin_summarize_new_values", Kind.ADMIN, NONE, "changes an index"),
            e("brin_summarize_range", Kind.ADMIN, NONE, "changes an index"),
            e("brin_desummarize_range", Kind.ADMIN, NONE, "changes an index"),
            e("gin_clean_pending_list", Kind.ADMIN, NONE, "changes an index"),
            e("pg_restore_relation_stats", Kind.ADMIN, NONE, "overwrites planner statistics"),
            e("pg_restore_attribute_stats", Kind.ADMIN, NONE, "overwrites planner statistics"),
            e("pg_restore_extended_stats", Kind.ADMIN, NONE, "overwrites planner statistics"),
            e("pg_clear_relation_stats", Kind.ADMIN, NONE, "clears planner statistics"),
            e("pg_clear_attribute_stats", Kind.ADMIN, NONE, "clears planner statistics"),
            e("pg_clear_extended_stats", Kind.ADMIN, NONE, "clears planner statistics"),
            e("pg_sync_replication_slots", Kind.ADMIN, NONE, "changes replication slots"),
            e("pg_replication_origin_session_progress", Kind.READ, NONE, "reads replication progress (flush=true only forces a WAL flush)"),
            e("pg_export_snapshot", Kind.SESSION, NONE, "exports a snapshot to other sessions"),
            // Settings: set_config is SET in function form (the role variants change identity).
            e("set_config", Kind.SESSION, NONE, "changes a setting"),
            e("pg_notify", Kind.SESSION, NONE, "sends a notification to other sessions"),
            e("setseed", Kind.SESSION, NONE, "changes the session's random seed"),
            // Dynamic SQL and reads the classifier cannot see: the query or the relation is an argument.
            e("query_to_xml", Kind.UNKNOWN, CODE, "runs the SQL text it is given"),
            e("query_to_xmlschema", Kind.UNKNOWN, CODE, "runs the SQL text it is given"),
            e("query_to_xml_and_xmlschema", Kind.UNKNOWN, CODE, "runs the SQL text it is given"),
            e("cursor_to_xml", Kind.UNKNOWN, CODE, "fetches from a cursor the classifier cannot see"),
            e("cursor_to_xmlschema", Kind.UNKNOWN, CODE, "fetches from a cursor the classifier cannot see"),
            e("ts_stat", Kind.UNKNOWN, CODE, "runs the SQL text it is given"),
            e("ts_rewrite", Kind.UNKNOWN, CODE, "runs the SQL text it is given (two-argument form)"),
            e("table_to_xml", Kind.UNKNOWN, CODE, "reads a relation named by its argument"),
            e("table_to_xmlschema", Kind.UNKNOWN, CODE, "reads a relation named by its argument"),
            e("table_to_xml_and_xmlschema", Kind.UNKNOWN, CODE, "reads a relation named by its argument"),
            e("schema_to_xml", Kind.UNKNOWN, CODE, "reads every relation of a schema"),
            e("schema_to_xmlschema", Kind.UNKNOWN, CODE, "reads every relation of a schema"),
            e("schema_to_xml_and_xmlschema", Kind.UNKNOWN, CODE, "reads every relation of a schema"),
            e("database_to_xml", Kind.UNKNOWN, CODE, "reads every relation of the database"),
            e("database_to_xmlschema", Kind.UNKNOWN, CODE, "reads every relation of the database"),
            e("database_to_xml_and_xmlschema", Kind.UNKNOWN, CODE, "reads every relation of the database"),
            any("plpgsql_inline_handler", Kind.UNKNOWN, CODE, "runs PL/pgSQL code (the DO handler)"),
            any("plpgsql_call_handler", Kind.UNKNOWN, CODE, "runs PL/pgSQL code"),
            // Remote execution (dblink, postgres_fdw): arbitrary SQL on another server, or this one over a new login.
            any("dblink", Kind.UNKNOWN, CODE, "dblink: runs SQL on a remote connection"),
            any("dblink_exec", Kind.UNKNOWN, CODE, "dblink: runs SQL on a remote connection"),
            any("dblink_connect", Kind.UNKNOWN, CODE, "dblink: opens a remote connection"),
            any("dblink_connect_u", Kind.UNKNOWN, CODE, "dblink: opens a remote connection"),
            any("dblink_open", Kind.UNKNOWN, CODE, "dblink: runs SQL on a remote connection"),
            any("dblink_fetch", Kind.UNKNOWN, CODE, "dblink: runs SQL on a remote connection"),
            any("dblink_send_query", Kind.UNKNOWN, CODE, "dblink: runs SQL on a remote connection"),
            any("dblink_get_result", Kind.UNKNOWN, CODE, "dblink: runs SQL on a remote connection"),
            any("dblink_close", Kind.UNKNOWN, CODE, "dblink: runs SQL on a remote connection"),
            any("dblink_disconnect", Kind.UNKNOWN, CODE, "dblink: closes a remote connection"),
            any("postgres_fdw_disconnect", Kind.ADMIN, NONE, "postgres_fdw: closes remote connections"),
            any("postgres_fdw_disconnect_all", Kind.ADMIN, NONE, "postgres_fdw: closes remote connections"),
            // Role changes through functions.
            any("pg_switch_role", Kind.DCL, PRIV, "changes the session's role"));

    /**
     * Volatile built-ins without side effects: calling them reads (the clock, the randomness source, sizes,
     * recovery state) and changes nothing. {@code setseed} and {@code txid_current} are deliberately not here.
     */
    private static final Map<String, String> HARMLESS_VOLATILE = Map.ofEntries(
            Map.entry("random", "returns a random number; changes no state but the session's generator position"),
            Map.entry("random_normal", "returns a random number"),
            Map.entry("clock_timestamp", "reads the clock"),
            Map.entry("timeofday", "reads the clock"),
            Map.entry("gen_random_uuid", "returns a random UUID"),
            Map.entry("uuidv4", "returns a random UUID"),
            Map.entry("uuidv7", "returns a time-ordered random UUID"),
            Map.entry("array_shuffle", "returns its argument in random order"),
            Map.entry("array_sample", "returns a random sample of its argument"),
            Map.entry("currval", "reads the session's last sequence value; advances nothing"),
            Map.entry("lastval", "reads the session's last sequence value; advances nothing"),
            Map.entry("pg_relation_size", "reads a relation's size on disk"),
            Map.entry("pg_total_relation_size", "reads a relation's size on disk"),
            Map.entry("pg_table_size", "reads a relation's size on disk"),
            Map.entry("pg_indexes_size", "reads a relation's size on disk"),
            Map.entry("pg_database_size", "reads a database's size on disk"),
            Map.entry("pg_tablespace_size", "reads a tablespace's size on disk"),
            Map.entry("pg_is_in_recovery", "reads recovery state"),
            Map.entry("pg_is_wal_replay_paused", "reads recovery state"),
            Map.entry("pg_get_wal_replay_pause_state", "reads recovery state"),
            Map.entry("pg_last_wal_receive_lsn", "reads WAL positions"),
            Map.entry("pg_last_wal_replay_lsn", "reads WAL positions"),
            Map.entry("pg_last_xact_replay_timestamp", "reads WAL positions"),
            Map.entry("pg_current_wal_lsn", "reads WAL positions"),
            Map.entry("pg_current_wal_insert_lsn", "reads WAL positions"),
            Map.entry("pg_current_wal_flush_lsn", "reads WAL positions"),
            Map.entry("pg_is_in_backup", "reads backup state"),
            Map.entry("pg_blocking_pids", "reads lock state"),
            Map.entry("pg_safe_snapshot_blocking_pids", "reads lock state"),
            Map.entry("pg_lock_status", "reads lock state (the pg_locks view)"),
            Map.entry("pg_prepared_xact", "reads prepared transactions (the pg_prepared_xacts view)"),
            Map.entry("pg_partition_tree", "reads the partition hierarchy"),
            Map.entry("pg_partition_ancestors", "reads the partition hierarchy"),
            Map.entry("pg_xact_status", "reads a transaction's status"),
            Map.entry("txid_status", "reads a transaction's status"),
            Map.entry("pg_xact_commit_timestamp", "reads a commit timestamp"),
            Map.entry("pg_last_committed_xact", "reads a commit timestamp"),
            Map.entry("pg_notification_queue_usage", "reads the notification queue fill"),
            Map.entry("pg_jit_available", "reads server capabilities"),
            Map.entry("pg_control_checkpoint", "reads pg_control"),
            Map.entry("pg_control_system", "reads pg_control"),
            Map.entry("pg_control_init", "reads pg_control"),
            Map.entry("pg_control_recovery", "reads pg_control"),
            Map.entry("pg_sequence_last_value", "reads a sequence without advancing it"),
            Map.entry("pg_get_backend_memory_contexts", "reads memory statistics (a view)"),
            Map.entry("pg_get_shmem_allocations", "reads memory statistics (a view)"),
            Map.entry("pg_collation_actual_version", "reads a collation version"),
            Map.entry("pg_database_collation_actual_version", "reads a collation version"),
            Map.entry("current_query", "returns the current query text"),
            Map.entry("pg_stat_get_recovery_prefetch", "reads statistics"),
            Map.entry("pg_stat_have_stats", "reads statistics"),
            Map.entry("pg_stat_force_next_flush", "flushes the session's own pending statistics"),
            Map.entry("loread", "reads from a large-object descriptor the session opened"),
            Map.entry("lo_get", "reads a large object"),
            Map.entry("lo_lseek", "moves the session's own large-object descriptor"),
            Map.entry("lo_lseek64", "moves the session's own large-object descriptor"),
            Map.entry("lo_tell", "reads the session's own large-object descriptor position"),
            Map.entry("lo_tell64", "reads the session's own large-object descriptor position"),
            Map.entry("lo_close", "closes the session's own large-object descriptor"),
            Map.entry("currtid2", "reads a row's current tuple id"),
            Map.entry("pg_stat_get_backend_io", "reads statistics"),
            Map.entry("pg_stat_get_backend_wal", "reads statistics"),
            Map.entry("pg_stat_clear_snapshot", "discards the session's statistics snapshot only"),
            Map.entry("pg_stat_get_xact_numscans", "reads statistics"),
            Map.entry("pg_stat_get_xact_tuples_returned", "reads statistics"),
            Map.entry("pg_stat_get_xact_tuples_fetched", "reads statistics"),
            Map.entry("pg_stat_get_xact_tuples_inserted", "reads statistics"),
            Map.entry("pg_stat_get_xact_tuples_updated", "reads statistics"),
            Map.entry("pg_stat_get_xact_tuples_deleted", "reads statistics"),
            Map.entry("pg_stat_get_xact_tuples_hot_updated", "reads statistics"),
            Map.entry("pg_stat_get_xact_blocks_fetched", "reads statistics"),
            Map.entry("pg_stat_get_xact_blocks_hit", "reads statistics"),
            Map.entry("pg_stat_get_xact_function_calls", "reads statistics"),
            Map.entry("pg_stat_get_xact_function_total_time", "reads statistics"),
            Map.entry("pg_stat_get_xact_function_self_time", "reads statistics"),
            Map.entry("timezone", "converts a time to a zone (AT TIME ZONE); volatile only for its timetz form"));

    private static final Map<String, Effect> BY_NAME = new HashMap<>();

    static {
        for (Effect e : SIDE_EFFECTS) BY_NAME.put(e.name(), e);
    }

    private FunctionRules() {}

    /** The side effect of a call of {@code schema.name}; {@code builtIn} when it resolved to PostgreSQL's own. */
    public static Optional<Effect> sideEffect(String name, boolean builtIn) {
        Effect e = BY_NAME.get(name);
        // Every dblink_* function either opens a remote connection or runs SQL through one.
        if (e == null && name.startsWith("dblink")) e = BY_NAME.get("dblink");
        if (e == null) return Optional.empty();
        return builtIn || e.anySchema() ? Optional.of(e) : Optional.empty();
    }

    /**
     * Whether every function a call of {@code name} may reach is PostgreSQL's own, runs as the caller and is not
     * volatile (unless harmlessly so): with no side effect of the name, such a call is a read. The one test for a call
     * written as a call and for one written as a column ({@code t.f}).
     */
    public static boolean ownAndPure(String name, List<dev.warden.postgres.catalog.SchemaInfo.FunctionInfo> candidates) {
        if (candidates.isEmpty()) return false;
        for (var c : candidates) {
            if (!c.builtIn() || c.securityDefiner() || c.volatility() == 'v' && !harmlessVolatile(name)) return false;
        }
        return true;
    }

    /** True for a volatile built-in that is on the curated harmless list. */
    public static boolean harmlessVolatile(String name) {
        return HARMLESS_VOLATILE.containsKey(name);
    }

    public static List<Effect> sideEffects() {
        return SIDE_EFFECTS;
    }

    private static Effect e(String name, Kind kind, Set<String> flags, String why) {
        return new Effect(name, kind, flags, false, why);
    }

    private static Effect any(String name, Kind kind, Set<String> flags, String why) {
        return new Effect(name, kind, flags, true, why);
    }
}
