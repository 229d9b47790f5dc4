package dev.warden.postgres.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * TLS with an {@link SSLEngine} over a socket channel, so that one connection moves from the blocking startup (streams
 * that honour the socket's timeout) to the non-blocking {@link EventLoop} without a second handshake. Reads unwrap
 * what the socket has; {@link #wrap} encrypts in the caller's order (writers serialize it: {@link ChannelOutput}).
 * A post-handshake message that needs an answer (a TLS 1.3 key update) is answered through {@code answer}.
 */
final class TlsChannel {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel channel;
    private final SSLEngine engine;
    private final InputStream socketIn;
    private final OutputStream socketOut;
    /** Encrypted bytes read and not yet unwrapped (write mode). */
    private ByteBuffer netIn;
    /** Plaintext unwrapped and not yet handed out (write mode). */
    private ByteBuffer appIn;
    /** Encrypted output of the last {@link #wrap} (read mode after it). */
    private ByteBuffer netOut;
    private volatile boolean nonBlocking;
    private volatile Answer answer = this::answerBlocking;
    private boolean closed;
    private volatile boolean established;

    /** Sends what the engine has to say (an empty wrap), in order with everything else written. */
    interface Answer {
        void send() throws IOException;
    }

    private TlsChannel(Socket socket, SSLEngine engine) throws IOException {
        this.channel = socket.getChannel();
        if (channel == null) throw new IOException("TLS needs a socket channel");
        this.engine = engine;
        this.socketIn = socket.getInputStream();
        this.socketOut = socket.getOutputStream();
        this.netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        this.netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    }

    /** The server side of a handshake on {@code socket} (blocking, bounded by its timeout). */
    static TlsChannel accept(SSLContext ctx, Socket socket) throws IOException {
        SSLEngine e = ctx.createSSLEngine();
        e.setUseClientMode(false);
        TlsChannel t = new TlsChannel(socket, e);
        t.handshake();
        return t;
    }

    /** The client side; {@code verifyHost}: the certificate must name {@code host}. */
    static TlsChannel connect(SSLContext ctx, Socket socket, String host, int port, boolean verifyHost) throws IOException {
        SSLEngine e = ctx.createSSLEngine(host, port);
        e.setUseClientMode(true);
        if (verifyHost) {
            SSLParameters p = e.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            e.setSSLParameters(p);
        }
        TlsChannel t = new TlsChannel(socket, e);
        t.handshake();
        return t;
    }

    private void handshake() throws IOException {
        engine.beginHandshake();
        while (true) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP -> answerBlocking();
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    SSLEngineResult r = unwrap();
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED) throw new EOFException("TLS closed during the handshake");
                    if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && fill() < 0) {
                        throw new EOFException("connection closed during the TLS handshake");
                    }
                }
                case NEED_TASK -> runTasks();
                case FINISHED, NOT_HANDSHAKING -> {
                    established = true;
                    return;
                }
            }
        }
    }

    /** From now on reads do not block (the channel is in non-blocking mode), and answers go through {@code a}. */
    void nonBlocking(Answer a) {
        this.answer = a;
        this.nonBlocking = true;
    }

    /**
     * Plaintext into {@code b}: the count, 0 when nothing is there yet (non-blocking), -1 at the end. Blocking
     * while the startup runs.
     */
    int read(byte[] b, int off, int len) throws IOException {
        while (true) {
            if (appIn.position() > 0) {
                appIn.flip();
                int n = Math.min(len, appIn.remaining());
                appIn.get(b, off, n);
                appIn.compact();
                return n;
            }
            if (closed) return -1;
            SSLEngineResult r = unwrap();
            boolean stuck = r.getStatus() == SSLEngineResult.Status.OK && r.bytesConsumed() == 0 && r.bytesProduced() == 0;
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                closed = true;
            } else if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || stuck) {
                int n = fill();
                if (n < 0) return -1;
                if (n == 0) return 0;
            }
        }
    }

    /** Whether plaintext or whole records wait here: a reader must come back without waiting for the socket. */
    boolean buffered() {
        return appIn.position() > 0 || netIn.position() > 0;
    }

    /** Encrypts all of {@code src}; the records are in the returned buffer (read mode), valid until the next call. */
    ByteBuffer wrap(ByteBuffer src) throws IOException {
        netOut.clear();
        do {
            SSLEngineResult r = engine.wrap(src, netOut);
            switch (r.getStatus()) {
                case BUFFER_OVERFLOW -> {
                    ByteBuffer bigger = ByteBuffer.allocate(netOut.capacity() + engine.getSession().getPacketBufferSize());
                    netOut.flip();
                    bigger.put(netOut);
                    netOut = bigger;
                }
                case CLOSED -> {
                    // After closeOutbound the close_notify itself comes back as CLOSED; data can no longer go.
                    if (src.hasRemaining()) throw new SSLException("the TLS connection is closed");
                }
                default -> { }
            }
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) runTasks();
            if (r.getStatus() == SSLEngineResult.Status.OK && r.bytesConsumed() == 0 && r.bytesProduced() == 0
                    && src.hasRemaining()) {
                // The engine waits for the peer (a TLS 1.2 renegotiation): data cannot go now, and waiting here
                // would stall the loop. PostgreSQL does not renegotiate either.
                throw new SSLException("TLS renegotiation is not supported");
            }
        } while (src.hasRemaining());
        netOut.flip();
        return netOut;
    }

    /** Sends a close_notify, best effort (closing anyway). */
    ByteBuffer closeNotify() throws IOException {
        engine.closeOutbound();
        return wrap(EMPTY);
    }

    private SSLEngineResult unwrap() throws IOException {
        netIn.flip();
        SSLEngineResult r;
        try {
            r = engine.unwrap(netIn, appIn);
        } finally {
            netIn.compact();
        }
        switch (r.getStatus()) {
            case BUFFER_OVERFLOW -> appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
            case BUFFER_UNDERFLOW -> {
                if (!netIn.hasRemaining()) netIn = grow(netIn, engine.getSession().getPacketBufferSize());
            }
            default -> { }
        }
        SSLEngineResult.HandshakeStatus hs = r.getHandshakeStatus();
        if (established && hs != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                && hs != SSLEngineResult.HandshakeStatus.FINISHED && "TLSv1.2".equals(engine.getSession().getProtocol())) {
            // A new handshake on an established TLS 1.2 connection is a renegotiation: PostgreSQL refuses it too.
            throw new SSLException("TLS renegotiation is not supported");
        }
        if (hs == SSLEngineResult.HandshakeStatus.NEED_TASK) runTasks();
        // After the handshake, a message that needs an answer (a key update): answered in order with other writes.
        if (established && engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) answer.send();
        return r;
    }

    /** Reads more encrypted bytes: blocking through the socket's stream, or what the channel has now. */
    private int fill() throws IOException {
        // Never a read of zero bytes: a blocking reader would take its 0 for "nothing yet" and ask again forever.
        if (!netIn.hasRemaining()) netIn = grow(netIn, engine.getSession().getPacketBufferSize());
        if (nonBlocking) return channel.read(netIn);
        int n = socketIn.read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
        if (n > 0) netIn.position(netIn.position() + n);
        return n;
    }

    private void answerBlocking() throws IOException {
        ByteBuffer out = wrap(EMPTY);
        socketOut.write(out.array(), out.arrayOffset() + out.position(), out.remaining());
        socketOut.flush();
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) task.run();
    }

    private static ByteBuffer grow(ByteBuffer b, int by) {
        ByteBuffer bigger = ByteBuffer.allocate(b.capacity() + by);
        b.flip();
        bigger.put(b);
        return bigger;
    }

    /** Blocking streams for the startup. */
    InputStream in() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) return 0;
                return TlsChannel.this.read(b, off, len);
            }

            @Override
            public int available() {
                return appIn.position();
            }
        };
    }

    OutputStream out() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer out = wrap(ByteBuffer.wrap(b, off, len));
                socketOut.write(out.array(), out.arrayOffset() + out.position(), out.remaining());
            }

            @Override
            public void flush() throws IOException {
                socketOut.flush();
            }
        };
    }
}
