package dev.warden.core.config;

import java.nio.file.Path;

/**
 * TLS toward clients on a listener.
 *
 * @param mode {@code off}: plaintext only; {@code optional}: TLS offered, plaintext accepted; {@code required}: plaintext
 *             clients are refused
 * @param cert PEM certificate chain, or {@code null} for a self-signed certificate generated under the data directory
 * @param key  PEM private key (PKCS#8), or {@code null} with {@code cert}
 */
public record TlsConfig(Mode mode, Path cert, Path key) {
    public enum Mode { OFF, OPTIONAL, REQUIRED }

    public static final TlsConfig OFF = new TlsConfig(Mode.OFF, null, null);

    public boolean enabled() {
        return mode != Mode.OFF;
    }
}
