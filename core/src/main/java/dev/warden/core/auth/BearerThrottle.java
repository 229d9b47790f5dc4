package dev.warden.core.auth;

import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Guessing bearer tokens over HTTP (the MCP endpoint, the console), slowed down as the wire's secrets are
 * ({@link LoginThrottle}): once an address sent a wrong token, its requests get their verdicts one at a time, each
 * after the failure delay, the right token's as a wrong one's, so neither parallel requests nor the answer's timing
 * make guessing faster. A token gives no name to count by, so an address's tokens are counted together; instead an
 * identity that proved itself from an address since is let through at once there, so an agent or approver already
 * at work is not slowed down by a guesser on the same host.
 */
public final class BearerThrottle {
    /** How long a request may wait for its turn; then it is refused as {@link Busy} without a verdict. */
    static final long TURN_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final String TOKENS = "bearer tokens";
    private static final int MAX_TRUSTED = 100_000;

    private final LoginThrottle throttle = new LoginThrottle();
    /** Address and identity → when that identity last proved itself from that address. */
    private final Map<String, Long> trusted = new ConcurrentHashMap<>();

    /** No turn for a verdict in time: too many wrong tokens from this address. */
    public static final class Busy extends Exception {
        Busy() {
            super("too many wrong tokens from this address; try again later");
        }
    }

    /**
     * Lets a verdict out when its turn comes. {@code identity} is who the token proves, {@code null} for a wrong token,
     * which is then counted and reported to {@code failed} with the address's failures in a row.
     */
    public void admit(String clientAddress, String identity, IntConsumer failed) throws Busy, InterruptedException {
        String address = LoginThrottle.network(clientAddress);
        String key = address + '\0' + identity;
        long now = System.nanoTime();
        if (identity != null) {
            Long since = trusted.get(key);
            if (since != null && now - since <= LoginThrottle.KEPT) {
                trusted.put(key, now);
                return;
            }
        }
        try (LoginThrottle.Turn turn = throttle.await(address, TOKENS, now + TURN_NANOS)) {
            if (identity == null) {
                failed.accept(turn.failed());
                return;
            }
        } catch (SocketTimeoutException e) {
            throw new Busy();
        }
        if (trusted.size() >= MAX_TRUSTED) trusted.values().removeIf(t -> System.nanoTime() - t > LoginThrottle.KEPT);
        if (trusted.size() < MAX_TRUSTED) trusted.put(key, System.nanoTime());
    }
}
