package dev.warden.core.config;

import java.nio.file.Path;

/**
 * TLS from Warden to the real database.
 *
 * @param mode {@code disable}: plaintext; {@code require}: encrypted, certificate not checked; {@code verify-full}:
 *             encrypted, certificate checked against {@code ca} (or the JDK's trust store) and the host name
 * @param ca   PEM file of the certificate authorities to trust, or {@code null}
 */
public record UpstreamTlsConfig(Mode mode, Path ca) {
    public enum Mode { DISABLE, REQUIRE, VERIFY_FULL }

    public static final UpstreamTlsConfig DISABLE = new UpstreamTlsConfig(Mode.DISABLE, null);
}
