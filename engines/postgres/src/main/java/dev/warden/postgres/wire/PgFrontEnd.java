package dev.warden.postgres.wire;

import dev.warden.core.Gate;
import dev.warden.core.auth.LoginThrottle;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.FrontEnd;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.postgres.wire.SessionMessage.BackendKeyData;
import dev.warden.postgres.wire.SessionMessage.ParameterStatus;
import dev.warden.postgres.wire.SessionMessage.ReadyForQuery;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/**
 * The PostgreSQL listener for the databases served on one address: accepts, runs each client's startup on a thread
 * of its own, then serves the session from an {@link EventLoop}, and knows the sessions (for CancelRequest, per-agent
 * limits and shutdown).
 */
public final class PgFrontEnd implements FrontEnd {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Gate gate;
    private final WardenConfig config;
    private final List<DatabaseConfig> databases;
    private final ListenerConfig settings;
    private final SSLContext ssl;
    private final Consumer<String> log;
    private final Map<String, Scram.Keys> keys = new ConcurrentHashMap<>();
    /** Derives each unknown name's decoy keys: its own salt, the same on every attempt, as a real agent's is. */
    private final byte[] decoySecret = Scram.randomBytes(32);
    private final Map<Long, ClientSession> sessions = new ConcurrentHashMap<>();
    private final AgentSlots slots;
    private final Map<ClientSession, AgentSlots.Slot> sessionSlots = new ConcurrentHashMap<>();
    private final LoginThrottle throttle = new LoginThrottle();
    private final AtomicLong ids = new AtomicLong();
    /**
     * Connections not yet past their startup, over which nobody has proved anything: each holds a socket and buffers
     * until startup_timeout. Past this many, new ones are refused at once, so unauthenticated clients cannot use up
     * the process's file descriptors (which would also refuse every agent).
     */
    static final int MAX_STARTING = 1024;
    /** {@link #MAX_STARTING}; lower in tests. */
    volatile int maxStarting = MAX_STARTING;
    private final java.util.concurrent.atomic.AtomicInteger starting = new java.util.concurrent.atomic.AtomicInteger();
    private volatile long lastBusyLog;
    private volatile Duration grace = Duration.ofSeconds(10);
    private volatile ServerSocketChannel server;
    private volatile boolean closing;
    private volatile AutoCloseable killSwitch;

    public PgFrontEnd(FrontEndContext context, SSLContext ssl, Consumer<String> log) {
        this.gate = context.gate();
        this.config = context.config();
        this.databases = context.databases();
        if (databases.isEmpty()) throw new IllegalArgumentException("a listener needs at least one database");
        this.settings = databases.getFirst().listener();
        this.ssl = ssl;
        this.log = log;
        this.slots = AgentSlots.of(gate);
        for (AgentConfig a : config.agents()) keys.put(a.name(), Scram.Keys.generate(a.secret().value()));
    }

    public void grace(Duration d) {
        this.grace = d;
    }

    @Override
    public void start() throws IOException {
        HostPort listen = databases.getFirst().listen();
        ServerSocketChannel s = ServerSocketChannel.open();
        s.socket().setReuseAddress(true);
        try {
            s.bind(new InetSocketAddress(InetAddress.getByName(listen.host()), listen.port()), 256);
        } catch (java.net.BindException e) {
            s.close();
            throw new java.net.BindException("cannot listen on " + listen + ": " + e.getMessage());
        }
        server = s;
        // The kill switch ends a disabled agent's live sessions here; new ones are refused in the handshake.
        killSwitch = gate.agents().map(k -> k.subscribe(change -> {
            if (!change.disabled()) return;
            for (ClientSession cs : sessions.values()) {
                if (cs.agent().equals(change.agent())) {
                    cs.fatal("57P01", "terminating connection: agent \"" + change.agent() + "\" was disabled by " + change.by());
                }
            }
        })).orElse(null);
        Thread.ofPlatform().daemon().name("pg-accept-" + listen).start(this::acceptLoop);
    }

    /** The bound port (useful when configured as 0). */
    public int port() {
        return server.socket().getLocalPort();
    }

    private void acceptLoop() {
        ServerSocketChannel s = server;
        while (!closing) {
            Socket c;
            try {
                c = s.accept().socket();
            } catch (IOException e) {
                if (closing) return;
                log("warden: accept failed: " + e.getMessage());
                // Out of file descriptors, accept fails at once until some close: do not spin on it.
                sleepQuietly(50);
                continue;
            }
            if (starting.incrementAndGet() > maxStarting) {
                starting.decrementAndGet();
                refuseBusy(c);
                continue;
            }
            // Startup is short and blocking (TLS, authentication, the upstream's own startup): a thread of its own,
            // virtual, so clients that wait (for the failure delay, a slow upstream) cost no platform thread.
            Thread.ofVirtual().name("pg-startup").start(() -> {
                try {
                    serve(c);
                } finally {
                    starting.decrementAndGet();
                }
            });
        }
    }

    private void serve(Socket c) {
        String address = StartupHandshake.endpoint(c.getRemoteSocketAddress());
        StartupHandshake.Established e = null;
        StartupHandshake h = null;
        try {
            c.setTcpNoDelay(true);
            c.setKeepAlive(true);
            c.setSoTimeout((int) settings.startupTimeout().toMillis());
            // startup_timeout bounds the whole handshake, not each read: a client trickling bytes is cut off too (a
            // second later than an idle one, whose read times out first and is told why).
            long deadlineNanos = System.nanoTime() + settings.startupTimeout().toNanos();
            Thread deadline = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(settings.startupTimeout().plusSeconds(1));
                    c.close();
                } catch (InterruptedException | IOException done) {
                    // the handshake ended in time
                }
            });
            h = new StartupHandshake(this, c, deadlineNanos);
            Optional<StartupHandshake.Established> est;
            try {
                est = h.run();
            } finally {
                deadline.interrupt();
            }
            if (est.isEmpty() || closing) {
                est.ifPresent(x -> x.slot().release());
                c.close();
                return;
            }
            e = est.get();
            DatabaseConfig db = e.database();
            java.util.LinkedHashMap<String, String> up = new java.util.LinkedHashMap<>(e.settings());
            up.put("client_encoding", "UTF8");
            up.putIfAbsent("application_name", "warden");
            up.put("statement_timeout", Long.toString(db.statementTimeout().toMillis()));
            UpstreamConnection upstream;
            try {
                upstream = UpstreamConnection.open(db.upstream(), up, settings.startupTimeout());
            } catch (UpstreamConnection.Refused r) {
                // The slot first: a client that retries as soon as it reads the error must find it free.
                e.slot().release();
                h.fatal(r.error().code(), "warden: the database refused Warden's connection: " + r.error().message());
                c.close();
                return;
            } catch (IOException io) {
                e.slot().release();
                h.fatal("08006", "warden: cannot connect to the database: " + io.getMessage());
                c.close();
                return;
            }
            if ("off".equalsIgnoreCase(upstream.parameters().get("standard_conforming_strings"))) {
                // A role or database default (ALTER … SET standard_conforming_strings = off): the server would read
                // backslashes in strings as escapes, Warden's parser does not. SET of it is refused already; RESET
                // returns to this default, which is why the session cannot start.
                upstream.close();
                e.slot().release();
                h.fatal("55000", "warden: the database or role sets standard_conforming_strings = off; Warden reads"
                        + " statements as PostgreSQL does with it on, so it serves no session here (set it back to on)");
                c.close();
                return;
            }
            // As the server has them after the role's and database's defaults (ALTER ROLE/DATABASE … SET), in one
            // round trip: the search path the session starts with and RESET returns to (unless the client gave one),
            // and the role it acts as, which "$user" in that path stands for. Not assumed.
            String role;
            try {
                List<String> start = upstream.show(List.of("search_path", "role"), settings.startupTimeout());
                role = start.get(1);
                if (!e.settings().containsKey("search_path")) {
                    e = new StartupHandshake.Established(e.socket(), e.tls(), e.in(), e.out(), e.agent(), e.database(),
                            e.settings(), List.copyOf(dev.warden.postgres.catalog.SearchPath.parse(start.get(0))),
                            e.clientAddress(), e.slot());
                }
            } catch (IOException | IllegalArgumentException bad) {
                upstream.close();
                e.slot().release();
                h.fatal("08006", "warden: cannot read the session's search_path and role: " + bad.getMessage());
                c.close();
                return;
            }
            long id = ids.incrementAndGet();
            int pid, secret;
            long key;
            do {
                pid = RANDOM.nextInt(1, Integer.MAX_VALUE);
                secret = RANDOM.nextInt();
                key = ((long) pid << 32) | (secret & 0xffffffffL);
            } while (sessions.containsKey(key));
            LoopSession driver;
            try {
                driver = new LoopSession(this, e, upstream, "pg-" + id);
            } catch (IOException | RuntimeException x) {
                upstream.close();
                throw x;
            }
            driver.session().startsAs(role);
            sessionSlots.put(driver.session(), e.slot());
            sessions.put(key, driver.session());
            // From here on the session owns the agent's slot and both sockets; closing it gives them back.
            e = null;
            PgWriter w = new PgWriter();
            upstream.parameters().forEach((k, v) -> new ParameterStatus(k, v).write(w));
            new BackendKeyData(pid, secret).write(w);
            new ReadyForQuery('I').write(w);
            driver.start(w.toByteArray());
        } catch (ProtocolException p) {
            refuse(h, c, e, "warden: protocol violation: " + p.getMessage());
        } catch (SocketTimeoutException t) {
            refuse(h, c, e, "warden: the startup did not complete in time");
        } catch (EOFException | javax.net.ssl.SSLException eof) {
            closeQuietly(c);
            if (e != null) e.slot().release();
        } catch (IOException | RuntimeException x) {
            log("warden: session from " + address + " ended: " + x);
            closeQuietly(c);
            if (e != null) e.slot().release();
        }
    }

    /** Too many startups under way: a FATAL 53300 in plain text (as to an SSLRequest), closed; logged once a second. */
    private void refuseBusy(Socket c) {
        try {
            c.setSoTimeout(1000);
            c.getOutputStream().write(Notice.error("FATAL", "53300", "warden: too many connections are starting up ("
                    + maxStarting + "); try again").bytes());
        } catch (IOException ignored) {
            // the client is gone already
        }
        closeQuietly(c);
        long now = System.nanoTime();
        if (now - lastBusyLog > 1_000_000_000L) {
            lastBusyLog = now;
            log("warden: refused a connection from " + StartupHandshake.endpoint(c.getRemoteSocketAddress()) + ": " + maxStarting
                    + " connections are still starting up");
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends a startup that broke the protocol: the slot back, a FATAL error (through TLS once it is up), closed. */
    private static void refuse(StartupHandshake h, Socket c, StartupHandshake.Established e, String message) {
        if (e != null) e.slot().release();
        if (h != null) h.fatal("08P01", message);
        closeQuietly(c);
    }

    private static void closeQuietly(Socket c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // gone
        }
    }

    // ---- for the handshake and the sessions

    Gate gate() {
        return gate;
    }

    WardenConfig config() {
        return config;
    }

    ListenerConfig settings() {
        return settings;
    }

    SSLContext ssl() {
        return settings.tls().enabled() ? ssl : null;
    }

    Scram.Keys scramKeys(AgentConfig a) {
        return keys.computeIfAbsent(a.name(), n -> Scram.Keys.generate(a.secret().value()));
    }

    /**
     * Keys no secret matches: an unknown user goes through the same exchange and fails the same way, with a salt of
     * its own that stays the same across attempts (as PostgreSQL's mock salt), so a salt tells no name from another.
     * Derived by HMAC, not PBKDF2: no time difference either.
     */
    Scram.Keys decoyKeys(String user) {
        byte[] salt = java.util.Arrays.copyOf(Scram.hmac(decoySecret, "salt " + user), 16);
        return new Scram.Keys(salt, Scram.ITERATIONS, Scram.hmac(decoySecret, "stored " + user),
                Scram.hmac(decoySecret, "server " + user));
    }

    Optional<DatabaseConfig> database(String name) {
        return databases.stream().filter(d -> d.name().equals(name)).findFirst();
    }

    void cancel(int pid, int secret) {
        ClientSession s = sessions.get(((long) pid << 32) | (secret & 0xffffffffL));
        if (s != null) s.cancel();
    }

    /** A session slot for the agent on this database, counted across all listeners; {@code null} at the limit. */
    AgentSlots.Slot acquire(String agent, DatabaseConfig db) {
        return slots.acquire(agent, db.name(), db.listener().maxConnectionsPerAgent());
    }

    /** Sessions the agent holds on the database, over every listener of this process. */
    public int sessionsHeld(String agent, String database) {
        return slots.held(agent, database);
    }

    void ended(ClientSession s) {
        sessions.values().remove(s);
        AgentSlots.Slot slot = sessionSlots.remove(s);
        if (slot != null) slot.release();
    }

    /** Verdicts on secrets, one at a time per client address and agent name and later after failures (see {@link LoginThrottle}). */
    LoginThrottle throttle() {
        return throttle;
    }

    /** A wrong secret, within its verdict's turn: a ledger entry, and a count that makes the next attempts wait. */
    void authenticationFailed(LoginThrottle.Turn turn, String user, String database, String address) {
        int n = turn.failed();
        try {
            gate.authenticationFailed(user, database, "postgres", address, "password authentication failed for user \""
                    + user + "\" from " + address + " (" + n + " failure" + (n == 1 ? "" : "s") + " in a row)");
        } catch (Exception e) {
            log("warden: the ledger could not record a failed authentication: " + e.getMessage());
        }
        log("warden: password authentication failed for user " + quoted(user) + " from " + address);
    }

    /** A name from the network as one log token: quotes and control characters escaped, so it cannot forge lines. */
    static String quoted(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().forEach(cp -> {
            if (cp == '"' || cp == '\\') b.append('\\').appendCodePoint(cp);
            else if (Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT) b.append(String.format("\\u%04x", cp));
            else b.appendCodePoint(cp);
        });
        return b.append('"').toString();
    }

    void log(String line) {
        log.accept(line);
    }

    public int sessionCount() {
        return sessions.size();
    }

    /**
     * Stops accepting, lets running statements finish for up to the grace period, then closes every session. Idle
     * sessions, and sessions whose statement waits for an approval, are closed at once.
     */
    @Override
    public void close() {
        closing = true;
        try {
            if (killSwitch != null) killSwitch.close();
        } catch (Exception ignored) {
            // unsubscribing cannot fail in a way that matters here
        }
        try {
            if (server != null) server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        List<ClientSession> all = List.copyOf(sessions.values());
        long deadline = System.nanoTime() + grace.toNanos();
        while (System.nanoTime() < deadline) {
            boolean busy = false;
            for (ClientSession s : sessions.values()) {
                // A held statement has not started: it is not waited for (its request expires, it never runs).
                if (s.idle() || s.holding()) s.fatal("57P01", "terminating connection due to administrator command (warden is shutting down)");
                else busy = true;
            }
            if (!busy) break;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (ClientSession s : sessions.values()) s.fatal("57P01", "terminating connection due to administrator command (warden is shutting down)");
        // A hold that ended with its session records its request's expiry: before the ledger closes after this.
        long judged = System.nanoTime() + JUDGEMENTS_AFTER_CLOSE.toNanos();
        for (ClientSession s : all) {
            while (s.judging() && System.nanoTime() < judged) sleepQuietly(5);
        }
    }

    /** How long {@link #close} waits for judgements of closed sessions to end (the expiry of held requests). */
    private static final Duration JUDGEMENTS_AFTER_CLOSE = Duration.ofSeconds(2);
}
