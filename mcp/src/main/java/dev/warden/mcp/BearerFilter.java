package dev.warden.mcp;

import dev.warden.core.Gate;
import dev.warden.core.auth.BearerThrottle;
import dev.warden.core.ledger.LedgerException;
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
 * sends its {@code --agent}), must name that same agent. A wrong token is recorded in the ledger, as a wrong secret on
 * the wire is, and slows down the next ones from its address ({@link BearerThrottle}).
 */
final class BearerFilter implements Filter {
    static final String AGENT_ATTRIBUTE = "dev.warden.mcp.agent";
    static final String AGENT_HEADER = "X-Warden-Agent";

    static final String SESSION_HEADER = "Mcp-Session-Id";

    private final AgentTokens tokens;
    private final Gate gate;
    private final BearerThrottle throttle = new BearerThrottle();
    /** Which agent opened each MCP session: another agent's token never reaches it (not even to end it). */
    private final java.util.Map<String, String> sessionOwners = new java.util.concurrent.ConcurrentHashMap<>();

    BearerFilter(AgentTokens tokens, Gate gate) {
        this.tokens = tokens;
        this.gate = gate;
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
        String claimed = request.getHeader(AGENT_HEADER);
        String address = request.getRemoteAddr();
        try {
            throttle.admit(address, AgentTokens.agentOf(r).orElse(null), n -> failed(claimed, address, n));
        } catch (BearerThrottle.Busy e) {
            HttpRefusal.send(response, 429, "too_many_failures", e.getMessage());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        }
        if (r instanceof AgentTokens.Wrong) {
            refuse(response, "the bearer token does not belong to any agent");
            return;
        }
        String agent = ((AgentTokens.Authenticated) r).agent().name();
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

    /** A wrong token, within its turn: a ledger entry under the name it claimed, if any, and a log line. */
    private void failed(String claimed, String address, int inARow) {
        String who = claimed == null ? "" : claimed;
        try {
            gate.authenticationFailed(who, "", "mcp", address, "wrong MCP bearer token" + (claimed == null ? ""
                    : " for agent \"" + claimed + "\"") + " from " + address + " (" + inARow + " wrong token"
                    + (inARow == 1 ? "" : "s") + " in a row from this address)");
        } catch (LedgerException | RuntimeException e) {
            System.err.println("warden: the ledger could not record a wrong MCP token: " + e.getMessage());
        }
        System.err.println("warden: wrong MCP bearer token from " + address);
    }

    private static void refuse(HttpServletResponse response, String reason) throws IOException {
        response.setHeader("WWW-Authenticate", "Bearer realm=\"warden\"");
        HttpRefusal.send(response, HttpServletResponse.SC_UNAUTHORIZED, "unauthorized", reason);
    }
}
