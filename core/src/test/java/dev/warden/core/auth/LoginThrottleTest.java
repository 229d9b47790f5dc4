package dev.warden.core.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The throttle counts failures per client address. One IPv6 host holds a whole /64 (SLAAC, privacy addresses), so
 * per address it could take a fresh address for every guess: no guess ever waited, and each left an entry of its own
 * for five minutes, past the map's cap (which only drops entries without recent failures).
 */
class LoginThrottleTest {
    static long waitedMillis(LoginThrottle throttle, String address) throws Exception {
        return waitedMillis(throttle, address, "agent");
    }

    static long waitedMillis(LoginThrottle throttle, String address, String name) throws Exception {
        long start = System.nanoTime();
        try (LoginThrottle.Turn turn = throttle.await(address, name, System.nanoTime() + TimeUnit.SECONDS.toNanos(10))) {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }
    }

    static void fail(LoginThrottle throttle, String address) throws Exception {
        fail(throttle, address, "agent");
    }

    static void fail(LoginThrottle throttle, String address, String name) throws Exception {
        try (LoginThrottle.Turn turn = throttle.await(address, name, System.nanoTime() + TimeUnit.SECONDS.toNanos(10))) {
            turn.failed();
        }
    }

    @Test
    void anotherAddressOfTheSameIpv6SlashSixtyFourWaitsToo() throws Exception {
        LoginThrottle throttle = new LoginThrottle();
        fail(throttle, "2001:db8:1:2:0:0:0:1");
        assertThat(waitedMillis(throttle, "2001:db8:1:2:aaaa:bbbb:cccc:dddd")).isGreaterThanOrEqualTo(150);
    }

    @Test
    void otherNetworksAndIpv4AddressesAreCountedApart() throws Exception {
        LoginThrottle throttle = new LoginThrottle();
        fail(throttle, "2001:db8:1:2:0:0:0:1");
        fail(throttle, "192.0.2.1");
        assertThat(waitedMillis(throttle, "2001:db8:1:3:0:0:0:1")).isLessThan(150);
        assertThat(waitedMillis(throttle, "192.0.2.2")).isLessThan(150);
    }

    @Test
    void anIpv4MappedAddressCountsAsItsIpv4Address() throws Exception {
        LoginThrottle throttle = new LoginThrottle();
        fail(throttle, "192.0.2.7");
        assertThat(waitedMillis(throttle, "::ffff:192.0.2.7")).isGreaterThanOrEqualTo(150);
    }

    /**
     * Failures were counted per address only: one agent with a wrong secret (a rotated secret, a typo in its
     * configuration) retrying in a loop made every other agent on its host wait up to 5 s for each login, one at a
     * time behind its delays, until their startups timed out.
     */
    @Test
    void oneAgentsWrongSecretDoesNotDelayAnotherAgentOnTheSameAddress() throws Exception {
        LoginThrottle throttle = new LoginThrottle();
        for (int i = 0; i < 3; i++) fail(throttle, "192.0.2.9", "broken-agent");
        // The broken agent's next attempt holds its turn through its 0.8 s delay ...
        Thread retry = Thread.ofVirtual().start(() -> {
            try {
                fail(throttle, "192.0.2.9", "broken-agent");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(100);
        // ... while another agent on the same address logs in at once.
        assertThat(waitedMillis(throttle, "192.0.2.9", "other-agent")).isLessThan(150);
        assertThat(waitedMillis(throttle, "192.0.2.9", "broken-agent")).as("the broken agent itself still waits")
                .isGreaterThanOrEqualTo(700);
        retry.join();
    }

    /** Guesses spread over many names (a name sprayer) make every verdict from that address wait, whatever the name. */
    @Test
    void anAddressFailingWithManyNamesWaitsForEveryName() throws Exception {
        LoginThrottle throttle = new LoginThrottle();
        for (int i = 0; i < LoginThrottle.FREE_NAMES; i++) fail(throttle, "192.0.2.10", "name-" + i);
        assertThat(waitedMillis(throttle, "192.0.2.10", "fresh-name")).as("up to the free names").isLessThan(150);
        fail(throttle, "192.0.2.10", "name-x");
        fail(throttle, "192.0.2.10", "name-y");
        // Two names past the free ones: 400 ms for any name, one it never tried included.
        assertThat(waitedMillis(throttle, "192.0.2.10", "another-fresh-name")).isGreaterThanOrEqualTo(350);
        assertThat(waitedMillis(throttle, "192.0.2.11", "another-fresh-name")).as("another address").isLessThan(150);
    }

    /** Names come from the network too: past the bound at one address they share an entry, which only throttles more. */
    @Test
    void namesPastTheBoundAtOneAddressShareOneEntry() throws Exception {
        LoginThrottle throttle = new LoginThrottle();
        java.util.List<LoginThrottle.Turn> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < LoginThrottle.MAX_NAMES; i++) {
                held.add(throttle.await("192.0.2.12", "held-" + i, System.nanoTime() + TimeUnit.SECONDS.toNanos(10)));
            }
            fail(throttle, "192.0.2.12", "x");
            assertThat(waitedMillis(throttle, "192.0.2.12", "y")).as("a name past the bound, after another one failed")
                    .isGreaterThanOrEqualTo(150);
        } finally {
            for (LoginThrottle.Turn t : held) t.close();
        }
    }
}
