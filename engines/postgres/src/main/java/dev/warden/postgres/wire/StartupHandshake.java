package dev.warden.postgres.wire;

import dev.warden.core.auth.LoginThrottle;
import dev.warden.core.config.AgentAuth;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.TlsConfig;
import dev.warden.postgres.wire.AuthMessage.Authentication;
import dev.warden.postgres.wire.StartupPacket.CancelRequest;
import dev.warden.postgres.wire.StartupPacket.GssEncRequest;
import dev.warden.postgres.wire.StartupPacket.SslRequest;
import dev.warden.postgres.wire.StartupPacket.StartupMessage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * From connect to authenticated: SSLRequest (TLS when configured), GSSENCRequest (refused), CancelRequest (passed to
 * the session it names), then the startup message, SCRAM-SHA-256 against the agent's secret, and the checks that the
 * database is served here and the agent may use it.
 */
final class StartupHandshake {
    /** Startup parameters a client may send; each is passed on to the upstream (other GUCs could undo the limits). */
    private static final List<String> PASSED_ON = List.of("application_name", "datestyle", "timezone",
            "extra_float_digits", "intervalstyle", "search_path");

    /**
     * {@code tls}: the client's TLS, or {@code null} for plaintext; {@code in} and {@code out} read and write through it.
     * {@code clientAddress}: where the client connected from, with its port ({@link #endpoint}).
     */
    record Established(Socket socket, TlsChannel tls, InputStream in, OutputStream out, String agent, DatabaseConfig database,
                       Map<String, String> settings, List<String> searchPath, String clientAddress,
                       AgentSlots.Slot slot) {}

    /** Ends the handshake with a FATAL error to the client. */
    static final class Refusal extends Exception {
        final String code;

        Refusal(String code, String message) {
            super(message);
            this.code = code;
        }
    }

    private final PgFrontEnd frontEnd;
    private final Socket socket;
    private TlsChannel tlsChannel;
    private InputStream in;
    private OutputStream out;
    private FrameReader reader;
    // Before a client proved who it is, no message of the handshake is longer than this (PostgreSQL caps SASL
    // messages at 65535 bytes): nobody unauthenticated makes Warden hold max_message_size bytes.
    private static final int HANDSHAKE_MESSAGE_LIMIT = 65536;
    /** The client's IP address: what the login throttle counts by. */
    private final String clientIp;
    /** The client's IP address and port: what the ledger and the log say. */
    private final String clientAddress;
    private final long deadlineNanos;

    /**
     * @param deadlineNanos the {@link System#nanoTime()} by which the whole handshake must be done (startup_timeout)
     */
    StartupHandshake(PgFrontEnd frontEnd, Socket socket, long deadlineNanos) throws IOException {
        this.frontEnd = frontEnd;
        this.deadlineNanos = deadlineNanos;
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = new BufferedOutputStream(socket.getOutputStream(), 8192);
        this.reader = new FrameReader(in, HANDSHAKE_MESSAGE_LIMIT);
        this.clientIp = socket.getRemoteSocketAddress() instanceof InetSocketAddress a
                ? a.getAddress().getHostAddress() : String.valueOf(socket.getRemoteSocketAddress());
        this.clientAddress = endpoint(socket.getRemoteSocketAddress());
    }

    /**
     * {@code 10.0.0.7:51234} or {@code [2001:db8::7]:51234}: with the port, an auditor can match a ledger entry to the
     * agent host's own connection logs, and two sessions from one host apart.
     */
    static String endpoint(java.net.SocketAddress address) {
        if (!(address instanceof InetSocketAddress a) || a.getAddress() == null) return String.valueOf(address);
        String ip = a.getAddress().getHostAddress();
        return (ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip) + ":" + a.getPort();
    }

    /** Returns the authenticated session, or empty when the connection was a cancel request or went away. */
    Optional<Established> run() throws IOException {
        boolean tls = false;
        StartupMessage startup;
        while (true) {
            StartupPacket p = StartupPacket.read(reader.readUntyped());
            switch (p) {
                case SslRequest r -> {
                    if (tls) throw new ProtocolException("SSLRequest after TLS was established");
                    if (frontEnd.ssl() == null) {
                        out.write('N');
                        out.flush();
                        continue;
                    }
                    // Bytes sent after the SSLRequest and before our answer would bypass TLS (CVE-2021-23214): refuse
                    // them. Checked before answering: once 'S' is out, the client's ClientHello may arrive at any
                    // moment (a check after the answer raced with it and refused good clients).
                    if (reader.buffered() != 0 || in.available() != 0) throw new ProtocolException("data after SSLRequest before the TLS handshake");
                    out.write('S');
                    out.flush();
                    tlsChannel = TlsChannel.accept(frontEnd.ssl(), socket);
                    in = tlsChannel.in();
                    out = new BufferedOutputStream(tlsChannel.out(), 8192);
                    reader = new FrameReader(in, HANDSHAKE_MESSAGE_LIMIT);
                    tls = true;
                }
                case GssEncRequest r -> {
                    out.write('N');
                    out.flush();
                }
                case CancelRequest c -> {
                    frontEnd.cancel(c.processId(), c.secretKey());
                    return Optional.empty();
                }
                case StartupMessage m -> {
                    startup = m;
                    try {
                        return Optional.ofNullable(authenticate(startup, tls));
                    } catch (Refusal r) {
                        fatal(r.code, r.getMessage());
                        return Optional.empty();
                    }
                }
            }
        }
    }

    private Established authenticate(StartupMessage m, boolean tls) throws IOException, Refusal {
        if (!tls && frontEnd.settings().tls().mode() == TlsConfig.Mode.REQUIRED) {
            throw new Refusal("28000", "warden: this listener requires TLS (connect with sslmode=require)");
        }
        Map<String, String> params = m.parameters();
        String user = params.get("user");
        if (user == null || user.isEmpty()) throw new Refusal("28000", "no PostgreSQL user name specified in startup packet");
        String dbName = params.getOrDefault("database", user);
        if (dbName.isEmpty()) dbName = user;
        Map<String, String> settings = new LinkedHashMap<>();
        List<String> searchPath = null;
        List<String> unsupportedOptions = new ArrayList<>();
        for (String k : params.keySet()) if (k.startsWith("_pq_.")) unsupportedOptions.add(k);
        if (m.minorVersion() > 0 || !unsupportedOptions.isEmpty()) {
            // Protocol 3.0 without extensions is what Warden speaks; say so, and the client carries on with it.
            PgWriter w = new PgWriter().begin('v').int32(0).int32(unsupportedOptions.size());
            for (String o : unsupportedOptions) w.cstring(o);
            w.end().writeTo(out);
            out.flush();
        }
        for (Map.Entry<String, String> e : params.entrySet()) {
            String k = e.getKey().toLowerCase(Locale.ROOT);
            String v = e.getValue();
            switch (k) {
                case "user", "database" -> { }
                case "replication" -> {
                    if (!List.of("false", "off", "0", "no").contains(v.toLowerCase(Locale.ROOT))) {
                        throw new Refusal("28000", "warden: replication connections are not served");
                    }
                }
                case "options" -> {
                    if (!v.isBlank()) throw new Refusal("28000", "warden: the startup parameter 'options' is not accepted (it could change server settings)");
                }
                case "client_encoding" -> {
                    // Named as the server reads encoding names (clean_encoding_name): letters and digits only, any
                    // case, so asyncpg's quoted 'utf-8' is UTF8 there, and here. Upstream it is UTF8 whatever the client says.
                    String enc = v.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "");
                    if (!List.of("UTF8", "UNICODE", "SQLASCII").contains(enc)) {
                        throw new Refusal("22023", "warden: only the UTF8 client encoding is supported (got " + v + ")");
                    }
                }
                default -> {
                    if (k.startsWith("_pq_.")) continue;
                    if (!PASSED_ON.contains(k)) {
                        throw new Refusal("28000", "warden: the startup parameter '" + e.getKey() + "' is not accepted");
                    }
                    if (k.equals("search_path")) {
                        try {
                            // The server reads this value with its setting parser (SplitIdentifierString): so does Warden.
                            searchPath = List.copyOf(dev.warden.postgres.catalog.SearchPath.parse(v));
                        } catch (IllegalArgumentException bad) {
                            throw new Refusal("22023", "warden: invalid value for the search_path startup parameter: "
                                    + bad.getMessage() + " (give schema names separated by commas; quote a name with double quotes)");
                        }
                    }
                    settings.put(e.getKey(), v);
                }
            }
        }

        Optional<AgentConfig> agent = frontEnd.config().agent(user);
        Optional<DatabaseConfig> db = frontEnd.database(dbName);
        AgentAuth method = method(db.map(DatabaseConfig::listener).orElse(frontEnd.settings()).agentAuth(), tls);
        Proof proof = switch (method) {
            case SCRAM_SHA_256 -> scram(user, agent);
            case MD5, PASSWORD -> password(method, user, agent);
        };
        byte[] finalMessage;
        try (LoginThrottle.Turn turn = frontEnd.throttle().await(clientIp, user, deadlineNanos)) {
            finalMessage = proof.check();
            if (finalMessage == null || agent.isEmpty()) {
                frontEnd.authenticationFailed(turn, user, dbName, clientAddress);
                throw new Refusal("28P01", "password authentication failed for user \"" + user + "\"");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for a verdict");
        }
        PgWriter w = new PgWriter();
        if (method == AgentAuth.SCRAM_SHA_256) new Authentication(AuthMessage.SASL_FINAL, finalMessage).write(w);
        Authentication.ok().write(w);
        w.writeTo(out);
        out.flush();

        if (db.isEmpty()) throw new Refusal("3D000", "database \"" + dbName + "\" does not exist");
        if (!agent.get().mayUse(dbName)) {
            throw new Refusal("42501", "permission denied for database \"" + dbName + "\"");
        }
        if (frontEnd.gate().agents().map(k -> !k.allows(user)).orElse(false)) {
            // The kill switch: an approver disabled this agent.
            dev.warden.core.metrics.Metrics.shared().sessionRefused();
            throw new Refusal("28000", "agent \"" + user + "\" is disabled by an approver (warden kill switch)");
        }
        AgentSlots.Slot slot = frontEnd.acquire(user, db.get());
        if (slot == null) {
            throw new Refusal("53300", "too many connections for role \"" + user + "\" (warden: max_connections_per_agent is "
                    + db.get().listener().maxConnectionsPerAgent() + " for database \"" + dbName + "\")");
        }
        return new Established(socket, tlsChannel, in, out, user, db.get(), settings,
                searchPath == null ? dev.warden.core.engine.ClassifyContext.DEFAULT_SEARCH_PATH : searchPath, clientAddress, slot);
    }

    /**
     * The strongest method the database enables. Cleartext is never offered outside TLS (the configuration already
     * requires TLS for it; this holds even if listeners sharing an address were configured differently).
     */
    private static AgentAuth method(List<AgentAuth> enabled, boolean tls) throws Refusal {
        for (AgentAuth a : enabled) {
            if (a != AgentAuth.PASSWORD || tls) return a;
        }
        throw new Refusal("28000", "warden: this database accepts only cleartext passwords, which are sent only over TLS"
                + " (connect with sslmode=require)");
    }

    /** The client's proof of its secret, read and not yet checked: checked only in the address's turn. */
    @FunctionalInterface
    private interface Proof {
        /** The server's final message (empty when there is none), or {@code null} when the secret is wrong. */
        byte[] check() throws ProtocolException;
    }

    /** SCRAM-SHA-256 up to the client's proof; its check returns the server signature. */
    private Proof scram(String user, Optional<AgentConfig> agent) throws IOException {
        Scram.Keys keys = agent.map(a -> frontEnd.scramKeys(a)).orElseGet(() -> frontEnd.decoyKeys(user));
        ScramServer scram = new ScramServer(keys);
        send(Authentication.sasl(Scram.MECHANISM));
        Frame f = reader.read();
        if (f.type() != 'p') throw new ProtocolException("expected a SASL response");
        AuthMessage.SaslInitialResponse init = AuthMessage.SaslInitialResponse.read(f);
        if (!Scram.MECHANISM.equals(init.mechanism())) throw new ProtocolException("unsupported SASL mechanism " + init.mechanism());
        send(new Authentication(AuthMessage.SASL_CONTINUE, scram.first(init.data())));
        f = reader.read();
        if (f.type() != 'p') throw new ProtocolException("expected a SASL response");
        byte[] clientFinal = AuthMessage.ClientData.read(f).data();
        return () -> scram.last(clientFinal);
    }

    /**
     * MD5 ({@code "md5" + md5(md5(secret + user) + salt)}, as PostgreSQL computes it) or the cleartext secret. An
     * unknown user is checked against a random secret, so it fails the same way a wrong secret does.
     */
    private Proof password(AgentAuth method, String user, Optional<AgentConfig> agent) throws IOException {
        String secret = agent.map(a -> a.secret().value()).orElseGet(() -> Long.toString(RANDOM.nextLong()) + RANDOM.nextLong());
        byte[] expected;
        if (method == AgentAuth.MD5) {
            byte[] salt = new byte[4];
            RANDOM.nextBytes(salt);
            send(new Authentication(AuthMessage.MD5, salt));
            String inner = hex(md5(concat(secret.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8))));
            expected = ("md5" + hex(md5(concat(inner.getBytes(StandardCharsets.US_ASCII), salt)))).getBytes(StandardCharsets.US_ASCII);
        } else {
            send(new Authentication(AuthMessage.CLEARTEXT, new byte[0]));
            expected = secret.getBytes(StandardCharsets.UTF_8);
        }
        Frame f = reader.read();
        if (f.type() != 'p') throw new ProtocolException("expected a password message");
        byte[] body = AuthMessage.ClientData.read(f).data();
        if (body.length == 0 || body[body.length - 1] != 0) throw new ProtocolException("the password message is not NUL-terminated");
        byte[] given = java.util.Arrays.copyOf(body, body.length - 1);
        return () -> java.security.MessageDigest.isEqual(given, expected) ? new byte[0] : null;
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private static byte[] md5(byte[] b) {
        try {
            return java.security.MessageDigest.getInstance("MD5").digest(b);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }

    private void send(Authentication a) throws IOException {
        PgWriter w = new PgWriter();
        a.write(w);
        w.writeTo(out);
        out.flush();
    }

    void fatal(String code, String message) {
        try {
            out.write(Notice.error("FATAL", code, message).bytes());
            out.flush();
        } catch (IOException ignored) {
            // the client is gone
        }
    }
}
