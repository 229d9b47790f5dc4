package dev.warden.mcp;

/**
 * Who is calling a tool: the agent its bearer token proved, the MCP session, and the client's address.
 */
record Caller(String agent, String sessionId, String clientAddress) {
}
