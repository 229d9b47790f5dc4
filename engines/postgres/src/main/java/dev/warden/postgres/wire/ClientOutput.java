package dev.warden.postgres.wire;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The client's side of the socket, shared by the relay (upstream responses, in bulk) and the session (notices about
 * held statements, fatal errors). The relay keeps the lock while it is in the middle of a message, so nothing is ever
 * written between the parts of one message.
 */
final class ClientOutput {
    private final OutputStream out;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean relayMidMessage;

    ClientOutput(OutputStream out) {
        this.out = out;
    }

    /** Relay bytes; {@code midMessage} says the last byte written is not the end of a message. */
    void relay(byte[] b, int off, int len, boolean midMessage) throws IOException {
        if (!relayMidMessage) lock.lock();
        try {
            out.write(b, off, len);
            if (!midMessage) out.flush();
        } catch (IOException e) {
            relayMidMessage = false;
            lock.unlock();
            throw e;
        }
        relayMidMessage = midMessage;
        if (!midMessage) lock.unlock();
    }

    /** Whole messages from the session side. */
    void send(byte[] b) throws IOException {
        lock.lock();
        try {
            out.write(b);
            out.flush();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Best effort, for the last words before closing: not while another thread holds the stream, nor in the middle
     * of a relayed message (the loop thread that relays may be the one closing).
     */
    void sendQuietly(byte[] b) {
        if (!lock.tryLock()) return;
        try {
            if (relayMidMessage) return;
            out.write(b);
            out.flush();
        } catch (IOException ignored) {
            // the connection is going away anyway
        } finally {
            lock.unlock();
        }
    }
}
