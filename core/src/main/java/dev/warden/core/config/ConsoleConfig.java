package dev.warden.core.config;

/** The approval console and HTTP API. */
public record ConsoleConfig(HostPort listen) {
}
