package dev.warden.mcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Reads a POST body (within {@code mcp.max_request_size}) and answers one that is not a JSON-RPC message itself, with
 * a JSON-RPC error, before the MCP transport sees it: the SDK's own answer to malformed JSON is its exception
 * serialized whole (stack trace, class names, library versions). A message that is well formed goes on unchanged; the
 * transport's error answers to what this check cannot foresee are replaced on the way out ({@link PlainErrors}).
 */
final class JsonRpcFilter implements Filter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long limit;

    JsonRpcFilter(long limit) {
        this.limit = limit;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        if (!"POST".equals(request.getMethod())) {
            transport(chain, request, (HttpServletResponse) res);
            return;
        }
        byte[] body = request.getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        HttpServletResponse response = (HttpServletResponse) res;
        if (body.length > limit) {
            response.setHeader("Connection", "close");
            HttpRefusal.send(response, HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                    "a request body may be at most " + limit + " bytes (mcp.max_request_size)");
            return;
        }
        Problem problem = problem(body);
        if (problem != null) {
            HttpRefusal.jsonRpcError(response, HttpServletResponse.SC_BAD_REQUEST, problem.code(), problem.why());
            return;
        }
        transport(chain, new CachedBody(request, body), response);
    }

    /** On to the MCP transport, whose own error answers are replaced by plain ones (see {@link PlainErrors}). */
    private static void transport(FilterChain chain, HttpServletRequest request, HttpServletResponse response)
            throws IOException, ServletException {
        PlainErrors plain = new PlainErrors(response);
        chain.doFilter(request, plain);
        plain.finish();
    }

    /** Why a body is not one JSON-RPC 2.0 message, with the error code that says so. */
    record Problem(int code, String why) {
        static Problem invalid(String why) {
            return new Problem(HttpRefusal.INVALID_REQUEST, why);
        }
    }

    /** Why the body is not one JSON-RPC 2.0 message, or null when it is one. */
    static Problem problem(byte[] body) {
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException e) {
            return new Problem(HttpRefusal.PARSE_ERROR, "not JSON");
        }
        if (n == null || !n.isObject()) return Problem.invalid("a JSON-RPC message is one JSON object");
        if (!"2.0".equals(n.path("jsonrpc").asText(null))) return Problem.invalid("a JSON-RPC message has \"jsonrpc\": \"2.0\"");
        JsonNode method = n.get("method");
        if (method != null && !method.isTextual()) return Problem.invalid("\"method\" is a string");
        JsonNode id = n.get("id");
        if (id != null && !(id.isTextual() || id.isIntegralNumber() || id.isNull())) return Problem.invalid("\"id\" is a string or an integer");
        if (method == null && id == null) return Problem.invalid("a JSON-RPC message has a \"method\" or an \"id\"");
        return null;
    }

    /** The request with its body already read, for the transport to read again. */
    private static final class CachedBody extends HttpServletRequestWrapper {
        private final byte[] body;

        CachedBody(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }

                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new IllegalStateException("the body was read already");
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            return new BufferedReader(new InputStreamReader(getInputStream(), StandardCharsets.UTF_8));
        }

        @Override
        public int getContentLength() {
            return body.length;
        }

        @Override
        public long getContentLengthLong() {
            return body.length;
        }
    }
}
