package dev.warden.postgres.wire;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Builds one or more messages in one buffer, so a batch goes out in one write. */
public final class PgWriter {
    private byte[] b = new byte[256];
    private int len;
    private int start = -1;

    private void ensure(int n) {
        if (len + n > b.length) b = Arrays.copyOf(b, Math.max(b.length * 2, len + n));
    }

    /** Starts a message with a type byte and a length placeholder. */
    public PgWriter begin(char type) {
        byte1(type);
        start = len;
        return int32(0);
    }

    /** Starts a message without a type byte (startup packets). */
    public PgWriter beginUntyped() {
        start = len;
        return int32(0);
    }

    public PgWriter end() {
        int n = len - start;
        b[start] = (byte) (n >>> 24);
        b[start + 1] = (byte) (n >>> 16);
        b[start + 2] = (byte) (n >>> 8);
        b[start + 3] = (byte) n;
        start = -1;
        return this;
    }

    public PgWriter byte1(int v) {
        ensure(1);
        b[len++] = (byte) v;
        return this;
    }

    public PgWriter int16(int v) {
        ensure(2);
        b[len++] = (byte) (v >>> 8);
        b[len++] = (byte) v;
        return this;
    }

    public PgWriter int32(int v) {
        ensure(4);
        b[len++] = (byte) (v >>> 24);
        b[len++] = (byte) (v >>> 16);
        b[len++] = (byte) (v >>> 8);
        b[len++] = (byte) v;
        return this;
    }

    public PgWriter bytes(byte[] v) {
        return bytes(v, 0, v.length);
    }

    public PgWriter bytes(byte[] v, int off, int n) {
        ensure(n);
        System.arraycopy(v, off, b, len, n);
        len += n;
        return this;
    }

    public PgWriter cstring(String s) {
        bytes(s.getBytes(StandardCharsets.UTF_8));
        return byte1(0);
    }

    public int size() {
        return len;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(b, len);
    }

    public void writeTo(OutputStream out) throws IOException {
        out.write(b, 0, len);
    }

    public PgWriter reset() {
        len = 0;
        start = -1;
        return this;
    }
}
