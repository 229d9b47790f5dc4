package dev.warden.mcp;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** How the HTTP layer refuses a request before MCP sees it: a status and a small JSON body saying why. */
final class HttpRefusal {
    private HttpRefusal() {}

    static void send(HttpServletResponse response, int status, String error, String message) throws IOException {
        response.setStatus(status);
        response.setContentType("application/json");
        byte[] body = ResultShape.json(Map.of("error", error, "message", "warden: " + message)).getBytes(StandardCharsets.UTF_8);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    /** PARSE_ERROR and INVALID_REQUEST: the JSON-RPC 2.0 codes for a body that is not JSON, and not a message. */
    static final int PARSE_ERROR = -32700, INVALID_REQUEST = -32600;

    /** A JSON-RPC error answering a request whose id could not be read (so {@code "id": null}). */
    static void jsonRpcError(HttpServletResponse response, int status, int code, String message) throws IOException {
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("jsonrpc", "2.0");
        body.put("id", null);
        body.put("error", Map.of("code", code, "message", "warden: " + message));
        byte[] bytes = ResultShape.json(body).getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
        response.getOutputStream().flush();
    }
}
