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
}
