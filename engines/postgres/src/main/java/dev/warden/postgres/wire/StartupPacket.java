package dev.warden.postgres.wire;

import java.util.LinkedHashMap;
import java.util.Map;

/** What a client may send first: a startup message or one of the special request codes. */
public sealed interface StartupPacket {
    int PROTOCOL_3 = 196608;
    int CANCEL_CODE = 80877102;
    int SSL_CODE = 80877103;
    int GSSENC_CODE = 80877104;

    static StartupPacket read(Frame f) throws ProtocolException {
        PgReader r = f.reader();
        int code = r.int32();
        return switch (code) {
            case SSL_CODE -> { r.expectEnd(); yield new SslRequest(); }
            case GSSENC_CODE -> { r.expectEnd(); yield new GssEncRequest(); }
            case CANCEL_CODE -> {
                int pid = r.int32();
                int key = r.int32();
                r.expectEnd();
                yield new CancelRequest(pid, key);
            }
            default -> {
                // 3.x: served as 3.0; the handshake answers NegotiateProtocolVersion for a newer minor version.
                if (code >>> 16 != 3) throw new ProtocolException("unsupported protocol version " + (code >>> 16) + "." + (code & 0xffff));
                StartupMessage m = StartupMessage.read(r);
                yield new StartupMessage(m.parameters(), code & 0xffff);
            }
        };
    }

    record SslRequest() implements StartupPacket {}

    record GssEncRequest() implements StartupPacket {}

    record CancelRequest(int processId, int secretKey) implements StartupPacket {
        public byte[] write() {
            return new PgWriter().beginUntyped().int32(CANCEL_CODE).int32(processId).int32(secretKey).end().toByteArray();
        }
    }

    /** {@code minorVersion}: the 3.x minor version the client asked for. */
    record StartupMessage(Map<String, String> parameters, int minorVersion) implements StartupPacket {
        public StartupMessage(Map<String, String> parameters) {
            this(parameters, 0);
        }

        static StartupMessage read(PgReader r) throws ProtocolException {
            Map<String, String> p = new LinkedHashMap<>();
            while (true) {
                String name = r.cstring();
                if (name.isEmpty()) break;
                if (p.put(name, r.cstring()) != null) throw new ProtocolException("duplicate startup parameter " + name);
            }
            r.expectEnd();
            return new StartupMessage(p);
        }

        public byte[] write() {
            PgWriter w = new PgWriter().beginUntyped().int32(PROTOCOL_3);
            parameters.forEach((k, v) -> w.cstring(k).cstring(v));
            return w.byte1(0).end().toByteArray();
        }
    }
}
