package dev.warden.postgres.wire;

/**
 * One message as it came off the wire: its type byte (0 for startup packets) and its body without the length.
 * {@link #raw()} is the exact bytes, forwarded unchanged so that what was judged is what runs.
 */
public record Frame(int type, byte[] body) {
    public PgReader reader() {
        return new PgReader(body);
    }

    public byte[] raw() {
        byte[] r = new byte[body.length + 5];
        r[0] = (byte) type;
        int n = body.length + 4;
        r[1] = (byte) (n >>> 24);
        r[2] = (byte) (n >>> 16);
        r[3] = (byte) (n >>> 8);
        r[4] = (byte) n;
        System.arraycopy(body, 0, r, 5, body.length);
        return r;
    }

    public void writeTo(PgWriter w) {
        w.byte1(type).int32(body.length + 4).bytes(body);
    }
}
