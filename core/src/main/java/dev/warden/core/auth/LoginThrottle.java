package dev.warden.core.auth;

import java.net.SocketTimeoutException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Slows down password guessing. Failures are counted per client address and agent name: once a name failed recently
 * from an address, each verdict on a secret for that name from that address waits first, the longer the more failures
 * in a row (up to 5 s), and those verdicts are given one at a time, so parallel connections queue behind each other
 * instead of each waiting out its own delay at the same time. Counting by name too keeps one agent with a wrong secret
 * from delaying every other agent on its host (agents often share an address: one machine, one NAT). An address that
 * failed with more than {@link #FREE_NAMES} names (a name sprayer's) is throttled as a whole: then every verdict from it
 * waits for the address's own turn and delay too, whatever the name, so a name's delay tells nothing about whether the
 * name exists. The right secret waits like a wrong one, so no answer comes sooner for it. Failures are forgotten
 * {@link #KEPT} after the last one, never by a success (an attacker's own agent must not reset them).
 */
public final class LoginThrottle {
    static final long KEPT = TimeUnit.MINUTES.toNanos(5);
    /** Names that may fail from one address before the address as a whole waits. */
    static final int FREE_NAMES = 3;
    /** Addresses come from the network: past this many, entries nobody waits on are dropped. */
    private static final int MAX_ADDRESSES = 100_000;
    /** Names too: past this many at one address, other names share one entry (more throttling, never less). */
    static final int MAX_NAMES = 1_000;
    private static final String OTHER_NAMES = "\0other names";

    /** A turn to give verdicts in, and the failures in a row behind it. */
    private static final class Queue {
        final ReentrantLock turn = new ReentrantLock(true);
        int holders;
        int failures;
        long lastFailure;

        int recentFailures(long now) {
            return failures > 0 && now - lastFailure <= KEPT ? failures : 0;
        }

        boolean idle(long now) {
            return holders == 0 && recentFailures(now) == 0;
        }
    }

    /** One address: its names, and its own turn once too many names failed. Mutated only inside {@code addresses.compute}. */
    private static final class Address {
        final Queue whole = new Queue();
        final Map<String, Queue> names = new HashMap<>();

        /** Failures in a row of the address as a whole: one per failing name past the free ones. */
        int excessNames(long now) {
            int failing = 0;
            for (Queue q : names.values()) if (q.recentFailures(now) > 0) failing++;
            return Math.max(0, failing - FREE_NAMES);
        }

        boolean idle(long now) {
            if (whole.holders > 0) return false;
            for (Queue q : names.values()) if (!q.idle(now)) return false;
            return true;
        }
    }

    private final Map<String, Address> addresses = new ConcurrentHashMap<>();

    /** The right to give one verdict; close it once the outcome is recorded with {@link #failed}. */
    public final class Turn implements AutoCloseable {
        private final String address;
        private final String name;
        private final Queue queue;
        private final boolean whole;
        private boolean closed;

        private Turn(String address, String name, Queue queue, boolean whole) {
            this.address = address;
            this.name = name;
            this.queue = queue;
            this.whole = whole;
        }

        /** Counts a wrong secret for this name from this address; returns its failures in a row, this one included. */
        public int failed() {
            long now = System.nanoTime();
            int[] n = new int[1];
            addresses.compute(address, (k, a) -> {
                Address s = a == null ? new Address() : a;
                Queue q = s.names.computeIfAbsent(name, x -> queue);
                q.failures = q.recentFailures(now) + 1;
                q.lastFailure = now;
                n[0] = q.failures;
                return s;
            });
            return n[0];
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            if (whole) addressOf(address).whole.turn.unlock();
            queue.turn.unlock();
            release(address, name, whole);
        }
    }

    /**
     * Waits for the name's turn at this address (and the address's own, when it is throttled as a whole) and then the
     * delay, all within {@code deadlineNanos} (a {@link System#nanoTime()} instant); past it the attempt gets no verdict.
     */
    public Turn await(String clientAddress, String user, long deadlineNanos) throws SocketTimeoutException, InterruptedException {
        String address = network(clientAddress);
        if (addresses.size() > MAX_ADDRESSES) {
            long now = System.nanoTime();
            // Each entry looked at inside its own compute: its names are not to be read from outside one.
            for (String k : addresses.keySet()) addresses.computeIfPresent(k, (x, a) -> a.idle(now) ? null : a);
        }
        String[] key = {user};
        Queue[] q = new Queue[1];
        addresses.compute(address, (k, s) -> {
            Address a = s == null ? new Address() : s;
            if (!a.names.containsKey(key[0]) && a.names.size() >= MAX_NAMES) key[0] = OTHER_NAMES;
            q[0] = a.names.computeIfAbsent(key[0], x -> new Queue());
            q[0].holders++;
            return a;
        });
        String name = key[0];
        Queue own = q[0];
        boolean ownLocked = false;
        boolean whole = false;
        boolean wholeLocked = false;
        try {
            ownLocked = own.turn.tryLock(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (!ownLocked) throw new SocketTimeoutException("no turn for a verdict before the startup deadline");
            Address a = joinWholeIfThrottled(address);
            whole = a != null;
            if (whole) {
                wholeLocked = a.whole.turn.tryLock(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (!wholeLocked) throw new SocketTimeoutException("no turn for a verdict before the startup deadline");
            }
            int failures = failuresInARow(address, own, whole);
            if (failures > 0) {
                long delay = TimeUnit.MILLISECONDS.toNanos(Math.min(5000, 100L << Math.min(failures, 10)));
                long left = deadlineNanos - System.nanoTime();
                TimeUnit.NANOSECONDS.sleep(Math.min(delay, Math.max(0, left)));
                if (delay > left) throw new SocketTimeoutException("the failure delay outlasts the startup deadline");
            }
            return new Turn(address, name, own, whole);
        } catch (SocketTimeoutException | InterruptedException | RuntimeException e) {
            if (wholeLocked) addressOf(address).whole.turn.unlock();
            if (ownLocked) own.turn.unlock();
            release(address, name, whole);
            throw e;
        }
    }

    /** The address, counted as a holder of its own turn, when more names than the free ones failed from it; else null. */
    private Address joinWholeIfThrottled(String address) {
        long now = System.nanoTime();
        Address[] joined = new Address[1];
        addresses.computeIfPresent(address, (k, a) -> {
            if (a.excessNames(now) > 0) {
                a.whole.holders++;
                joined[0] = a;
            }
            return a;
        });
        return joined[0];
    }

    /** What the delay is counted from: the name's failures in a row, or the address's when it is throttled as a whole. */
    private int failuresInARow(String address, Queue own, boolean whole) {
        long now = System.nanoTime();
        int[] n = new int[1];
        addresses.computeIfPresent(address, (k, a) -> {
            n[0] = Math.max(own.recentFailures(now), whole ? a.excessNames(now) : 0);
            return a;
        });
        return n[0];
    }

    /** An address with a holder is never dropped, so it is there for whoever holds a turn in it. */
    private Address addressOf(String address) {
        return addresses.get(address);
    }

    /**
     * What failures are counted by: an IPv4 address, or an IPv6 address's /64. One IPv6 host holds a whole /64
     * (SLAAC, privacy addresses) and could take a fresh address for each guess, never waiting and leaving an entry
     * per guess; a /64 is the smallest network an IPv6 host is usually given, so it counts as one client.
     */
    public static String network(String address) {
        if (address.indexOf(':') < 0) return address;
        int scope = address.indexOf('%');
        String literal = scope < 0 ? address : address.substring(0, scope);
        try {
            java.net.InetAddress a = java.net.InetAddress.ofLiteral(literal);
            if (a instanceof java.net.Inet6Address v6) return java.util.HexFormat.of().formatHex(v6.getAddress(), 0, 8) + "::/64";
            return a.getHostAddress(); // an IPv4-mapped address counts as its IPv4 address
        } catch (IllegalArgumentException notALiteral) {
            return address;
        }
    }

    private void release(String address, String name, boolean whole) {
        long now = System.nanoTime();
        addresses.computeIfPresent(address, (k, a) -> {
            if (whole) a.whole.holders--;
            Queue q = a.names.get(name);
            if (q != null && --q.holders == 0 && q.recentFailures(now) == 0) a.names.remove(name);
            return a.idle(now) ? null : a;
        });
    }
}
