package dev.warden.core.config;

import java.nio.file.Path;

/** The console's HTTPS: a PEM certificate chain and its PEM (PKCS#8) private key. */
public record ConsoleTlsConfig(Path cert, Path key) {}
