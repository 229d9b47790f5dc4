package dev.warden.postgres.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * Drives a {@link ClientSession} with blocking I/O on two threads: the calling thread reads the client, a second one
 * relays the upstream. For sessions whose client or upstream socket is wrapped in TLS, which the {@link EventLoop}
 * does not speak.
 */
final class SessionThreads implements SessionDriver {
    private final ClientSession session;
    private final Socket socket;
    private final FrameReader reader;
    private final InputStream upstreamIn;

    SessionThreads(PgFrontEnd frontEnd, StartupHandshake.Established e, UpstreamConnection upstream, String id) {
        this.socket = e.socket();
        this.reader = new FrameReader(e.in(), e.database().listener().maxMessageBytes());
        this.upstreamIn = upstream.in();
        this.session = new ClientSession(frontEnd, e, socket, new ClientOutput(e.out()), upstream, upstream.out(), id);
    }

    @Override
    public ClientSession session() {
        return session;
    }

    @Override
    public void start(byte[] greeting) {
        Thread relay = Thread.ofPlatform().daemon().name("pg-relay-" + session.id()).start(this::relay);
        try {
            session.greet(greeting);
            long idleMillis = session.database().listener().idleTimeout().toMillis();
            socket.setSoTimeout(idleMillis > 0 ? (int) Math.min(idleMillis, Integer.MAX_VALUE) : 0);
            while (!session.closed()) {
                Frame f;
                try {
                    f = reader.read();
                } catch (SocketTimeoutException e) {
                    if (!session.idle()) continue;
                    session.idleTimeout();
                    return;
                }
                if (session.handle(f, false) == ClientSession.Step.END) return;
                // Whatever the client sent in one go goes upstream in one go.
                if (reader.buffered() == 0) session.flushUpstream();
            }
        } catch (ProtocolException e) {
            session.protocolViolation(e);
        } catch (EOFException e) {
            // the client left
        } catch (IOException e) {
            // the client's connection failed
        } finally {
            session.close();
            try {
                relay.join(2000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void relay() {
        BackendRelay relay = new BackendRelay(session);
        try {
            while (true) relay.readFrom(upstreamIn::read);
        } catch (IOException e) {
            session.upstreamLost(e);
        } catch (RuntimeException e) {
            session.relayFailed(e);
        } finally {
            session.close();
        }
    }
}
