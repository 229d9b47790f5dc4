package dev.warden.postgres.wire;

import java.io.IOException;

/** Malformed or oversized input from a peer. Ends that session, never the proxy. */
public final class ProtocolException extends IOException {
    public ProtocolException(String message) {
        super(message);
    }
}
