package dev.warden.core.yaml;

import java.nio.file.Path;

/**
 * A configuration or policy error that names the file, the line and the key. Its message is one line:
 * {@code FILE:LINE: KEY: what is wrong}.
 */
public final class ConfigException extends Exception {
    private final Path file;
    private final int line;
    private final String key;

    public ConfigException(Path file, int line, String key, String problem) {
        // Line 0: about the file as a whole (it cannot be read), so no line is named.
        super(file + (line > 0 ? ":" + line : "") + ": " + (key == null || key.isEmpty() ? "" : key + ": ") + problem);
        this.file = file;
        this.line = line;
        this.key = key;
    }

    public Path file() { return file; }

    public int line() { return line; }

    public String key() { return key; }
}
