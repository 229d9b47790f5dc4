package dev.warden.postgres.wire;

import dev.warden.core.config.UpstreamConfig;
import dev.warden.postgres.wire.AuthMessage.Authentication;
import dev.warden.postgres.wire.SessionMessage.BackendKeyData;
import dev.warden.postgres.wire.SessionMessage.ParameterStatus;
import dev.warden.postgres.wire.SessionMessage.ReadyForQuery;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Warden's own connection to the real database: startup with the database's credentials (SCRAM, MD5 or cleartext,
 * as the server asks), then the raw streams for whoever drives it.
 */
public final class UpstreamConnection implements Closeable {
    static final byte[] TERMINATE = {'X', 0, 0, 0, 4};

    private final Socket socket;
    private final SocketChannel channel;
    private final TlsChannel tls;
    private final InputStream in;
    private final OutputStream out;
    private final Map<String, String> parameters;
    private final BackendKeyData key;
    private final UpstreamConfig config;

    private UpstreamConnection(Socket socket, SocketChannel channel, TlsChannel tls, InputStream in, OutputStream out,
                               Map<String, String> parameters, BackendKeyData key, UpstreamConfig config) {
        this.socket = socket;
        this.channel = channel;
        this.tls = tls;
        this.in = in;
        this.out = out;
        this.parameters = parameters;
        this.key = key;
        this.config = config;
    }

    /** The database said no during startup (wrong credentials, no such database, too many connections). */
    public static final class Refused extends IOException {
        private final Notice error;

        public Refused(Notice error) {
            super(error.code() + " " + error.message());
            this.error = error;
        }

        public Notice error() {
            return error;
        }
    }

    /**
     * Connects and authenticates. {@code settings} are sent as startup parameters (GUCs such as
     * {@code statement_timeout}; they become the session's defaults, which RESET and DISCARD ALL return to).
     */
    public static UpstreamConnection open(UpstreamConfig up, Map<String, String> settings, Duration timeout) throws IOException {
        SocketChannel channel = SocketChannel.open();
        Socket s = channel.socket();
        try {
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            s.connect(new InetSocketAddress(up.host(), up.port()), (int) timeout.toMillis());
            s.setSoTimeout((int) timeout.toMillis());
            TlsChannel tls = UpstreamTls.negotiate(s, up);
            InputStream in = tls == null ? s.getInputStream() : tls.in();
            OutputStream out = new BufferedOutputStream(tls == null ? s.getOutputStream() : tls.out(), 16384);
            Map<String, String> p = new LinkedHashMap<>();
            p.put("user", up.user());
            p.put("database", up.database());
            p.putAll(settings);
            out.write(new StartupPacket.StartupMessage(p).write());
            out.flush();
            FrameReader reader = new FrameReader(in, 1 << 20);
            Map<String, String> status = new LinkedHashMap<>();
            BackendKeyData key = null;
            ScramClient scram = null;
            while (true) {
                Frame f = reader.read();
                switch (f.type()) {
                    case 'R' -> {
                        Authentication a = Authentication.read(f);
                        PgWriter w = new PgWriter();
                        if (scram != null && a.code() != AuthMessage.SASL_CONTINUE && a.code() != AuthMessage.SASL_FINAL
                                && !scram.serverVerified()) {
                            // libpq's rule too: once SCRAM began, only its completion counts. A server that skips its
                            // final message (or turns to cleartext or MD5) has not proved it knows the password, and
                            // could be an impostor fishing for it or for the agents' statements.
                            throw new IOException("the upstream ended SCRAM authentication without proving it knows the password");
                        }
                        switch (a.code()) {
                            case AuthMessage.OK -> { }
                            case AuthMessage.CLEARTEXT -> new AuthMessage.ClientData(cstring(password(up))).write(w);
                            case AuthMessage.MD5 -> {
                                byte[] salt = new PgReader(a.data()).bytes(4);
                                new AuthMessage.ClientData(cstring(md5(password(up), up.user(), salt))).write(w);
                            }
                            case AuthMessage.SASL -> {
                                if (!new String(a.data(), StandardCharsets.UTF_8).contains(Scram.MECHANISM)) {
                                    throw new IOException("the upstream offers no SASL mechanism Warden supports");
                                }
                                scram = new ScramClient(password(up));
                                new AuthMessage.SaslInitialResponse(Scram.MECHANISM, scram.first()).write(w);
                            }
                            case AuthMessage.SASL_CONTINUE -> {
                                if (scram == null) throw new ProtocolException("upstream SASL out of order");
                                new AuthMessage.ClientData(scram.last(a.data())).write(w);
                            }
                            case AuthMessage.SASL_FINAL -> {
                                if (scram == null) throw new ProtocolException("upstream SASL out of order");
                                scram.verify(a.data());
                            }
                            default -> throw new IOException("the upstream asks for an authentication method Warden does not support (" + a.code() + ")");
                        }
                        if (w.size() > 0) {
                            w.writeTo(out);
                            out.flush();
                        }
                    }
                    case 'S' -> {
                        ParameterStatus ps = ParameterStatus.read(f);
                        status.put(ps.name(), ps.value());
                    }
                    case 'K' -> key = BackendKeyData.read(f);
                    case 'N' -> { }
                    case 'E' -> throw new Refused(Notice.read(f));
                    case 'Z' -> {
                        ReadyForQuery.read(f);
                        if (reader.buffered() != 0) throw new ProtocolException("upstream sent data after ReadyForQuery");
                        s.setSoTimeout(0);
                        return new UpstreamConnection(s, channel, tls, in, out, status, key, up);
                    }
                    default -> throw new ProtocolException("unexpected upstream message '" + (char) f.type() + "' during startup");
                }
            }
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private static String password(UpstreamConfig up) throws IOException {
        if (up.password() == null) throw new IOException("the upstream asks for a password and none is configured");
        return up.password().value();
    }

    private static byte[] cstring(String s) {
        return new PgWriter().cstring(s).toByteArray();
    }

    static String md5(String password, String user, byte[] salt) {
        try {
            MessageDigest d = MessageDigest.getInstance("MD5");
            String inner = HexFormat.of().formatHex(d.digest((password + user).getBytes(StandardCharsets.UTF_8)));
            d.reset();
            d.update(inner.getBytes(StandardCharsets.UTF_8));
            d.update(salt);
            return "md5" + HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Settings' values as the new session has them, in one query, before any client statement: what the role's and
     * database's defaults made them. Blocking; only while the connection is still in blocking mode.
     */
    List<String> show(List<String> names, Duration timeout) throws IOException {
        StringBuilder sql = new StringBuilder("SELECT ");
        for (String n : names) {
            if (sql.length() > 7) sql.append(", ");
            sql.append("pg_catalog.current_setting('").append(n).append("')");
        }
        PgWriter w = new PgWriter();
        new QueryMessage.Query(sql.toString()).write(w);
        w.writeTo(out);
        out.flush();
        socket.setSoTimeout((int) timeout.toMillis());
        FrameReader reader = new FrameReader(in, 1 << 20);
        List<String> values = null;
        while (true) {
            Frame f = reader.read();
            switch (f.type()) {
                case 'D' -> {
                    PgReader r = new PgReader(f.body());
                    if (r.int16() != names.size()) throw new ProtocolException("settings " + names + ": wrong number of columns");
                    values = new java.util.ArrayList<>(names.size());
                    for (int i = 0; i < names.size(); i++) {
                        int len = r.int32();
                        if (len < 0) throw new ProtocolException("setting " + names.get(i) + " has no value");
                        values.add(new String(r.bytes(len), StandardCharsets.UTF_8));
                    }
                }
                case 'E' -> throw new IOException("settings " + names + ": " + Notice.read(f).message());
                case 'Z' -> {
                    if (reader.buffered() != 0) throw new ProtocolException("upstream sent data after ReadyForQuery");
                    socket.setSoTimeout(0);
                    if (values == null) throw new ProtocolException("settings " + names + " returned no row");
                    return List.copyOf(values);
                }
                default -> { }
            }
        }
    }

    /** Sends a CancelRequest for this backend on a connection of its own, as the protocol wants. */

    public void cancel() {
        if (key == null) return;
        try (Socket c = new Socket()) {
            c.setTcpNoDelay(true);
            c.connect(new InetSocketAddress(config.host(), config.port()), 5000);
            c.getOutputStream().write(new StartupPacket.CancelRequest(key.processId(), key.secretKey()).write());
            c.getOutputStream().flush();
            c.setSoTimeout(5000);
            c.getInputStream().read(); // the server closes the connection when done
        } catch (IOException e) {
            // best effort, like every PostgreSQL client's cancel
        }
    }

    /**
     * The socket as a non-blocking channel, for an event loop. Once taken, {@link #in()} and {@link #out()} are no
     * longer usable.
     */
    SocketChannel nonBlockingChannel() throws IOException {
        channel.configureBlocking(false);
        return channel;
    }

    /** The TLS over the channel, or {@code null} for plaintext. */
    TlsChannel tls() {
        return tls;
    }

    public InputStream in() {
        return in;
    }

    public OutputStream out() {
        return out;
    }

    public Map<String, String> parameters() {
        return parameters;
    }

    public BackendKeyData key() {
        return key;
    }

    public boolean isClosed() {
        return socket.isClosed();
    }

    /** Says goodbye (Terminate) when possible and closes. */
    @Override
    public void close() {
        try {
            // In non-blocking mode the owner of the channel said goodbye itself, in order with its other writes.
            if (channel.isBlocking() && !socket.isClosed()) {
                out.write(TERMINATE);
                out.flush();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing left to do
        }
    }
}
