package dev.warden.postgres.wire;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A non-blocking socket as an output stream for the {@link EventLoop}: a write goes to the socket at once, as far as
 * the socket takes it, and the rest waits here, in order, until the loop finds the socket writable again
 * ({@link #drain}). Any thread may write; {@code backlogged} runs when bytes start waiting, so that the loop watches
 * for writability and stops reading what would add to them. With TLS, each write is encrypted here, under the same
 * lock, so records leave in the order they were made.
 */
final class ChannelOutput extends OutputStream {
    private final SocketChannel channel;
    private final TlsChannel tls;
    private final Runnable backlogged;
    private final ReentrantLock lock = new ReentrantLock();
    private byte[] waiting = new byte[0];
    private int from;
    private int to;
    private volatile int backlog;

    /** @param tls the connection's TLS, or {@code null} for plaintext */
    ChannelOutput(SocketChannel channel, TlsChannel tls, Runnable backlogged) {
        this.channel = channel;
        this.tls = tls;
        this.backlogged = backlogged;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        boolean started;
        lock.lock();
        try {
            ByteBuffer buf = tls == null ? ByteBuffer.wrap(b, off, len) : tls.wrap(ByteBuffer.wrap(b, off, len));
            started = to == from;
            if (started) {
                while (buf.hasRemaining() && channel.write(buf) > 0) {
                    // the socket takes more
                }
                if (!buf.hasRemaining()) return;
            }
            keep(buf.array(), buf.arrayOffset() + buf.position(), buf.remaining());
        } finally {
            lock.unlock();
        }
        if (started) backlogged.run();
    }

    private void keep(byte[] b, int off, int len) {
        if (waiting.length - to < len) {
            waiting = Bytes.compact(waiting, from, to, len);
            to -= from;
            from = 0;
        }
        System.arraycopy(b, off, waiting, to, len);
        to += len;
        backlog = to - from;
    }

    /** Writes what waits, as far as the socket takes it; true when nothing waits any more. */
    boolean drain() throws IOException {
        lock.lock();
        try {
            if (to > from) {
                ByteBuffer buf = ByteBuffer.wrap(waiting, from, to - from);
                while (buf.hasRemaining() && channel.write(buf) > 0) {
                    // the socket takes more
                }
                from = buf.position();
                if (from == to) {
                    from = to = 0;
                    if (waiting.length > 1 << 20) waiting = new byte[0];
                }
                backlog = to - from;
            }
            return to == from;
        } finally {
            lock.unlock();
        }
    }

    /** Ends TLS with a close_notify (best effort, without waiting), then closes the channel. */
    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            if (tls != null && channel.isOpen()) channel.write(tls.closeNotify());
        } catch (IOException | RuntimeException ignored) {
            // closing anyway
        } finally {
            lock.unlock();
            channel.close();
        }
    }

    /** Bytes waiting for the socket. */
    int backlog() {
        return backlog;
    }
}
