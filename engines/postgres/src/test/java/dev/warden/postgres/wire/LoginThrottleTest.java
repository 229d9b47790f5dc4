package dev.warden.postgres.wire;

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
        long start = System.nanoTime();
        try (LoginThrottle.Turn turn = throttle.await(address, System.nanoTime() + TimeUnit.SECONDS.toNanos(10))) {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }
    }

    static void fail(LoginThrottle throttle, String address) throws Exception {
        try (LoginThrottle.Turn turn = throttle.await(address, System.nanoTime() + TimeUnit.SECONDS.toNanos(10))) {
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
}
