package dev.warden.postgres.wire;

import java.io.IOException;
import java.net.Socket;
import java.util.Map;

/** Logs in over a plain socket with SCRAM, so a test can then send bytes no driver would. */
final class RawClient {
    private RawClient() {}

    static Socket login(int port, String database, String user, String secret) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10000);
        s.getOutputStream().write(new StartupPacket.StartupMessage(Map.of("user", user, "database", database)).write());
        FrameReader r = new FrameReader(s.getInputStream(), 1 << 20);
        ScramClient scram = new ScramClient(secret);
        while (true) {
            Frame f = r.read();
            switch (f.type()) {
                case 'R' -> {
                    AuthMessage.Authentication a = AuthMessage.Authentication.read(f);
                    PgWriter w = new PgWriter();
                    if (a.code() == AuthMessage.SASL) new AuthMessage.SaslInitialResponse(Scram.MECHANISM, scram.first()).write(w);
                    else if (a.code() == AuthMessage.SASL_CONTINUE) new AuthMessage.ClientData(scram.last(a.data())).write(w);
                    else if (a.code() == AuthMessage.SASL_FINAL) scram.verify(a.data());
                    if (w.size() > 0) s.getOutputStream().write(w.toByteArray());
                }
                case 'Z' -> {
                    return s;
                }
                case 'E' -> throw new IOException(Notice.read(f).message());
                default -> { }
            }
        }
    }
}
