package dev.warden.postgres.wire;

import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Slows down password guessing from one client address. Verdicts on secrets from one address are given one at a
 * time, and once that address failed recently each verdict waits first, the longer the more failures in a row (up to
 * 5 s): parallel connections queue behind each other instead of each waiting out its own delay at the same time. The
 * right secret waits like a wrong one, so no answer comes sooner for it. Failures are forgotten {@link #KEPT} after
 * the last one, never by a success (an attacker's own agent must not reset them).
 */
final class LoginThrottle {
    static final long KEPT = TimeUnit.MINUTES.toNanos(5);
    /** Addresses come from the network: past this many, entries nobody waits on are dropped. */
    private static final int MAX_ADDRESSES = 100_000;

    /** One address: its queue for verdicts and its failures in a row. Mutated only inside {@code addresses.compute}. */
    private static final class Address {
        final ReentrantLock turn = new ReentrantLock(true);
        int holders;
        int failures;
        long lastFailure;

        int recentFailures(long now) {
            return failures > 0 && now - lastFailure <= KEPT ? failures : 0;
        }
    }

    private final Map<String, Address> addresses = new ConcurrentHashMap<>();

    /** The right to give one verdict for an address; close it once the outcome is recorded with {@link #failed}. */
    final class Turn implements AutoCloseable {
        private final String address;
        private final Address state;
        private boolean closed;

        private Turn(String address, Address state) {
            this.address = address;
            this.state = state;
        }

        /** Counts a wrong secret from this address; returns the failures in a row, this one included. */
        int failed() {
            long now = System.nanoTime();
            int[] n = new int[1];
            addresses.compute(address, (k, a) -> {
                Address s = a == null ? state : a;
                s.failures = s.recentFailures(now) + 1;
                s.lastFailure = now;
                n[0] = s.failures;
                return s;
            });
            return n[0];
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            state.turn.unlock();
            release(address);
        }
    }

    /**
     * Waits for this address's turn and then its failure delay, both within {@code deadlineNanos} (a
     * {@link System#nanoTime()} instant); past it the attempt gets no verdict at all.
     */
    Turn await(String clientAddress, long deadlineNanos) throws SocketTimeoutException, InterruptedException {
        String address = network(clientAddress);
        if (addresses.size() > MAX_ADDRESSES) {
            long now = System.nanoTime();
            addresses.entrySet().removeIf(e -> e.getValue().holders == 0 && e.getValue().recentFailures(now) == 0);
        }
        Address a = addresses.compute(address, (k, s) -> {
            Address x = s == null ? new Address() : s;
            x.holders++;
            return x;
        });
        boolean locked = false;
        try {
            locked = a.turn.tryLock(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (!locked) throw new SocketTimeoutException("no turn for a verdict before the startup deadline");
            int failures = a.recentFailures(System.nanoTime());
            if (failures > 0) {
                long delay = TimeUnit.MILLISECONDS.toNanos(Math.min(5000, 100L << Math.min(failures, 10)));
                long left = deadlineNanos - System.nanoTime();
                TimeUnit.NANOSECONDS.sleep(Math.min(delay, Math.max(0, left)));
                if (delay > left) throw new SocketTimeoutException("the failure delay outlasts the startup deadline");
            }
            return new Turn(address, a);
        } catch (SocketTimeoutException | InterruptedException | RuntimeException e) {
            if (locked) a.turn.unlock();
            release(address);
            throw e;
        }
    }

    /**
     * What failures are counted by: an IPv4 address, or an IPv6 address's /64. One IPv6 host holds a whole /64
     * (SLAAC, privacy addresses) and could take a fresh address for each guess, never waiting and leaving an entry
     * per guess; a /64 is the smallest network an IPv6 host is usually given, so it counts as one client.
     */
    static String network(String address) {
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

    private void release(String address) {
        long now = System.nanoTime();
        addresses.computeIfPresent(address, (k, a) -> --a.holders == 0 && a.recentFailures(now) == 0 ? null : a);
    }
}
