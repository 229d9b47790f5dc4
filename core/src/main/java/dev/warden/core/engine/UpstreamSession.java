package dev.warden.core.engine;

import java.io.IOException;

/**
 * A connection to the real database for front ends that are not the engine's own wire protocol (the MCP server).
 * It runs exactly the text it is given, unsplit and unrewritten.
 */
public interface UpstreamSession extends AutoCloseable {
    /**
     * Runs the exact text. {@code readOnly} runs it inside a read-only transaction as a second fence.
     *
     * @throws UpstreamException when the database reports an error; the session stays usable
     * @throws IOException       when the connection is lost; the session is unusable
     */
    QueryResult run(String exactText, boolean readOnly, int maxRows, long maxBytes) throws IOException, UpstreamException;

    /** Returns the session to a clean state (discarding everything a call left behind). */
    void reset() throws IOException, UpstreamException;

    @Override
    void close();

    /** An error the database reported, in its own terms. */
    final class UpstreamException extends Exception {
        private final String code;

        public UpstreamException(String code, String message) {
            super(message);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }
}
