package dev.warden.postgres.wire;

/** The authentication exchange, both directions ('R' from the server, 'p' from the client). */
public sealed interface AuthMessage {
    int OK = 0, CLEARTEXT = 3, MD5 = 5, SASL = 10, SASL_CONTINUE = 11, SASL_FINAL = 12;

    /** An 'R' message: the code and whatever follows it. */
    record Authentication(int code, byte[] data) implements AuthMessage {
        public static Authentication read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            int code = r.int32();
            return new Authentication(code, r.rest());
        }

        public void write(PgWriter w) {
            w.begin('R').int32(code).bytes(data).end();
        }

        public static Authentication ok() {
            return new Authentication(OK, new byte[0]);
        }

        public static Authentication sasl(String mechanism) {
            return new Authentication(SASL, new PgWriter().cstring(mechanism).byte1(0).toByteArray());
        }
    }

    /** The first SASL message from the client. */
    record SaslInitialResponse(String mechanism, byte[] data) implements AuthMessage {
        public static SaslInitialResponse read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            String mech = r.cstring();
            int n = r.int32();
            byte[] data = n < 0 ? new byte[0] : r.bytes(n);
            r.expectEnd();
            return new SaslInitialResponse(mech, data);
        }

        public void write(PgWriter w) {
            w.begin('p').cstring(mechanism).int32(data.length).bytes(data).end();
        }
    }

    /** A later SASL message from the client, or a password message (its body is the password, NUL-terminated). */
    record ClientData(byte[] data) implements AuthMessage {
        public static ClientData read(Frame f) {
            return new ClientData(f.body());
        }

        public void write(PgWriter w) {
            w.begin('p').bytes(data).end();
        }
    }
}
