package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.Verdict;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What Warden believes the upstream session holds: prepared statements (protocol-level and SQL-level share one
 * namespace, as in PostgreSQL) and portals, each with the classification judged for it. The invariant: whenever a
 * name is here, the upstream either holds exactly this text under it or holds nothing (and refuses to run it).
 * Where a pipelined race leaves that uncertain, the entry becomes ambiguous and is refused.
 */
final class StatementTracker {
    /** A prepared statement as judged. {@code confirmed}: the upstream acknowledged it. */
    static final class Prepared {
        final String name;
        final String text;
        final Classification classification;
        /**
         * What {@code classification} was made under (search path, role, schema doubt); an Execute under other names
         * or another doubt classifies again, as the server analyses it again. {@code null} for SQL PREPARE.
         */
        volatile dev.warden.core.engine.ClassifyContext context;
        final String refusal;
        int[] parameterTypes = new int[0];
        volatile boolean confirmed;

        Prepared(String name, String text, Classification classification, String refusal) {
            this.name = name;
            this.text = text;
            this.classification = classification;
            this.refusal = refusal;
        }
    }

    /** A bound portal; the verdict of its first Execute is kept for the Executes that fetch the rest. */
    static final class Portal {
        final String name;
        final Prepared statement;
        final List<String> parameters;
        final long generation;
        final String refusal;
        volatile boolean confirmed;
        volatile Verdict verdict;
        /** The search path when it was bound (the server plans a portal at Bind), or why it was not known. */
        volatile SearchPathTracker.View searchPath;

        Portal(String name, Prepared statement, List<String> parameters, long generation, String refusal) {
            this.name = name;
            this.statement = statement;
            this.parameters = parameters;
            this.generation = generation;
            this.refusal = refusal;
        }
    }

    private final Map<String, Prepared> statements = new HashMap<>();
    private final Map<String, Classification> classifications = new ConcurrentHashMap<>();
    private final Map<String, Portal> portals = new HashMap<>();

    /**
     * The view the classifier gets for SQL {@code EXECUTE name} under {@code context}: a statement prepared under
     * another path or role (or whose are not recorded) is classified again under this one, as the server analyses it
     * again when the search path or role changed.
     */
    Map<String, Classification> preparedView(dev.warden.core.engine.ClassifyContext context,
                                             java.util.function.BiFunction<String, dev.warden.core.engine.ClassifyContext, Classification> reclassify) {
        return new java.util.AbstractMap<>() {
            @Override
            public Classification get(Object key) {
                Prepared p;
                Classification c;
                synchronized (StatementTracker.this) {
                    p = statements.get(key);
                    c = classifications.get(key);
                }
                if (c == null || p == null || p.refusal != null || context.sameNames(p.context)) return c;
                return reclassify.apply(p.text, context);
            }

            @Override
            public boolean containsKey(Object key) {
                return classifications.containsKey(key);
            }

            @Override
            public java.util.Set<Entry<String, Classification>> entrySet() {
                Map<String, Classification> m = new HashMap<>();
                for (String k : classifications.keySet()) {
                    Classification c = get(k);
                    if (c != null) m.put(k, c);
                }
                return m.entrySet();
            }
        };
    }

    /** The live view the classifier gets for SQL {@code EXECUTE name}. */
    Map<String, Classification> preparedView() {
        return java.util.Collections.unmodifiableMap(classifications);
    }

    /**
     * A Parse about to be forwarded. Returns the entry to confirm or drop when the upstream answers, or {@code null}
     * when the upstream will refuse it anyway (the name is taken) and nothing changes here.
     */
    synchronized Prepared parse(String name, String text, Classification c, int[] parameterTypes) {
        Prepared existing = statements.get(name);
        if (!name.isEmpty() && existing != null) {
            if (existing.confirmed) return null;
            // The earlier Parse of this name is still unanswered: which one the upstream keeps is unknown.
            put(new Prepared(name, text, c, "prepared statement \"" + name + "\" was redefined before the server answered"));
            return null;
        }
        Prepared p = new Prepared(name, text, c, null);
        p.parameterTypes = parameterTypes;
        put(p);
        return p;
    }

    /** An SQL-level PREPARE that the upstream completed. */
    synchronized void prepared(String name, String text, Classification c) {
        if (statements.containsKey(name)) {
            put(new Prepared(name, text, c, "prepared statement \"" + name + "\" is defined twice"));
            return;
        }
        Prepared p = new Prepared(name, text, c, null);
        p.confirmed = true;
        put(p);
    }

    private void put(Prepared p) {
        statements.put(p.name, p);
        if (!p.name.isEmpty()) {
            classifications.put(p.name, p.refusal == null ? p.classification : Classification.unknown(p.text, p.refusal));
        }
    }

    synchronized void parseFailed(Prepared p) {
        if (statements.get(p.name) == p) {
            statements.remove(p.name);
            classifications.remove(p.name);
        }
    }

    synchronized Prepared statement(String name) {
        return statements.get(name);
    }

    synchronized void closeStatement(String name) {
        statements.remove(name);
        classifications.remove(name);
    }

    synchronized void closeAllStatements() {
        statements.clear();
        classifications.clear();
        portals.clear();
    }

    /** A Bind about to be forwarded; see {@link #parse} for the {@code null} answer. */
    synchronized Portal bind(String name, Prepared statement, List<String> parameters, long generation) {
        Portal existing = portals.get(name);
        if (!name.isEmpty() && existing != null) {
            if (existing.confirmed) return null;
            portals.put(name, new Portal(name, null, parameters, generation, "portal \"" + name + "\" was rebound before the server answered"));
            return null;
        }
        String refusal = statement == null ? "the prepared statement is not known to Warden"
                : statement.refusal;
        Portal p = new Portal(name, statement, parameters, generation, refusal);
        portals.put(name, p);
        return p;
    }

    synchronized void bindFailed(Portal p) {
        if (portals.get(p.name) == p) portals.remove(p.name);
    }

    /** Whether a named portal of the extended protocol is open (SQL FETCH, MOVE and CLOSE could reach it). */
    synchronized boolean hasNamedPortals() {
        for (String name : portals.keySet()) if (!name.isEmpty()) return true;
        return false;
    }

    synchronized Portal portal(String name) {
        return portals.get(name);
    }

    synchronized void closePortal(String name) {
        portals.remove(name);
    }

    /** The transaction ended: every portal bound before the Sync or Query of {@code generation} is gone upstream. */
    synchronized void transactionEnded(long generation) {
        if (portals.isEmpty()) return;
        portals.values().removeIf(p -> p.generation <= generation);
    }
}
