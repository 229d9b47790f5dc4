package dev.warden.core.engine;

import java.io.IOException;

/**
 * A listener that speaks a client protocol and turns what it receives into operations for the {@code Gate}.
 * Holds no policy logic.
 */
public interface FrontEnd extends AutoCloseable {
    /** Binds and starts accepting; returns once listening. */
    void start() throws IOException;

    /** Stops accepting; lets running statements finish for up to the grace period. */
    @Override
    void close();
}
