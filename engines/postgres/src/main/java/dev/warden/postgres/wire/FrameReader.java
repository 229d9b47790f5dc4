package dev.warden.postgres.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** Blocking frame source over a stream: reads until the decoder has a whole frame. */
public final class FrameReader {
    private final InputStream in;
    private final FrameDecoder decoder;
    private final byte[] chunk = new byte[16384];

    public FrameReader(InputStream in, int maxMessage) {
        this.in = in;
        this.decoder = new FrameDecoder(maxMessage);
    }

    public Frame read() throws IOException {
        Frame f;
        while ((f = decoder.next()) == null) fill();
        return f;
    }

    public Frame readUntyped() throws IOException {
        Frame f;
        while ((f = decoder.nextUntyped()) == null) fill();
        return f;
    }

    /** Bytes already read from the stream but not returned; must be zero before a TLS handshake starts. */
    public int buffered() {
        return decoder.buffered();
    }

    private void fill() throws IOException {
        int n = in.read(chunk);
        if (n < 0) {
            if (decoder.buffered() > 0) throw new ProtocolException("connection closed inside a message");
            throw new EOFException("connection closed");
        }
        decoder.feed(chunk, 0, n);
    }
}
