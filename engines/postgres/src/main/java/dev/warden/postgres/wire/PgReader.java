package dev.warden.postgres.wire;

import java.nio.charset.StandardCharsets;

/** Reads the fields of one message body. Every read is bounds-checked; a short body is a {@link ProtocolException}. */
public final class PgReader {
    private final byte[] b;
    private int pos;
    private final int end;

    public PgReader(byte[] b) {
        this(b, 0, b.length);
    }

    public PgReader(byte[] b, int off, int end) {
        this.b = b;
        this.pos = off;
        this.end = end;
    }

    private void need(int n) throws ProtocolException {
        if (n < 0 || end - pos < n) throw new ProtocolException("message too short");
    }

    public int remaining() {
        return end - pos;
    }

    public int byte1() throws ProtocolException {
        need(1);
        return b[pos++] & 0xff;
    }

    public int int16() throws ProtocolException {
        need(2);
        int v = ((b[pos] & 0xff) << 8) | (b[pos + 1] & 0xff);
        pos += 2;
        return (short) v;
    }

    public int int32() throws ProtocolException {
        need(4);
        int v = getInt(b, pos);
        pos += 4;
        return v;
    }

    public static int getInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    public byte[] bytes(int n) throws ProtocolException {
        need(n);
        byte[] r = new byte[n];
        System.arraycopy(b, pos, r, 0, n);
        pos += n;
        return r;
    }

    public byte[] rest() {
        byte[] r = new byte[end - pos];
        System.arraycopy(b, pos, r, 0, r.length);
        pos = end;
        return r;
    }

    /** A NUL-terminated UTF-8 string. */
    public String cstring() throws ProtocolException {
        int i = pos;
        while (i < end && b[i] != 0) i++;
        if (i >= end) throw new ProtocolException("string not terminated");
        String s = new String(b, pos, i - pos, StandardCharsets.UTF_8);
        pos = i + 1;
        return s;
    }

    /** A count field that must be non-negative and plausible for the bytes left (each element takes at least {@code minEach}). */
    public int count(int minEach) throws ProtocolException {
        int n = int16() & 0xffff;
        if ((long) n * minEach > remaining()) throw new ProtocolException("count " + n + " exceeds the message");
        return n;
    }

    public void expectEnd() throws ProtocolException {
        if (pos != end) throw new ProtocolException("unexpected bytes at the end of the message");
    }
}
