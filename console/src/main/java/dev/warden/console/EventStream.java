package dev.warden.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Server-sent events to every open console page and API client. Publishing never blocks: each client has a bounded
 * queue, and a client that falls that far behind is dropped (its page reconnects and reloads the list).
 */
final class EventStream {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLOSE = "\u0000close";
    private final Set<BlockingQueue<String>> clients = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    void publish(String event, Map<String, Object> data) {
        String frame;
        try {
            frame = "event: " + event + "\ndata: " + JSON.writeValueAsString(data) + "\n\n";
        } catch (JsonProcessingException e) {
            return;
        }
        for (BlockingQueue<String> q : clients) {
            if (!q.offer(frame)) {
                clients.remove(q);
                q.clear();
                q.offer(CLOSE);
            }
        }
    }

    int clients() {
        return clients.size();
    }

    /** Serves one client until it goes away or the console stops. Runs on the exchange's own virtual thread. */
    void serve(HttpExchange ex) throws IOException {
        BlockingQueue<String> q = new ArrayBlockingQueue<>(1024);
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("X-Accel-Buffering", "no");
        ex.sendResponseHeaders(200, 0);
        clients.add(q);
        try (OutputStream out = ex.getResponseBody()) {
            out.write("retry: 2000\nevent: hello\ndata: {}\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (!closed) {
                String frame = q.poll(15, TimeUnit.SECONDS);
                if (CLOSE.equals(frame)) return;
                out.write((frame == null ? ": keep-alive\n\n" : frame).getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            clients.remove(q);
        }
    }

    void close() {
        closed = true;
        for (BlockingQueue<String> q : clients) q.offer(CLOSE);
    }
}
