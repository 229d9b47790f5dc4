package dev.warden.core.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Bearer tokens over HTTP had no throttle on the MCP endpoint (and a fixed 250 ms pause on the console, which parallel
 * requests did not feel): a guesser could try tokens as fast as the server answered.
 */
class BearerThrottleTest {
    static long admittedMillis(BearerThrottle t, String address, String identity, AtomicInteger failures) throws Exception {
        long start = System.nanoTime();
        t.admit(address, identity, failures::set);
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    @Test
    void afterWrongTokensEveryVerdictFromTheAddressWaitsTheRightOnesToo() throws Exception {
        BearerThrottle t = new BearerThrottle();
        AtomicInteger failures = new AtomicInteger();
        assertThat(admittedMillis(t, "192.0.2.1", null, failures)).isLessThan(150);
        assertThat(failures).hasValue(1);
        assertThat(admittedMillis(t, "192.0.2.1", null, failures)).isGreaterThanOrEqualTo(150);
        assertThat(failures).hasValue(2);
        // A right token not seen from this address before waits like a wrong one: its timing tells nothing.
        assertThat(admittedMillis(t, "192.0.2.1", "agent", failures)).isGreaterThanOrEqualTo(350);
        assertThat(failures).as("a right token is not a failure").hasValue(2);
        assertThat(admittedMillis(t, "192.0.2.2", "agent", failures)).as("another address").isLessThan(150);
    }

    /** Each request waited out its own pause at the same time: N parallel guesses got N verdicts per pause. */
    @Test
    void parallelWrongTokensFromOneAddressGetTheirVerdictsOneAtATime() throws Exception {
        BearerThrottle t = new BearerThrottle();
        AtomicInteger failures = new AtomicInteger();
        t.admit("192.0.2.3", null, failures::set);
        long start = System.nanoTime();
        Thread[] guesses = new Thread[3];
        for (int i = 0; i < guesses.length; i++) {
            guesses[i] = Thread.ofVirtual().start(() -> {
                try {
                    t.admit("192.0.2.3", null, failures::set);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        }
        for (Thread g : guesses) g.join();
        // 0.2 s, 0.4 s and 0.8 s one after the other, not 0.2 s side by side.
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(1300);
        assertThat(failures).hasValue(4);
    }

    @Test
    void anIdentityAlreadyAtWorkOnTheAddressIsNotSlowedByAGuesserThere() throws Exception {
        BearerThrottle t = new BearerThrottle();
        AtomicInteger failures = new AtomicInteger();
        t.admit("192.0.2.4", "agent", failures::set);
        for (int i = 0; i < 2; i++) t.admit("192.0.2.4", null, failures::set);
        Thread guess = Thread.ofVirtual().start(() -> {
            try {
                t.admit("192.0.2.4", null, failures::set); // holds the address's turn through its 0.4 s delay
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        assertThat(admittedMillis(t, "192.0.2.4", "agent", failures)).isLessThan(150);
        assertThat(admittedMillis(t, "192.0.2.4", "approver", failures)).as("an identity not seen here yet waits")
                .isGreaterThanOrEqualTo(600);
        guess.join();
    }
}
