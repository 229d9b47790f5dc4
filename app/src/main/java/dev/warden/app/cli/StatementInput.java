package dev.warden.app.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** A STATEMENT argument: the text itself, or {@code -} for standard input. */
final class StatementInput {
    private StatementInput() {}

    static String read(String arg) {
        if (!"-".equals(arg)) return arg;
        try {
            return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new WardenCommand.UsageException("cannot read the statement from standard input: " + e.getMessage());
        }
    }
}
