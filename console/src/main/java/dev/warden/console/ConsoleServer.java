package dev.warden.console;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.warden.core.approval.AgentSwitch;
import dev.warden.core.approval.ApprovalJson;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvers;
import dev.warden.core.auth.BearerThrottle;
import dev.warden.core.config.ConsoleConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The approval console: the web page, the JSON API under {@code /api/}, live events, {@code /healthz} and
 * {@code /metrics}. One virtual thread per exchange. Start it with {@link #start}; {@link #close} stops it.
 *
 * <p>Authentication: an approver token as {@code Authorization: Bearer ...} (API clients, the CLI; no CSRF check
 * needed because a browser never attaches it on its own), or a session cookie from {@code POST /api/login}
 * (the page; every state-changing request must carry the session's {@code X-CSRF-Token} and, when the browser sends
 * one, a same-origin {@code Origin}). Agent credentials are refused everywhere.
 */
public final class ConsoleServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ConsoleServer.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String COOKIE = "warden_session";
    private static final int MAX_BODY = 64 * 1024;
    private static final Pattern REQUEST = Pattern.compile("/api/requests/([a-z0-9]{1,64})(?:/(approve|deny))?");
    private static final Pattern AGENT = Pattern.compile("/api/agents/([^/]{1,200})/(disable|enable)");
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html", "/index.html", "index.html", "/app.js", "app.js", "/app.css", "app.css",
            "/favicon.svg", "favicon.svg", "/api/openapi.yaml", "openapi.yaml");

    private final HttpServer server;
    private final String listenUrl;
    private final ExecutorService executor;
    private final ConsoleServices services;
    private final LoginSessions sessions = new LoginSessions();
    private final BearerThrottle throttle = new BearerThrottle();
    private final EventStream events = new EventStream();
    private final LedgerFiles ledger;
    private final boolean tls;
    private final String publicUrl;
    private final List<AutoCloseable> subscriptions = new ArrayList<>();

    private ConsoleServer(HttpServer server, ExecutorService executor, ConsoleServices services, boolean tls, String publicUrl,
                          String listenUrl) {
        this.listenUrl = listenUrl;
        this.server = server;
        this.executor = executor;
        this.services = services;
        this.tls = tls;
        this.publicUrl = publicUrl;
        this.ledger = new LedgerFiles(services.dataDir(), services.approvals());
    }

    /** Starts listening at {@code config.listen()} (port 0 picks a free port), with TLS when configured. */
    public static ConsoleServer start(ConsoleConfig config, ConsoleServices services) throws IOException {
        InetSocketAddress addr = new InetSocketAddress(config.listen().host(), config.listen().port());
        HttpServer server;
        try {
            if (config.tls().isPresent()) {
                HttpsServer s = HttpsServer.create(addr, 64);
                s.setHttpsConfigurator(new HttpsConfigurator(PemTls.context(config.tls().get())));
                server = s;
            } else {
                server = HttpServer.create(addr, 64);
            }
        } catch (java.net.BindException e) {
            // The JDK's message ("Address already in use") names neither the address nor who wanted it.
            throw new java.net.BindException("the console cannot listen on " + config.listen() + ": " + e.getMessage());
        }
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        server.setExecutor(executor);
        int port = server.getAddress().getPort();
        String listenUrl = new ConsoleConfig(new dev.warden.core.config.HostPort(config.listen().host(), port), config.tls(),
                Optional.empty()).publicUrl();
        String url = config.url().isPresent() ? config.publicUrl() : listenUrl;
        ConsoleServer c = new ConsoleServer(server, executor, services, config.tls().isPresent(), url, listenUrl);
        server.createContext("/", c::handle);
        c.subscriptions.add(services.approvals().subscribe(e -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", e.type());
            m.put("actor", e.actor());
            m.put("request", ApprovalJson.view(e.request(), Instant.now()));
            c.events.publish("request", m);
        }));
        if (services.agents() != null) {
            c.subscriptions.add(services.agents().subscribe(ch -> c.events.publish("agent", agentJson(ch))));
        }
        server.start();
        LOG.log(System.Logger.Level.INFO, "console listening on " + c.where());
        return c;
    }

    /** Where people reach the console, such as {@code http://127.0.0.1:8080}. */
    public String url() {
        return publicUrl;
    }

    /** Where it listens, such as {@code http://127.0.0.1:8080}; {@link #url} may be another (console: url:). */
    public String listenUrl() {
        return listenUrl;
    }

    /**
     * For start-up messages: where it listens, and the configured {@code url} links use when that is another. The
     * url alone (a reverse proxy's https name) made "console on https://warden.example.com" of a console listening
     * on plain HTTP at 127.0.0.1:8080.
     */
    public String where() {
        return listenUrl.equals(publicUrl) ? listenUrl : listenUrl + " (links use " + publicUrl + ")";
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        for (AutoCloseable s : subscriptions) {
            try {
                s.close();
            } catch (Exception ignored) {
                // best effort
            }
        }
        events.close();
        server.stop(0);
        executor.shutdownNow();
    }

    // --- dispatch ---

    private void handle(HttpExchange ex) {
        try {
            secureHeaders(ex.getResponseHeaders());
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            if (path.equals("/healthz")) {
                healthz(ex);
            } else if (path.equals("/metrics")) {
                text(ex, 200, "text/plain; version=0.0.4; charset=utf-8", services.metrics().render());
            } else if (STATIC.containsKey(path)) {
                if (!method.equals("GET") && !method.equals("HEAD")) throw new HttpError(405, "method not allowed");
                staticFile(ex, STATIC.get(path));
            } else if (path.startsWith("/api/")) {
                api(ex, path, method);
            } else {
                throw new HttpError(404, "not found");
            }
        } catch (HttpError e) {
            error(ex, e.status, e.getMessage());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "console client went away: " + e);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "console request failed", e);
            error(ex, 500, "internal error");
        } finally {
            ex.close();
        }
    }

    private void api(HttpExchange ex, String path, String method) throws IOException {
        if (path.equals("/api/login") && method.equals("POST")) {
            login(ex);
            return;
        }
        Caller caller = authenticate(ex);
        if (!method.equals("GET") && !method.equals("HEAD")) checkCsrf(ex, caller);
        Matcher m;
        if (path.equals("/api/session") && method.equals("GET")) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("approver", caller.name());
            s.put("csrf", caller.session() == null ? null : caller.session().csrf());
            json(ex, 200, s);
        } else if (path.equals("/api/logout") && method.equals("POST")) {
            if (caller.session() != null) sessions.end(caller.session().id());
            ex.getResponseHeaders().add("Set-Cookie", cookie("", 0));
            json(ex, 200, Map.of("ok", true));
        } else if (path.equals("/api/requests") && method.equals("GET")) {
            String status = query(ex).get("status");
            if (status != null && !status.isBlank() && java.util.Arrays.stream(ApprovalRequest.Status.values())
                    .noneMatch(st -> st.name().equalsIgnoreCase(status))) {
                throw new HttpError(400, "unknown status '" + status + "' (expected pending, approved, denied, expired, used)");
            }
            Instant now = Instant.now();
            List<Map<String, Object>> out = new ArrayList<>();
            for (ApprovalRequest r : services.approvals().list()) {
                if (status == null || status.isBlank() || r.status().name().equalsIgnoreCase(status)) out.add(ApprovalJson.view(r, now));
            }
            json(ex, 200, out);
        } else if ((m = REQUEST.matcher(path)).matches() && m.group(2) == null && method.equals("GET")) {
            String id = m.group(1);
            ApprovalRequest r = services.approvals().get(id).orElseThrow(() -> new HttpError(404, "no approval request " + id));
            json(ex, 200, ApprovalJson.view(r, Instant.now()));
        } else if ((m = REQUEST.matcher(path)).matches() && m.group(2) != null && method.equals("POST")) {
            decide(ex, caller, m.group(1), m.group(2).equals("approve"));
        } else if (path.equals("/api/agents") && method.equals("GET")) {
            List<Map<String, Object>> out = new ArrayList<>();
            if (services.agents() != null) {
                for (String a : new java.util.TreeSet<>(services.agents().known())) {
                    out.add(Map.of("name", a, "disabled", !services.agents().allows(a)));
                }
            }
            json(ex, 200, out);
        } else if ((m = AGENT.matcher(path)).matches() && method.equals("POST")) {
            switchAgent(ex, caller, URLDecoder.decode(m.group(1), StandardCharsets.UTF_8), m.group(2).equals("disable"));
        } else if (path.equals("/api/ledger") && method.equals("GET")) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("verification", verification());
            out.put("entries", ledger.read(LedgerFiles.Filter.of(query(ex))));
            json(ex, 200, out);
        } else if (path.equals("/api/ledger/verify") && method.equals("GET")) {
            json(ex, 200, verification());
        } else if (path.equals("/api/events") && method.equals("GET")) {
            events.serve(ex);
        } else {
            throw new HttpError(404, "no such API: " + method + " " + path);
        }
    }

    // --- authentication ---

    private record Caller(String name, LoginSessions.Session session) {}

    private Caller authenticate(HttpExchange ex) {
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null) {
            if (!auth.regionMatches(true, 0, "Bearer ", 0, 7)) throw new HttpError(401, "use Authorization: Bearer <approver token>");
            Approvers.Caller c = proven(ex, auth.substring(7).strip());
            if (c.agent()) throw new HttpError(403, "'" + c.name() + "' is an agent identity; agents can never approve or use the console");
            if (!services.approvers().mayDecide(c.name())) throw new HttpError(403, "not an approver");
            return new Caller(c.name(), null);
        }
        String id = cookieValue(ex.getRequestHeaders());
        LoginSessions.Session s = sessions.find(id).orElseThrow(() -> new HttpError(401, "log in with an approver token"));
        return new Caller(s.approver(), s);
    }

    /** Cookie-authenticated changes must echo the session's CSRF token and come from this origin. */
    private void checkCsrf(HttpExchange ex, Caller caller) {
        if (caller.session() == null) return;
        String sent = ex.getRequestHeaders().getFirst("X-CSRF-Token");
        if (sent == null || !MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                caller.session().csrf().getBytes(StandardCharsets.UTF_8))) {
            throw new HttpError(403, "CSRF check failed: missing or wrong X-CSRF-Token");
        }
        checkOrigin(ex);
    }

    private void checkOrigin(HttpExchange ex) {
        String origin = ex.getRequestHeaders().getFirst("Origin");
        if (origin == null) return;
        String host = ex.getRequestHeaders().getFirst("Host");
        String self = (tls ? "https://" : "http://") + host;
        if (!origin.equalsIgnoreCase(self) && !origin.equalsIgnoreCase(publicUrl)) {
            throw new HttpError(403, "CSRF check failed: cross-origin request from " + origin);
        }
    }

    private void login(HttpExchange ex) throws IOException {
        checkOrigin(ex);
        Map<String, Object> body = body(ex);
        Object token = body.get("token");
        if (!(token instanceof String t)) throw new HttpError(400, "expected {\"token\": \"...\"}");
        Approvers.Caller c = proven(ex, t);
        if (c.agent()) throw new HttpError(403, "'" + c.name() + "' is an agent identity; agents can never approve or use the console");
        if (!services.approvers().mayDecide(c.name())) throw new HttpError(403, "not an approver");
        LoginSessions.Session s = sessions.create(c.name());
        ex.getResponseHeaders().add("Set-Cookie", cookie(s.id(), LoginSessions.LIFETIME.toSeconds()));
        json(ex, 200, Map.of("approver", s.approver(), "csrf", s.csrf()));
    }

    /**
     * Who a token proves, once the throttle gives its verdict a turn ({@link BearerThrottle}: after wrong tokens from
     * an address, its verdicts come one at a time and late). A wrong token is logged and answered 401.
     */
    private Approvers.Caller proven(HttpExchange ex, String token) {
        Optional<Approvers.Caller> c = services.approvers().authenticate(token);
        String address = ex.getRemoteAddress().getAddress().getHostAddress();
        try {
            throttle.admit(address, c.map(Approvers.Caller::name).orElse(null), n -> failed(address, n));
        } catch (BearerThrottle.Busy e) {
            throw new HttpError(429, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HttpError(503, "interrupted");
        }
        return c.orElseThrow(() -> new HttpError(401, "unknown token"));
    }

    /** A wrong token: logged, and recorded where the services say (the ledger). */
    private void failed(String address, int inARow) {
        String reason = "wrong console token from " + address + " (" + inARow + " in a row from this address)";
        LOG.log(System.Logger.Level.WARNING, reason);
        try {
            services.failures().record(address, reason);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "a wrong console token could not be recorded: " + e.getMessage());
        }
    }

    private String cookie(String value, long maxAge) {
        return COOKIE + "=" + value + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + maxAge + (tls ? "; Secure" : "");
    }

    private static String cookieValue(Headers h) {
        List<String> cookies = h.get("Cookie");
        if (cookies == null) return null;
        for (String line : cookies) {
            for (String part : line.split(";")) {
                String p = part.strip();
                if (p.startsWith(COOKIE + "=")) return p.substring(COOKIE.length() + 1);
            }
        }
        return null;
    }

    // --- actions ---

    private void decide(HttpExchange ex, Caller caller, String id, boolean approve) throws IOException {
        Map<String, Object> body = body(ex);
        String comment = body.get("comment") instanceof String s ? s : null;
        try {
            ApprovalRequest r = services.approvals().decide(id, caller.name(), approve, comment);
            json(ex, 200, ApprovalJson.view(r, Instant.now()));
        } catch (IllegalArgumentException e) {
            throw new HttpError(e.getMessage() != null && e.getMessage().startsWith("no approval request") ? 404 : 403, e.getMessage());
        } catch (IllegalStateException e) {
            throw new HttpError(409, e.getMessage());
        }
    }

    private void switchAgent(HttpExchange ex, Caller caller, String agent, boolean disable) throws IOException {
        if (services.agents() == null) throw new HttpError(404, "no kill switch is configured");
        Map<String, Object> body = body(ex);
        String comment = body.get("comment") instanceof String s ? s : null;
        try {
            AgentSwitch.Change c = disable ? services.agents().disable(agent, caller.name(), comment)
                    : services.agents().enable(agent, caller.name(), comment);
            int denied = disable ? services.approvals().denyAllOf(agent, caller.name(), "agent disabled"
                    + (comment == null ? "" : ": " + comment)) : 0;
            Map<String, Object> out = agentJson(c);
            out.put("requests_denied", denied);
            json(ex, 200, out);
        } catch (IllegalArgumentException e) {
            throw new HttpError(404, e.getMessage());
        } catch (IllegalStateException e) {
            throw new HttpError(503, e.getMessage());
        }
    }

    private static Map<String, Object> agentJson(AgentSwitch.Change c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.agent());
        m.put("disabled", c.disabled());
        m.put("by", c.by());
        m.put("comment", c.comment());
        m.put("time", c.time().toString());
        return m;
    }

    private volatile Map<String, Object> lastVerification;
    private volatile long lastVerified;

    /** Verifying recomputes the whole tree, so a result is reused for 30 seconds. */
    private Map<String, Object> verification() {
        Map<String, Object> cached = lastVerification;
        if (cached != null && System.nanoTime() - lastVerified < 30_000_000_000L) return cached;
        Map<String, Object> fresh = verifyNow();
        lastVerification = fresh;
        lastVerified = System.nanoTime();
        return fresh;
    }

    private Map<String, Object> verifyNow() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (services.verifier() == null) {
            m.put("status", "unavailable");
            m.put("detail", "this ledger offers no verifier; run 'warden audit verify'");
            return m;
        }
        try {
            ConsoleServices.Verification v = services.verifier().get();
            m.put("status", v.ok() ? "verified" : "failed");
            m.put("detail", v.detail());
        } catch (RuntimeException e) {
            m.put("status", "failed");
            m.put("detail", "verification could not run: " + e.getMessage());
        }
        m.put("checked", Instant.now().toString());
        return m;
    }

    private void healthz(HttpExchange ex) throws IOException {
        boolean ok = services.healthy() == null || services.healthy().getAsBoolean();
        json(ex, ok ? 200 : 503, Map.of("status", ok ? "ok" : "unhealthy", "ledger", ok ? "ok" : "failing"));
    }

    // --- plumbing ---

    private static void secureHeaders(Headers h) {
        h.set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
        h.set("X-Frame-Options", "DENY");
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Referrer-Policy", "no-referrer");
        h.set("Cross-Origin-Opener-Policy", "same-origin");
        h.set("Cross-Origin-Resource-Policy", "same-origin");
        h.set("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
    }

    private void staticFile(HttpExchange ex, String name) throws IOException {
        try (InputStream in = ConsoleServer.class.getResourceAsStream("static/" + name)) {
            if (in == null) throw new HttpError(404, "not found");
            String type = switch (name.substring(name.lastIndexOf('.') + 1)) {
                case "html" -> "text/html; charset=utf-8";
                case "js" -> "text/javascript; charset=utf-8";
                case "css" -> "text/css; charset=utf-8";
                case "svg" -> "image/svg+xml";
                case "yaml" -> "application/yaml; charset=utf-8";
                default -> "application/octet-stream";
            };
            byte[] bytes = in.readAllBytes();
            ex.getResponseHeaders().set("Content-Type", type);
            ex.getResponseHeaders().set("Cache-Control", "no-cache");
            if (tls) ex.getResponseHeaders().set("Strict-Transport-Security", "max-age=31536000");
            send(ex, 200, bytes);
        }
    }

    private static Map<String, Object> body(HttpExchange ex) throws IOException {
        String type = ex.getRequestHeaders().getFirst("Content-Type");
        byte[] b = ex.getRequestBody().readNBytes(MAX_BODY + 1);
        if (b.length > MAX_BODY) throw new HttpError(413, "request body too large");
        if (b.length == 0) return Map.of();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new HttpError(415, "send application/json");
        }
        try {
            Map<String, Object> m = JSON.readValue(b, new TypeReference<Map<String, Object>>() {});
            return m == null ? Map.of() : m;
        } catch (IOException e) {
            throw new HttpError(400, "the body is not a JSON object");
        }
    }

    private static Map<String, String> query(HttpExchange ex) {
        Map<String, String> q = new LinkedHashMap<>();
        String raw = ex.getRequestURI().getRawQuery();
        if (raw == null) return q;
        for (String part : raw.split("&")) {
            if (part.isEmpty()) continue;
            int eq = part.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? part : part.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(part.substring(eq + 1), StandardCharsets.UTF_8);
            q.put(k, v);
        }
        return q;
    }

    private static void json(HttpExchange ex, int status, Object value) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        send(ex, status, JSON.writeValueAsBytes(value));
    }

    private static void text(HttpExchange ex, int status, String type, String body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        send(ex, status, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static void error(HttpExchange ex, int status, String message) {
        try {
            json(ex, status, Map.of("error", message == null ? "error" : message));
        } catch (IOException | RuntimeException ignored) {
            // headers already sent or the client is gone
        }
    }
}
