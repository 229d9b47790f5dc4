package dev.warden.postgres.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * Drives a {@link ClientSession} from an {@link EventLoop}: the client's and the upstream's sockets, non-blocking
 * (plaintext or TLS), on one loop thread. A frame whose judgement must wait (see {@link ClientSession}) goes to a
 * virtual thread of its own, and a frame whose decision must be fsynced first waits for the ledger's call back; the
 * client is not read meanwhile, so frames are still handled one after the other. What the frames of one pass forward
 * goes upstream at the end of the pass, after one ledger write of their decisions.
 * Backpressure: while the bytes waiting for one side pass {@value #BACKLOG_LIMIT}, the other side is not read.
 */
final class LoopSession implements EventLoop.Ticking, EventLoop.Flushing {
    private static final int BACKLOG_LIMIT = 256 * 1024;
    private static final byte[] NOTHING = new byte[0];

    private final EventLoop loop;
    private final SocketChannel client;
    private final SocketChannel upstream;
    private final TlsChannel clientTls;
    private final TlsChannel upstreamTls;
    private final ChannelOutput toClient;
    private final ChannelOutput toUpstream;
    private final ClientSession session;
    private final BackendRelay relay;
    /** The end-of-pass step, made once: it runs for every session in every pass. */
    private final ClientStep flushUpstream;
    private final BackendRelay.Source fromUpstream;
    private final FrameDecoder decoder;
    private final ByteBuffer chunk = ByteBuffer.allocate(16384);
    private final long idleNanos;
    private SelectionKey clientKey;
    private SelectionKey upstreamKey;
    /** When either side last sent something: idle means neither the client nor the database said anything. */
    private long lastActive = System.nanoTime();
    /** A frame is being judged on another thread: the client is not read until it is done. */
    private volatile boolean judging;
    /** Frames handled in this pass wait for the end of the pass to go upstream (loop thread only). */
    private boolean flushAfterPass;
    /** A frame to handle again before the next one: it had to wait for the decisions before it to be durable. */
    private Frame retry;
    /**
     * Frames read while a judgement was away, to handle after it, in order (loop thread). The client is read meanwhile
     * (up to {@value #BACKLOG_LIMIT} bytes) only to notice a Terminate or the connection's end while a statement is
     * held: a held statement must not run later, on an approval, for a client that is gone.
     */
    private final java.util.ArrayDeque<Frame> readAhead = new java.util.ArrayDeque<>();
    private int readAheadBytes;
    /** The client closed its connection while a judgement was away; it ends once the frames before are handled. */
    private boolean clientEnded;
    /** After the client's Terminate: the server's last answers are read and dropped until it closes (loop thread). */
    private long drainingSince = -1;
    private static final long DRAIN_NANOS = 5_000_000_000L;

    LoopSession(PgFrontEnd frontEnd, StartupHandshake.Established e, UpstreamConnection up, String id) throws IOException {
        this.loop = EventLoop.next();
        this.client = e.socket().getChannel();
        this.upstream = up.nonBlockingChannel();
        this.clientTls = e.tls();
        this.upstreamTls = up.tls();
        client.configureBlocking(false);
        Runnable watch = () -> loop.execute(this::interest);
        this.toClient = new ChannelOutput(client, clientTls, watch);
        this.toUpstream = new ChannelOutput(upstream, upstreamTls, watch);
        // A TLS message that needs an answer (a key update) is answered in order with everything else written.
        if (clientTls != null) clientTls.nonBlocking(() -> toClient.write(NOTHING, 0, 0));
        if (upstreamTls != null) upstreamTls.nonBlocking(() -> toUpstream.write(NOTHING, 0, 0));
        this.session = new ClientSession(frontEnd, e, toClient, new ClientOutput(toClient), up, toUpstream, id);
        this.flushUpstream = session::flushUpstream;
        this.relay = new BackendRelay(session);
        this.fromUpstream = upstreamTls != null ? upstreamTls::read : (b, off, len) -> upstream.read(ByteBuffer.wrap(b, off, len));
        this.decoder = new FrameDecoder(e.database().listener().maxMessageBytes());
        this.idleNanos = e.database().listener().idleTimeout().toNanos();
    }

    ClientSession session() {
        return session;
    }

    /** Greets the client and hands the session to its loop; returns at once. */
    void start(byte[] greeting) {
        try {
            session.greet(greeting);
        } catch (IOException e) {
            session.close();
            return;
        }
        loop.execute(this::register);
    }

    private void register() {
        try {
            clientKey = loop.register(client, SelectionKey.OP_READ, k -> clientReady(k.readyOps()));
            upstreamKey = loop.register(upstream, SelectionKey.OP_READ, k -> upstreamReady(k.readyOps()));
        } catch (IOException e) {
            session.close();
            return;
        }
        loop.ticking(this, true);
        interest();
    }

    private void clientReady(int ops) {
        clientStep(() -> {
            if ((ops & SelectionKey.OP_WRITE) != 0) toClient.drain();
            if ((ops & SelectionKey.OP_READ) != 0 && !clientEnded) readClient();
        });
    }

    /** Reads what the client sent and handles it; under TLS, until nothing is left in the TLS buffers either. */
    private void readClient() throws IOException {
        do {
            int n = clientTls == null ? client.read(chunk.clear()) : clientTls.read(chunk.array(), 0, chunk.capacity());
            if (n < 0) {
                if (judging) {
                    clientEnded = true;
                    session.clientLeft();
                    return;
                }
                if (decoder.buffered() > 0) throw new ProtocolException("connection closed inside a message");
                // As PostgreSQL does when a client goes away: what it sent before still runs.
                terminate();
                return;
            }
            if (n == 0) return;
            lastActive = System.nanoTime();
            decoder.feed(chunk.array(), 0, n);
            if (judging) readAhead();
            else handleFrames();
        } while (clientTls != null && clientTls.buffered() && !session.closed() && (!judging || readAheadRoom()));
    }

    /** While a judgement is away: the whole frames read so far wait their turn; a Terminate among them ends a hold. */
    private void readAhead() throws ProtocolException {
        Frame f;
        while ((f = decoder.next()) != null) {
            readAhead.addLast(f);
            readAheadBytes += f.body().length + 5;
            if (f.type() == 'X') session.clientLeft();
        }
    }

    private boolean readAheadRoom() {
        return readAheadBytes + decoder.buffered() <= BACKLOG_LIMIT;
    }

    private interface ClientStep {
        void run() throws IOException;
    }

    /** Runs one step of the client's side on the loop: a failure ends this session, never the loop. */
    private void clientStep(ClientStep step) {
        try {
            step.run();
        } catch (ProtocolException e) {
            session.protocolViolation(e);
        } catch (IOException | RuntimeException e) {
            // the client's connection failed, or handling it did
            end();
        }
        interest();
    }

    private void upstreamReady(int ops) {
        if (drainingSince >= 0) {
            drain(ops);
            return;
        }
        try {
            if ((ops & SelectionKey.OP_WRITE) != 0) toUpstream.drain();
            if ((ops & SelectionKey.OP_READ) != 0) {
                int n;
                do {
                    n = relay.readFrom(fromUpstream);
                    if (n > 0) lastActive = System.nanoTime();
                } while (n > 0 && upstreamTls != null && upstreamTls.buffered());
            }
        } catch (IOException e) {
            session.upstreamLost(e);
        } catch (RuntimeException e) {
            session.relayFailed(e);
        }
        interest();
    }

    /**
     * Handles every whole frame there is; what they forward goes upstream in one go at the end of the pass, once the
     * decisions among them that must be fsynced are: one fsync for a whole pipeline of writes.
     */
    private void handleFrames() throws IOException {
        if (judging) return;
        Frame f;
        while (!judging && (f = nextFrame()) != null) {
            ClientSession.Step step = session.handle(f, true);
            if (step != ClientSession.Step.NEXT && session.syncPending()) {
                // What came before it runs first; the frame, unchanged, is handled again after the fsync.
                retry = f;
                awaitSync();
                return;
            }
            switch (step) {
                case NEXT -> { }
                case END -> {
                    terminate();
                    return;
                }
                case NEEDS_THREAD -> {
                    judging = true;
                    // What came before it goes first if it must; from here until it is back, only that thread adds to
                    // what waits to go upstream.
                    session.beforeWait();
                    Frame waiting = f;
                    Thread.ofVirtual().name("pg-judge-" + session.id()).start(() -> judgeAside(waiting));
                    // A Terminate the client sent along with the frame ends its hold too.
                    readAhead();
                    return;
                }
            }
        }
        if (session.syncPending()) {
            awaitSync();
        } else if (clientEnded) {
            if (decoder.buffered() > 0) throw new ProtocolException("connection closed inside a message");
            terminate();
        } else if (!flushAfterPass) {
            flushAfterPass = true;
            loop.flushAfterPass(this);
        }
    }

    private Frame nextFrame() throws ProtocolException {
        Frame f = retry;
        if (f != null) {
            retry = null;
            return f;
        }
        f = readAhead.pollFirst();
        if (f == null) return decoder.next();
        readAheadBytes -= f.body().length + 5;
        return f;
    }

    /** Writes must not run before their decisions are durable: the client waits for the ledger's fsync to call back. */
    private void awaitSync() {
        judging = true;
        session.afterSync(error -> loop.execute(() -> clientStep(() -> {
            judging = false;
            if (error != null) {
                session.ledgerFailed(error);
                return;
            }
            session.synced();
            goOn();
        })));
    }

    @Override
    public void flush() {
        flushAfterPass = false;
        // A judgement on another thread owns what waits to go upstream until it is back (and flushes it then).
        if (!judging && !session.closed()) clientStep(flushUpstream);
    }

    /** On a virtual thread: handles the frame, waiting where it must, then lets the loop go on with the next ones. */
    private void judgeAside(Frame f) {
        ClientSession.Step step;
        try {
            step = session.handle(f, false);
        } catch (IOException | RuntimeException e) {
            loop.execute(() -> clientStep(() -> {
                throw e;
            }));
            return;
        }
        loop.execute(() -> clientStep(() -> {
            judging = false;
            if (step == ClientSession.Step.END) {
                terminate();
                return;
            }
            goOn();
        }));
    }

    /** After a wait: the frames already read, then what the TLS buffers hold (it raises no readiness). */
    private void goOn() throws IOException {
        // Ended meanwhile (the database went away, shutdown, the kill switch): nothing more to handle.
        if (session.closed()) return;
        handleFrames();
        if (clientTls != null && clientTls.buffered() && !judging) readClient();
    }

    /** The client sent Terminate, or closed its connection: what came before still goes upstream. */
    private void terminate() throws IOException {
        session.flushAtEnd();
        session.terminated();
        drainingSince = System.nanoTime();
        interest();
    }

    /** Reads what the server still sends after the Terminate, and drops it; closes once the server has closed. */
    private void drain(int ops) {
        try {
            if ((ops & SelectionKey.OP_WRITE) != 0) toUpstream.drain();
            int n;
            do {
                n = fromUpstream.read(chunk.array(), 0, chunk.capacity());
            } while (n > 0);
            if (n < 0) end();
            else interest();
        } catch (IOException | RuntimeException e) {
            end();
        }
    }

    /** What the loop watches for: reads unless the other side is backed up (or a judgement is away), writes when bytes wait. */
    private void interest() {
        if (upstreamKey == null || !upstreamKey.isValid()) return;
        int toClientWaiting = toClient.backlog();
        int toUpstreamWaiting = toUpstream.backlog();
        try {
            if (drainingSince >= 0) {
                // Only the server's last answers are left to read (and the Terminate to write).
                upstreamKey.interestOps(SelectionKey.OP_READ | (toUpstreamWaiting > 0 ? SelectionKey.OP_WRITE : 0));
                return;
            }
            if (!clientKey.isValid()) return;
            boolean read = !clientEnded && (judging ? readAheadRoom() : toUpstreamWaiting <= BACKLOG_LIMIT);
            clientKey.interestOps((read ? SelectionKey.OP_READ : 0)
                    | (toClientWaiting > 0 ? SelectionKey.OP_WRITE : 0));
            upstreamKey.interestOps((toClientWaiting > BACKLOG_LIMIT ? 0 : SelectionKey.OP_READ)
                    | (toUpstreamWaiting > 0 ? SelectionKey.OP_WRITE : 0));
        } catch (java.nio.channels.CancelledKeyException e) {
            // another thread closed the session meanwhile (a fatal error, the kill switch, shutdown)
        }
    }

    @Override
    public void tick(long now) {
        if (drainingSince >= 0) {
            if (now - drainingSince > DRAIN_NANOS) end();
            return;
        }
        if (session.closed()) {
            loop.ticking(this, false);
            return;
        }
        if (idleNanos > 0 && !judging && now - lastActive > idleNanos && session.idle()) session.idleTimeout();
    }

    private void end() {
        drainingSince = -1;
        session.close();
        loop.ticking(this, false);
    }
}
