package dev.warden.mcp;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;

/**
 * The first check on every request (MCP, Streamable HTTP transport: servers must validate {@code Origin} against DNS
 * rebinding). A request that carries an {@code Origin} header, so comes from a browser page, is refused with 403 unless
 * that origin is allowed; before the token is looked at, so a foreign page learns nothing about tokens either. A
 * request without {@code Origin} comes from a program, not a page, and goes on.
 */
final class OriginFilter implements Filter {
    static final String HEADER = "Origin";

    private final AllowedOrigins allowed;

    OriginFilter(AllowedOrigins allowed) {
        this.allowed = allowed;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        // Every Origin header, should there be several: one allowed value does not vouch for another.
        for (String origin : Collections.list(request.getHeaders(HEADER))) {
            if (!allowed.allows(origin)) {
                String shown = origin.length() > 200 ? origin.substring(0, 200) + "…" : origin;
                HttpRefusal.send((HttpServletResponse) res, HttpServletResponse.SC_FORBIDDEN, "forbidden",
                        "requests from the web origin '" + shown + "' are not accepted (only loopback origins, the"
                                + " listen host and mcp.allowed_origins are)");
                return;
            }
        }
        chain.doFilter(req, res);
    }
}
