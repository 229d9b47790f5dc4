package dev.warden.core.config;

import java.nio.file.Path;

/** A PEM certificate chain and its PEM (PKCS#8) private key. */
public record TlsConfig(Path cert, Path key) {}
