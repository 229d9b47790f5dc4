package dev.warden.core.approval;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StatedReasonTest {
    @Test
    void readsOnlyALeadingReasonComment() {
        assertThat(StatedReason.parse("/* reason: fixing slow /orders endpoint */ CREATE INDEX i ON orders(id)"))
                .isEqualTo("fixing slow /orders endpoint");
        assertThat(StatedReason.parse("  \n/*Reason:x*/SELECT 1")).isEqualTo("x");
        assertThat(StatedReason.parse("SELECT 1 /* reason: late */")).isEmpty();
        assertThat(StatedReason.parse("/* note: x */ SELECT 1")).isEmpty();
        assertThat(StatedReason.parse("/* reason: unterminated SELECT 1")).isEmpty();
        assertThat(StatedReason.parse(null)).isEmpty();
    }

    @Test
    void cleansControlCharactersAndLength() {
        assertThat(StatedReason.parse("/* reason: a\u0000b\nc\u202Ed */")).isEqualTo("a b c d");
        assertThat(StatedReason.clean("x".repeat(2000))).hasSize(StatedReason.MAX_LENGTH + 1);
    }
}
