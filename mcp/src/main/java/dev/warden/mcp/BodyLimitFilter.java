package dev.warden.mcp;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Refuses a body declared larger than {@code mcp.max_request_size} with 413 from its {@code Content-Length} alone,
 * before authentication and without reading a byte of it; the connection is then closed rather than drained. A body
 * sent without a length (chunked) is cut by {@link JsonRpcFilter} at the same limit, once it has read that much: only
 * for an authenticated request, since nothing reads a body before the token is checked.
 */
final class BodyLimitFilter implements Filter {
    private final long limit;

    BodyLimitFilter(long limit) {
        this.limit = limit;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        if (req.getContentLengthLong() > limit) {
            HttpServletResponse response = (HttpServletResponse) res;
            response.setHeader("Connection", "close");
            HttpRefusal.send(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                    "a request body may be at most " + limit + " bytes (mcp.max_request_size); this one declares "
                            + req.getContentLengthLong());
            return;
        }
        chain.doFilter(req, res);
    }
}
