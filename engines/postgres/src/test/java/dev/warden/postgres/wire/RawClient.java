package dev.warden.postgres.wire;

import java.io.IOException;
import java.net.Socket;
import java.util.Map;

/** Logs in over a plain socket with SCRAM, so a test can then send bytes no driver would. */
final class RawClient {
    private RawClient() {}

    /** Sends the bytes and reads until {@code readyCount} ReadyForQuery messages arrived. */
    static java.util.List<Frame> exchange(Socket s, byte[] messages, int readyCount) throws IOException {
        s.getOutputStream().write(messages);
        s.getOutputStream().flush();
        FrameReader r = new FrameReader(s.getInputStream(), 1 << 24);
        java.util.List<Frame> out = new java.util.ArrayList<>();
        int ready = 0;
        while (ready < readyCount) {
            Frame f = r.read();
            out.add(f);
            if (f.type() == 'Z') ready++;
        }
        return out;
    }

    /** The types of the frames as a string, such as {@code 12DTC3Z}. */
    static String types(java.util.List<Frame> frames) {
        StringBuilder b = new StringBuilder();
        for (Frame f : frames) b.append((char) f.type());
        return b.toString();
    }

    static java.util.List<String> errors(java.util.List<Frame> frames) throws IOException {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (Frame f : frames) if (f.type() == 'E') out.add(Notice.read(f).code() + " " + Notice.read(f).message());
        return out;
    }

    static Socket login(int port, String database, String user, String secret) throws IOException {
        Object done = startup(port, Map.of("user", user, "database", database), secret);
        if (done instanceof Notice n) throw new IOException(n.message());
        return (Socket) done;
    }

    /** Starts a session with these startup parameters: the logged-in socket, or the error that refused it. */
    static Object startup(int port, Map<String, String> params, String secret) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(10000);
        s.getOutputStream().write(new StartupPacket.StartupMessage(params).write());
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
                case 'E' -> {
                    s.close();
                    return Notice.read(f);
                }
                default -> { }
            }
        }
    }

    /** A simple Query message. */
    static byte[] query(String sql) {
        PgWriter w = new PgWriter();
        new QueryMessage.Query(sql).write(w);
        return w.toByteArray();
    }

    /** The frames' types, and each error's and notice's code and message: for assertion messages. */
    static String show(java.util.List<Frame> got) throws IOException {
        StringBuilder b = new StringBuilder(types(got));
        for (Frame f : got) {
            if (f.type() == 'E' || f.type() == 'N') {
                Notice n = Notice.read(f);
                b.append("\n  ").append((char) f.type()).append(' ').append(n.code()).append(' ').append(n.message());
            }
        }
        return b.toString();
    }

    /** Reads until a ReadyForQuery, or until the server ends the session (a FATAL, then the end of the stream). */
    static java.util.List<Frame> untilReadyOrEnd(FrameReader r) throws IOException {
        java.util.List<Frame> out = new java.util.ArrayList<>();
        while (true) {
            Frame f;
            try {
                f = r.read();
            } catch (IOException e) {
                return out;
            }
            out.add(f);
            if (f.type() == 'Z') return out;
        }
    }
}
