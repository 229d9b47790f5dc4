package dev.warden.postgres.wire;

import java.util.Arrays;

/**
 * Splits a byte stream into frames. Fed with whatever the socket returned; {@link #next()} answers a frame or
 * {@code null} for "need more bytes". Lengths are checked before anything is allocated.
 */
public final class FrameDecoder {
    private final int maxMessage;
    private byte[] buf = new byte[8192];
    private int start;
    private int end;

    public FrameDecoder(int maxMessage) {
        this.maxMessage = maxMessage;
    }

    public void feed(byte[] src, int off, int n) {
        if (end + n > buf.length) {
            buf = Bytes.compact(buf, start, end, n);
            end -= start;
            start = 0;
        }
        System.arraycopy(src, off, buf, end, n);
        end += n;
    }

    /** Bytes received but not yet returned as a frame. */
    public int buffered() {
        return end - start;
    }

    /** A typed message, or {@code null} when more bytes are needed. */
    public Frame next() throws ProtocolException {
        if (end - start < 5) return null;
        int type = buf[start] & 0xff;
        int len = PgReader.getInt(buf, start + 1);
        if (len < 4) throw new ProtocolException("invalid message length " + len);
        if (len - 4 > maxMessage) throw new ProtocolException("message of " + len + " bytes exceeds the limit of " + maxMessage);
        if (end - start < 1 + len) return null;
        byte[] body = Arrays.copyOfRange(buf, start + 5, start + 1 + len);
        consume(1 + len);
        return new Frame(type, body);
    }

    /** A startup-phase packet (no type byte), or {@code null} when more bytes are needed. */
    public Frame nextUntyped() throws ProtocolException {
        if (end - start < 4) return null;
        int len = PgReader.getInt(buf, start);
        if (len < 8 || len > 10_000) throw new ProtocolException("invalid startup packet length " + len);
        if (end - start < len) return null;
        byte[] body = Arrays.copyOfRange(buf, start + 4, start + len);
        consume(len);
        return new Frame(0, body);
    }

    private void consume(int n) {
        start += n;
        if (start == end) {
            start = 0;
            end = 0;
        }
    }
}
