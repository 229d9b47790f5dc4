package dev.warden.postgres.wire;

/** Moves bytes between the sockets and a {@link ClientSession}: an event loop, or two threads of its own. */
sealed interface SessionDriver permits LoopSession, SessionThreads {
    ClientSession session();

    /**
     * Greets the client and serves it until the session ends, then closes it: on the calling thread
     * ({@link SessionThreads}), or from the loop, returning at once ({@link LoopSession}).
     */
    void start(byte[] greeting);
}
