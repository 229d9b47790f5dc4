package dev.warden.core;

/**
 * What happened upstream after an operation ran.
 *
 * @param status     {@code ok} or {@code error}
 * @param rows       rows returned or affected, or -1 when unknown
 * @param error      the engine's error code and message, or {@code null}
 * @param durationMicros wall time from forwarding to completion
 */
public record Outcome(String status, long rows, String error, long durationMicros) {
    public static Outcome ok(long rows, long durationMicros) {
        return new Outcome("ok", rows, null, durationMicros);
    }

    public static Outcome error(String error, long durationMicros) {
        return new Outcome("error", -1, error, durationMicros);
    }
}
