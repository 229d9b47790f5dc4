package dev.warden.mcp;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/**
 * The MCP transport's response, with its error bodies replaced. The SDK answers what it refuses (a body it cannot
 * read, a missing or unknown session, a wrong Content-Type) with its exception serialized whole: stack trace, class
 * names, library versions. No pre-check of the request can foresee every such case, so once the transport set an
 * error status, what it writes is dropped and a plain JSON-RPC error with the same status goes out instead, when it
 * flushes or at the latest when the request returns through the filter. Successful answers (JSON, SSE) pass as they are.
 */
final class PlainErrors extends HttpServletResponseWrapper {
    private int status = SC_OK;
    private ServletOutputStream dropped;
    private PrintWriter droppedWriter;
    private boolean answered;

    PlainErrors(HttpServletResponse response) {
        super(response);
    }

    @Override
    public void setStatus(int sc) {
        status = sc;
        super.setStatus(sc);
    }

    private boolean refusing() {
        return status >= 400;
    }

    @Override
    public ServletOutputStream getOutputStream() throws IOException {
        if (!refusing()) return super.getOutputStream();
        if (dropped == null) dropped = new Dropped();
        return dropped;
    }

    @Override
    public PrintWriter getWriter() throws IOException {
        if (!refusing()) return super.getWriter();
        if (droppedWriter == null) droppedWriter = new PrintWriter(new OutputStreamWriter(getOutputStream(), StandardCharsets.UTF_8));
        return droppedWriter;
    }

    @Override
    public void flushBuffer() throws IOException {
        if (refusing()) answer();
        else super.flushBuffer();
    }

    /** Called when the request comes back through the filter: an error body not yet flushed goes out now. */
    void finish() throws IOException {
        if (dropped != null) answer();
    }

    private void answer() throws IOException {
        if (answered || isCommitted()) return;
        answered = true;
        HttpRefusal.jsonRpcError((HttpServletResponse) getResponse(), status, HttpRefusal.INVALID_REQUEST,
                "the MCP transport refused this request (HTTP " + status + "): it is not a message this endpoint takes"
                + " here (check the message, the Content-Type and Accept headers, and the Mcp-Session-Id of an"
                + " initialized session)");
    }

    /** Where the transport's own error body goes: nowhere; a flush sends the plain answer instead. */
    private final class Dropped extends ServletOutputStream {
        @Override
        public void write(int b) {
            // dropped
        }

        @Override
        public void write(byte[] b, int off, int len) {
            // dropped
        }

        @Override
        public void flush() throws IOException {
            answer();
        }

        @Override
        public void close() throws IOException {
            answer();
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            throw new IllegalStateException("an error answer is written at once");
        }
    }
}
