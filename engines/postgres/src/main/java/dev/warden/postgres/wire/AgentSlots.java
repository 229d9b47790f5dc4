package dev.warden.postgres.wire;

import dev.warden.core.Gate;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sessions per (agent, database), counted across every listener of the process: a database served on two addresses
 * (or reached through two listeners) still gives an agent {@code max_connections_per_agent} sessions in all. One
 * count per gate, which is one per process in production (tests run several gates side by side).
 */
final class AgentSlots {
    private static final Map<Gate, AgentSlots> BY_GATE = Collections.synchronizedMap(new WeakHashMap<>());

    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

    static AgentSlots of(Gate gate) {
        return BY_GATE.computeIfAbsent(gate, g -> new AgentSlots());
    }

    /** A held slot; giving it back more than once is harmless, so every way out of a session may do it. */
    final class Slot {
        private final AtomicInteger count;
        private final AtomicBoolean released = new AtomicBoolean();

        private Slot(AtomicInteger count) {
            this.count = count;
        }

        void release() {
            if (released.compareAndSet(false, true)) count.decrementAndGet();
        }
    }

    /** A slot, or {@code null} when the agent already holds {@code limit} sessions on this database. */
    Slot acquire(String agent, String database, int limit) {
        // NUL cannot occur in a startup packet's names, so the key is unambiguous.
        AtomicInteger n = counts.computeIfAbsent(agent + '\0' + database, k -> new AtomicInteger());
        while (true) {
            int v = n.get();
            if (v >= limit) return null;
            if (n.compareAndSet(v, v + 1)) return new Slot(n);
        }
    }

    int held(String agent, String database) {
        AtomicInteger n = counts.get(agent + '\0' + database);
        return n == null ? 0 : n.get();
    }
}
