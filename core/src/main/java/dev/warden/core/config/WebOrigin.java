package dev.warden.core.config;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * A web origin (RFC 6454): the scheme, host and port of the page a browser request comes from, as the {@code Origin}
 * header states it. Held in one canonical form (lower case, the scheme's default port explicit, an IP literal as the
 * JDK prints it), so that {@code https://A.example} and {@code https://a.example:443} are the same origin. A host name
 * is never looked up: a name's address is what DNS rebinding controls.
 */
public record WebOrigin(String scheme, String host, int port) {
    public WebOrigin {
        if (!"http".equals(scheme) && !"https".equals(scheme)) throw new IllegalArgumentException("the scheme must be http or https");
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port out of range: " + port);
    }

    /** Parses {@code scheme://host[:port]}, as browsers send it; throws, with the reason, for anything else. */
    public static WebOrigin parse(String s) {
        if (s == null || s.isBlank()) throw new IllegalArgumentException("an origin is scheme://host[:port]");
        URI u;
        try {
            u = new URI(s.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not an origin: " + e.getMessage());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("an origin is http://host[:port] or https://host[:port]");
        }
        if (u.getHost() == null || u.getRawUserInfo() != null) throw new IllegalArgumentException("an origin names a host, and only a host");
        if (!u.getRawPath().isEmpty() || u.getRawQuery() != null || u.getRawFragment() != null) {
            throw new IllegalArgumentException("an origin is scheme://host[:port], without a path (not even '/')");
        }
        int port = u.getPort() >= 0 ? u.getPort() : scheme.equals("https") ? 443 : 80;
        return new WebOrigin(scheme, host(u.getHost()), port);
    }

    /**
     * A host in the form origins are compared in: lower case; an IP literal (IPv6 with or without brackets) as the JDK
     * prints it, IPv6 in brackets. Never a DNS lookup.
     */
    public static String host(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        InetAddress literal = literal(h);
        if (literal == null) return h;
        String a = literal.getHostAddress();
        return a.contains(":") ? "[" + a + "]" : a;
    }

    /** Whether the host is this machine by definition: {@code localhost}, 127.0.0.0/8 or {@code [::1]}. */
    public boolean loopback() {
        if (host.equals("localhost")) return true;
        InetAddress literal = literal(host);
        return literal != null && literal.isLoopbackAddress();
    }

    /** Whether the host stands for every address of the machine ({@code 0.0.0.0}, {@code ::}), as a listen host can. */
    public static boolean wildcard(String host) {
        InetAddress literal = literal(host.strip().toLowerCase(Locale.ROOT));
        return host.isBlank() || literal != null && literal.isAnyLocalAddress();
    }

    /** The address of an IP literal; {@code null} for a name (which is never resolved). */
    private static InetAddress literal(String h) {
        String bare = h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
        try {
            return InetAddress.ofLiteral(bare);
        } catch (IllegalArgumentException name) {
            return null;
        }
    }

    @Override
    public String toString() {
        return scheme + "://" + host + (port == (scheme.equals("https") ? 443 : 80) ? "" : ":" + port);
    }
}
