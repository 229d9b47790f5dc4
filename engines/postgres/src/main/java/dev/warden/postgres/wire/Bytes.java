package dev.warden.postgres.wire;

/** The one way the front end's byte buffers (the decoder's input, the relay's, an output's backlog) make room. */
final class Bytes {
    private Bytes() {}

    /**
     * The live bytes {@code [start, end)} of {@code buf} moved to the front of {@code buf}, or of an array at least
     * twice as large when they and {@code n} more bytes do not fit. The caller's indexes shift down by {@code start}.
     */
    static byte[] compact(byte[] buf, int start, int end, int n) {
        int live = end - start;
        byte[] to = live + n <= buf.length ? buf : new byte[Math.max(buf.length * 2, live + n)];
        System.arraycopy(buf, start, to, 0, live);
        return to;
    }
}
