package dev.warden.app;

import dev.warden.app.cli.WardenCommand;

/** Entry point of the {@code warden} command. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(WardenCommand.run(args));
    }
}
