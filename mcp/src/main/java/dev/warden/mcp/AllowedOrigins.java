package dev.warden.mcp;

import dev.warden.core.config.McpConfig;
import dev.warden.core.config.WebOrigin;
import java.util.Set;

/**
 * The browser origins the MCP endpoint serves: pages on this machine (a loopback host, any port: local tools such as
 * an MCP inspector), pages on the host it listens on, and the configured {@code allowed_origins}. A page elsewhere is
 * refused even when its name resolves to this machine, which is what a DNS rebinding attack arranges.
 *
 * @param listed    {@code mcp.allowed_origins}, compared exactly (scheme, host and port)
 * @param boundHost the listen host in origin form, or {@code null} when it is a wildcard (0.0.0.0, ::), which names
 *                  no host a page could be on
 */
record AllowedOrigins(Set<WebOrigin> listed, String boundHost) {
    AllowedOrigins {
        listed = Set.copyOf(listed);
    }

    static AllowedOrigins of(McpConfig mc) {
        String host = mc.listen().host();
        return new AllowedOrigins(Set.copyOf(mc.allowedOrigins()), WebOrigin.wildcard(host) ? null : WebOrigin.host(host));
    }

    /** @param origin an {@code Origin} header's value; one that is not an http(s) origin ("null", say) is refused */
    boolean allows(String origin) {
        WebOrigin o;
        try {
            o = WebOrigin.parse(origin);
        } catch (IllegalArgumentException notAnOrigin) {
            return false;
        }
        return o.loopback() || o.host().equals(boundHost) || listed.contains(o);
    }
}
