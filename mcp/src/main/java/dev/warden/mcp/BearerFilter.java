package dev.warden.mcp;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * No anonymous access: every request to the MCP endpoint carries an agent's secret as a bearer token. The agent it
 * proves is put on the request for the tool handlers; an {@code X-Warden-Agent} header, when sent (the stdio bridge
 * sends its {@code --agent}), must name that same agent.
 */
final class BearerFilter implements Filter {
    static final String AGENT_ATTRIBUTE = "dev.warden.mcp.agent";
    static final String AGENT_HEADER = "X-Warden-Agent";

    static final String SESSION_HEADER = "Mcp-Session-Id";

    private final AgentTokens tokens;
    /** Which agent opened each MCP session: another agent's token never reaches it (not even to end it). */
    private final java.util.Map<String, String> sessionOwners = new java.util.concurrent.ConcurrentHashMap<>();

    BearerFilter(AgentTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        AgentTokens.Result r = tokens.authenticate(request.getHeader("Authorization"));
        if (r instanceof AgentTokens.Refused(String reason)) {
            refuse(response, reason);
            return;
        }
        String agent = ((AgentTokens.Authenticated) r).agent().name();
        String claimed = request.getHeader(AGENT_HEADER);
        if (claimed != null && !claimed.equals(agent)) {
            refuse(response, "the bearer token does not belong to agent '" + claimed + "'");
            return;
        }
        String session = request.getHeader(SESSION_HEADER);
        if (session != null) {
            String owner = sessionOwners.get(session);
            if (owner != null && !owner.equals(agent)) {
                // As if it did not exist: the other agent learns nothing about it.
                response.sendError(HttpServletResponse.SC_NOT_FOUND);
                return;
            }
        }
        request.setAttribute(AGENT_ATTRIBUTE, agent);
        chain.doFilter(req, res);
        String opened = response.getHeader(SESSION_HEADER);
        if (opened != null) sessionOwners.putIfAbsent(opened, agent);
        if (session != null && "DELETE".equals(request.getMethod()) && response.getStatus() < 300) sessionOwners.remove(session);
    }

    private static void refuse(HttpServletResponse response, String reason) throws IOException {
        response.setHeader("WWW-Authenticate", "Bearer realm=\"warden\"");
        HttpRefusal.send(response, HttpServletResponse.SC_UNAUTHORIZED, "unauthorized", reason);
    }
}
