package dev.warden.postgres.wire;

import dev.warden.core.Access;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import dev.warden.core.Verdict;

/**
 * Whether this session changed the schema where Warden's catalog cannot see it yet. The catalog is read over
 * Warden's own connection: a change in the session's open transaction is invisible to it until that transaction has
 * ended, and a session's temporary objects are never visible to it. While such a change may be in force, the session's
 * statements are judged with the {@linkplain dev.warden.core.engine.ClassifyContext#schemaDoubt() doubt} this gives,
 * not on the cached catalog: a view renamed into a table's place, or a trigger created a moment ago, is not what the
 * catalog says.
 *
 * <p>Temporary relations are the session's own and searched before every schema, and the catalog never sees them:
 * once the session changed the schema of one (a trigger, rule, policy, index or default on it, a rename, a temporary
 * view, a copy of another table's defaults and checks with {@code LIKE} or {@code INHERITS}), every statement after it
 * is judged with the doubt, until a DISCARD TEMP or ALL sent alone from outside a transaction completed (it drops
 * every temporary object; a rollback around it would bring them back), or for the rest of the session. A temporary
 * table that only holds rows (created plainly or with {@code AS SELECT}, filled, read, dropped) changes nothing: its
 * statements are judged as before.
 *
 * <p>A change counts from when it is sent (a pipelined statement after it is judged before its result arrives) until
 * the server reports the session idle (ReadyForQuery {@code I}) after it: committed or rolled back, the catalog is read
 * again then. {@code ROLLBACK TO SAVEPOINT} may undo it, but keeping the doubt to the end of the transaction is safe.
 */
final class SchemaChanges {
    /** The first change of the open transaction (command and object), or null. */
    private String inTransaction;
    /** The unit (generation) of the last change sent: the transaction ends with a ReadyForQuery at or after it. */
    private long until = -1;
    /** Names of the temporary relations the session created (without schema: unqualified names reach them). */
    private final java.util.Set<String> temporary = new java.util.HashSet<>();
    /** The first change to a temporary relation, or null: the doubt stays until a DISCARD drops them all. */
    private String temporaryCode;

    private static final java.util.Set<String> CREATES_A_TABLE = java.util.Set.of("CREATE TABLE", "CREATE TABLE AS", "SELECT INTO");

    /** The unit of a DISCARD TEMP or ALL sent alone from outside a transaction, until it ends; -1 when none. */
    private long discardUnit = -1;

    /** An allowed statement is going upstream in unit {@code gen}. */
    synchronized void sent(Verdict v, long gen) {
        // More in the unit of a DISCARD: an error there would roll it back, and the temporary objects with it.
        if (gen == discardUnit) discardUnit = -1;
        if (!v.changesSchema()) {
            for (Statement s : v.classification().statements()) temporary(s, false);
            return;
        }
        for (Statement s : v.classification().statements()) temporary(s, true);
        if (inTransaction == null) inTransaction = v.classification().firstSchemaChange().brief();
        until = Math.max(until, gen);
    }

    /**
     * Follows what a statement does to the session's temporary relations; {@code mayChange}: its verdict says it may
     * change the schema (not only run functions a rule declares readers).
     */
    private void temporary(Statement s, boolean mayChange) {
        // CREATE TEMP TABLE, CREATE TABLE pg_temp.x, CREATE TEMP TABLE … AS, SELECT … INTO TEMP (not CREATE TRIGGER … ON
        // pg_temp.x, which is DDL on it too).
        boolean creation = CREATES_A_TABLE.contains(s.command());
        boolean creates = false;
        boolean copies = false;
        boolean touches = false;
        for (ObjectAccess o : s.objects()) {
            String name = o.name();
            if (name.startsWith("pg_temp.") || name.startsWith("pg_temp_")) {
                creates |= creation && o.access() == Access.DDL;
                temporary.add(name.substring(name.indexOf('.') + 1));
                touches = true;
            } else {
                // LIKE, INHERITS or PARTITION OF: the new table gets that table's defaults, checks and indexes.
                copies |= o.access() == Access.DDL;
                touches |= temporary.contains(name.substring(name.lastIndexOf('.') + 1));
            }
        }
        if (temporaryCode != null || !touches) return;
        // Changing one (a trigger, a rename…); dropping one removes what it had. Creating one changes it when the
        // new table copies another's code, or the statement runs code that is not proven (a temporary view, a default).
        boolean opaque = mayChange && (s.kind() == dev.warden.core.Kind.UNKNOWN || s.kind() == dev.warden.core.Kind.ADMIN);
        boolean changes = creates ? copies || opaque : mayChange && s.mayChangeSchema() && !s.command().startsWith("DROP");
        if (changes) temporaryCode = s.brief();
    }

    /**
     * The server is ready for a query after unit {@code gen}, in transaction status {@code status}. Returns true when
     * this ended the transaction of a change (whatever became of it): the catalog is to be read again.
     */
    synchronized boolean ended(char status, long gen) {
        if (discardUnit >= 0 && gen >= discardUnit) {
            if (gen == discardUnit && status == 'I') {
                temporary.clear();
                temporaryCode = null;
            }
            discardUnit = -1;
        }
        if (status != 'I' || inTransaction == null || gen < until) return false;
        inTransaction = null;
        until = -1;
        return true;
    }

    /**
     * Unit {@code gen} holds only a DISCARD TEMP or ALL, sent from outside a transaction: if it ends without an error,
     * every temporary object is gone, and with them the doubt they caused.
     */
    synchronized void discarding(long gen) {
        discardUnit = gen;
    }

    /** The server reported an error: a DISCARD waiting to end did not (or was rolled back). */
    synchronized void error() {
        discardUnit = -1;
    }

    /** {@code context} with this session's schema doubt: one look, under one lock, per statement. */
    synchronized dev.warden.core.engine.ClassifyContext applyTo(dev.warden.core.engine.ClassifyContext context) {
        return context.withSchemaDoubt(doubt());
    }

    /** Why the catalog cannot be trusted for this session's next statement, or null. */
    private String doubt() {
        if (temporaryCode != null) {
            return "this session changed a temporary relation (" + temporaryCode + "): Warden's catalog never sees"
                    + " temporary objects, which are searched before every schema, so until they are dropped what"
                    + " depends on the database's own objects is not proven (run DISCARD TEMP outside a transaction"
                    + " block, or open a new session)";
        }
        if (inTransaction == null) return null;
        return "this transaction changed the schema (" + inTransaction + "): Warden's catalog sees the change only"
                + " after COMMIT or ROLLBACK, so until then what depends on the database's own objects is not proven";
    }
}
