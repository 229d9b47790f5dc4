package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The row count of a CommandComplete tag, read from the message bytes as the relay sees them. */
class SessionMessageTest {
    private static long rows(String tag) {
        // Some bytes before and after, as inside the relay's buffer: the tag ends at its zero.
        byte[] t = tag.getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[t.length + 6];
        b[0] = 'x';
        b[1] = '9';
        System.arraycopy(t, 0, b, 2, t.length);
        b[2 + t.length] = 0;
        b[3 + t.length] = '7';
        return SessionMessage.CommandComplete.rows(b, 2, b.length);
    }

    @Test
    void theCountIsTheTagsLastNumber() {
        assertThat(rows("SELECT 5")).isEqualTo(5);
        assertThat(rows("INSERT 0 1")).isEqualTo(1);
        assertThat(rows("UPDATE 120000")).isEqualTo(120000);
        assertThat(rows("COPY 0")).isZero();
        assertThat(rows("SELECT 999999999999999999")).isEqualTo(999999999999999999L);
    }

    @Test
    void aTagWithoutACountHasNone() {
        assertThat(rows("BEGIN")).isEqualTo(-1);
        assertThat(rows("")).isEqualTo(-1);
        assertThat(rows("5")).isEqualTo(-1);
        assertThat(rows("SELECT ")).isEqualTo(-1);
        assertThat(rows("SELECT 12a")).isEqualTo(-1);
        // More digits than a long holds.
        assertThat(rows("SELECT 99999999999999999999")).isEqualTo(-1);
    }
}
