package dev.warden.core.config;

import java.util.Optional;

/**
 * The approval console and HTTP API.
 *
 * @param listen where it listens (default {@code 127.0.0.1:8080})
 * @param tls    HTTPS when present
 * @param url    the address people use to reach it (links in messages and webhooks); empty means derived from listen
 */
public record ConsoleConfig(HostPort listen, Optional<ConsoleTlsConfig> tls, Optional<String> url) {
    public ConsoleConfig {
        tls = tls == null ? Optional.empty() : tls;
        url = url == null ? Optional.empty() : url;
    }

    public ConsoleConfig(HostPort listen) {
        this(listen, Optional.empty(), Optional.empty());
    }

    /** The configured URL without a trailing slash, or one derived from the listen address. */
    public String publicUrl() {
        if (url.isPresent()) return url.get().replaceAll("/+$", "");
        String host = listen.host();
        if (host.equals("0.0.0.0") || host.equals("::")) host = "localhost";
        if (host.contains(":")) host = "[" + host + "]";
        return (tls.isPresent() ? "https://" : "http://") + host + ":" + listen.port();
    }
}
