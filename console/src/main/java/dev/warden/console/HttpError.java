package dev.warden.console;

/** A request the console refuses, with the status and the message the caller sees. */
final class HttpError extends RuntimeException {
    final int status;

    HttpError(int status, String message) {
        super(message);
        this.status = status;
    }
}
