package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Gate;
import dev.warden.core.Target;
import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.ListenerConfig;
import dev.warden.core.config.Secret;
import dev.warden.core.config.TlsConfig;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.FrontEndContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Red team: agent authentication, the failure delay and the startup phase, as a network client. */
class RedTeamAuthTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    /** A listener of its own (its own failure counters), with two agents and a log that the test reads. */
    record Listener(PgFrontEnd fe, List<String> log) implements AutoCloseable {
        @Override
        public void close() {
            fe.close();
        }
    }

    static Listener listener(ListenerConfig settings) throws Exception {
        DatabaseConfig db = new DatabaseConfig("app", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", fx.pg.getPort(), "postgres", ProxyFixture.UP_USER, new Secret(ProxyFixture.UP_PASSWORD)),
                Duration.ofSeconds(30), settings);
        dev.warden.core.engine.Classifier classifier = new dev.warden.postgres.PostgresEngine().classifier(Catalog.NONE);
        Gate g = new Gate(Map.of("app", new Target("app", "postgres", classifier, Catalog.NONE)), fx.gate.policy(), fx.approvals, fx.ledger, null);
        WardenConfig config = new WardenConfig(fx.dir.resolve("warden.yaml"), fx.dir.resolve("data"), fx.dir.resolve("policy.yaml"),
                List.of(new AgentConfig(ProxyFixture.AGENT, new Secret(ProxyFixture.AGENT_SECRET), List.of()),
                        new AgentConfig("attacker", new Secret("attacker-secret"), List.of())),
                List.of(), List.of(db), Map.of(), Optional.empty());
        List<String> log = new CopyOnWriteArrayList<>();
        PgFrontEnd fe = new PgFrontEnd(new FrontEndContext(g, config, List.of(db)),
                TlsMaterial.context(settings.tls(), config.dataDir()), line -> {
                    log.add(line);
                    System.err.println(line);
                });
        fe.start();
        return new Listener(fe, log);
    }

    static ListenerConfig settings(int maxMessage, Duration startupTimeout) {
        return new ListenerConfig(TlsConfig.OFF, maxMessage, startupTimeout, Duration.ofMinutes(10), 30);
    }

    /** Startup + SASLInitialResponse; returns the salt of the server-first message. */
    static String salt(int port, String user) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new StartupPacket.StartupMessage(Map.of("user", user, "database", "app")).write());
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 20);
            AuthMessage.Authentication a = AuthMessage.Authentication.read(r.read());
            assertThat(a.code()).isEqualTo(AuthMessage.SASL);
            PgWriter w = new PgWriter();
            new AuthMessage.SaslInitialResponse(Scram.MECHANISM, new ScramClient("x").first()).write(w);
            s.getOutputStream().write(w.toByteArray());
            a = AuthMessage.Authentication.read(r.read());
            assertThat(a.code()).isEqualTo(AuthMessage.SASL_CONTINUE);
            return Scram.attributes(new String(a.data(), StandardCharsets.UTF_8)).get("s");
        }
    }

    /**
     * Runs a SCRAM login as {@code user} with {@code secret} and returns how long the server took to give its verdict
     * on the proof (SASLFinal or an ErrorResponse), in milliseconds; -1 when no verdict came within {@code waitMs}.
     */
    static long verdictMillis(int port, String user, String secret, int waitMs) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(new StartupPacket.StartupMessage(Map.of("user", user, "database", "app")).write());
            FrameReader r = new FrameReader(s.getInputStream(), 1 << 20);
            ScramClient scram = new ScramClient(secret);
            AuthMessage.Authentication a = AuthMessage.Authentication.read(r.read());
            PgWriter w = new PgWriter();
            new AuthMessage.SaslInitialResponse(Scram.MECHANISM, scram.first()).write(w);
            s.getOutputStream().write(w.toByteArray());
            a = AuthMessage.Authentication.read(r.read());
            w = new PgWriter();
            new AuthMessage.ClientData(scram.last(a.data())).write(w);
            s.setSoTimeout(waitMs);
            long t0 = System.nanoTime();
            s.getOutputStream().write(w.toByteArray());
            try {
                r.read();
            } catch (SocketTimeoutException timeout) {
                return -1;
            }
            return (System.nanoTime() - t0) / 1_000_000;
        }
    }

    // ---- (b) whether an agent name exists

    /**
     * Every unknown user name gets the same decoy salt, while each real agent has its own: comparing the salt offered
     * for a name with the salt offered for a surely unknown name tells whether the agent exists, without any secret
     * and without a failed login. (PostgreSQL derives a mock salt per user name, so unknown names look like real ones.)
     */
    @Test
    void unknownUsersShareOneDecoySaltSoAgentNamesCanBeEnumerated() throws Exception {
        int port = fx.port();
        String unknownA = salt(port, "no-such-agent-1");
        String unknownA2 = salt(port, "no-such-agent-1");
        String unknownB = salt(port, "no-such-agent-2");
        String real = salt(port, ProxyFixture.AGENT);
        assertThat(salt(port, ProxyFixture.AGENT)).isEqualTo(real);    // a real agent's salt is stable
        assertThat(unknownA2).as("an unknown name's salt must be stable, as a real agent's is").isEqualTo(unknownA);
        // The attacker's test "salt(name) == salt(random name) means no such agent" must not work:
        assertThat(unknownB).as("two unknown names must not share a salt (else any real agent stands out)").isNotEqualTo(unknownA);
    }

    // ---- (c) the failure delay

    /**
     * The delay is keyed by address and cleared by any successful login from that address: an attacker holding any
     * agent identity (its own) logs in once between guesses and every guess at another agent's secret is answered
     * without delay.
     */
    @Test
    void anotherAgentsSuccessfulLoginResetsTheFailureDelay() throws Exception {
        try (Listener l = listener(settings(1 << 20, Duration.ofSeconds(10)))) {
            int port = l.fe().port();
            for (int i = 0; i < 4; i++) assertThat(verdictMillis(port, ProxyFixture.AGENT, "guess-" + i, 5000)).isGreaterThanOrEqualTo(0);
            // 4 failures in a row: the next failure waits 1.6 s ...
            long delayed = verdictMillis(port, ProxyFixture.AGENT, "guess-4", 5000);
            assertThat(delayed).isGreaterThanOrEqualTo(1500);
            // ... unless the attacker logs in as itself first
            Object ok = RawClient.startup(port, Map.of("user", "attacker", "database", "app"), "attacker-secret");
            assertThat(ok).isInstanceOf(Socket.class);
            ((Socket) ok).close();
            long afterReset = verdictMillis(port, ProxyFixture.AGENT, "guess-5", 5000);
            assertThat(afterReset).as("a guess at agent's secret after 5 failures in a row from this address, once the "
                    + "attacker logged in as another agent").isGreaterThanOrEqualTo(1500);
        }
    }

    /**
     * The delay only holds back the 28P01 of a wrong guess; a right guess is answered at once. So the attacker need not
     * wait: it sends guesses on parallel connections, and a guess with no answer within a few milliseconds is wrong.
     * With the delay at its 5 s cap, 20 guesses are decided in well under a second from one address.
     */
    @Test
    void theDelayDoesNotDelayTheVerdictSoParallelGuessesAreNotThrottled() throws Exception {
        try (Listener l = listener(settings(1 << 20, Duration.ofSeconds(10)))) {
            int port = l.fe().port();
            // Build up the delay from this address (the answers of wrong guesses are not awaited: they are 'no answer').
            long t0 = System.nanoTime();
            for (int i = 0; i < 8; i++) verdictMillis(port, ProxyFixture.AGENT, "guess-" + i, 150);
            Thread.sleep(200);
            // 20 parallel wrong guesses and the right one, each abandoned after 300 ms without an answer
            List<Thread> threads = new java.util.ArrayList<>();
            long[] verdicts = new long[21];
            for (int i = 0; i < 21; i++) {
                int n = i;
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        verdicts[n] = verdictMillis(port, ProxyFixture.AGENT, n == 20 ? ProxyFixture.AGENT_SECRET : "wrong-" + n, 300);
                    } catch (IOException e) {
                        verdicts[n] = -2;
                    }
                }));
            }
            for (Thread t : threads) t.join();
            long elapsed = (System.nanoTime() - t0) / 1_000_000;
            System.err.println("28 guesses in " + elapsed + " ms; the right one answered after " + verdicts[20] + " ms");
            // The right secret stood out within 300 ms, after at least 8 failures in a row from this address.
            assertThat(verdicts[20]).as("the verdict on a guess from an address with 8 or more failures in a row must not come "
                    + "before the failure delay").satisfiesAnyOf(v -> assertThat(v).isEqualTo(-1L), v -> assertThat(v).isGreaterThanOrEqualTo(1000L));
        }
    }

    /**
     * Each connection waited out its own delay, all at the same time: N parallel connections got N verdicts per delay,
     * so the delay slowed a guesser down only as much as it cared to open connections.
     */
    @Test
    void parallelGuessesFromOneAddressGetTheirVerdictsOneAtATime() throws Exception {
        try (Listener l = listener(settings(1 << 20, Duration.ofSeconds(10)))) {
            int port = l.fe().port();
            // three failures in a row: the next verdicts wait 0.8 s, then 1.6 s, then 3.2 s
            for (int i = 0; i < 3; i++) assertThat(verdictMillis(port, ProxyFixture.AGENT, "guess-" + i, 3000)).isNotNegative();
            long[] verdicts = new long[10];
            List<Thread> threads = new java.util.ArrayList<>();
            for (int i = 0; i < verdicts.length; i++) {
                int n = i;
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        verdicts[n] = verdictMillis(port, ProxyFixture.AGENT, "wrong-" + n, 2500);
                    } catch (IOException e) {
                        verdicts[n] = -2;
                    }
                }));
            }
            for (Thread t : threads) t.join();
            long answered = java.util.Arrays.stream(verdicts).filter(v -> v >= 0).count();
            assertThat(answered).as("verdicts within 2.5 s out of 10 parallel guesses: %s", java.util.Arrays.toString(verdicts))
                    .isBetween(1L, 2L);
        }
    }

    /**
     * Connections that never finish their startup each held a socket until startup_timeout, with no limit: enough of
     * them use up the process's file descriptors, and then every agent is refused too.
     */
    @Test
    void connectionsStillStartingUpAreCappedAndAgentsGetInAfterwards() throws Exception {
        try (Listener l = listener(settings(1 << 20, Duration.ofSeconds(10)))) {
            l.fe().maxStarting = 20;
            int port = l.fe().port();
            List<Socket> idle = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) idle.add(new Socket("127.0.0.1", port));
                Thread.sleep(300); // accepted, each waiting for its startup packet
                try (Socket extra = new Socket("127.0.0.1", port)) {
                    extra.setSoTimeout(5000);
                    String answer = new String(extra.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertThat(answer).contains("53300").contains("too many connections are starting up");
                }
            } finally {
                for (Socket s : idle) s.close();
            }
            // The idle ones leave as their threads see them close: an agent may be refused until then.
            long deadline = System.nanoTime() + 5_000_000_000L;
            long verdict = -1;
            do {
                try {
                    verdict = verdictMillis(port, ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET, 3000);
                } catch (IOException refused) {
                    Thread.sleep(50);
                }
            } while (verdict < 0 && System.nanoTime() < deadline);
            assertThat(verdict).as("an agent logs in once the idle connections are gone").isNotNegative();
        }
    }

    // ---- (e) startup phase resources

    /**
     * startup_timeout is a per-read socket timeout, not a deadline: a client that sends one byte of its startup packet
     * every 400 ms (below the 1 s timeout) holds a platform thread and a socket for as long as it likes.
     */
    @Test
    void slowlorisStartupOutlivesTheStartupTimeout() throws Exception {
        try (Listener l = listener(settings(1 << 20, Duration.ofSeconds(1)))) {
            byte[] startup = new StartupPacket.StartupMessage(Map.of("user", ProxyFixture.AGENT, "database", "app")).write();
            try (Socket s = new Socket("127.0.0.1", l.fe().port())) {
                s.setSoTimeout(50);
                OutputStream out = s.getOutputStream();
                InputStream in = s.getInputStream();
                long t0 = System.nanoTime();
                boolean closedByServer = false;
                for (int i = 0; i < 10 && i < startup.length - 1 && !closedByServer; i++) {
                    try {
                        out.write(startup[i]);
                        out.flush();
                    } catch (IOException reset) {
                        closedByServer = true;
                        break;
                    }
                    Thread.sleep(400);
                    try {
                        in.read(); // any answer (FATAL) or EOF during the startup ends it
                        closedByServer = true;
                    } catch (SocketTimeoutException stillOpen) {
                        // nothing yet
                    } catch (IOException reset) {
                        closedByServer = true;
                    }
                }
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertThat(closedByServer).as("startup still open after " + ms + " ms with a 1 s startup_timeout").isTrue();
                assertThat(ms).isLessThan(2500);
            }
        }
    }

    /**
     * Before authentication the client may declare a SASLInitialResponse as large as max_message_size (64 MiB by
     * default) and Warden waits for all of it, buffering it: each unauthenticated connection can pin 64 MiB of heap
     * (and a platform thread). PostgreSQL refuses authentication messages over 64 KiB at once.
     */
    @Test
    void unauthenticatedClientMayDeclareAHugeSaslMessage() throws Exception {
        try (Listener l = listener(settings(64 << 20, Duration.ofSeconds(5)))) {
            try (Socket s = new Socket("127.0.0.1", l.fe().port())) {
                s.setSoTimeout(3000);
                s.getOutputStream().write(new StartupPacket.StartupMessage(Map.of("user", "nobody", "database", "app")).write());
                FrameReader r = new FrameReader(s.getInputStream(), 1 << 20);
                assertThat(AuthMessage.Authentication.read(r.read()).code()).isEqualTo(AuthMessage.SASL);
                // 'p', length 32 MiB, then 1 MiB of it
                byte[] head = new PgWriter().byte1('p').int32(32 << 20).toByteArray();
                s.getOutputStream().write(head);
                boolean refused = false;
                try {
                    s.getOutputStream().write(new byte[1 << 20]);
                    s.getOutputStream().flush();
                    refused = r.read().type() == 'E';
                } catch (SocketTimeoutException waiting) {
                    refused = false;
                } catch (IOException closed) {
                    refused = true;
                }
                assertThat(refused).as("a 32 MiB SASL message from an unauthenticated client must be refused at its header").isTrue();
            }
        }
    }

    // ---- log forging

    /**
     * The startup user name goes into Warden's stderr log as is: a name with a newline writes a line of the attacker's
     * choosing (here a fake decision line), without authenticating.
     */
    @Test
    void userNameWithNewlineForgesLogLines() throws Exception {
        try (Listener l = listener(settings(1 << 20, Duration.ofSeconds(5)))) {
            String user = "x\" from 10.0.0.1\nINFO decision seq=1 action=allow rule=reads kind=read agent=agent text=SELECT 1";
            verdictMillis(l.fe().port(), user, "nope", 3000);
            Thread.sleep(100);
            assertThat(l.log()).isNotEmpty();
            assertThat(l.log()).noneMatch(line -> line.contains("\n") || line.contains("\r"));
        }
    }

    /** What held: the other sessions keep working throughout (sanity, and a baseline for the tests above). */
    @Test
    void otherSessionsStillWork() throws Exception {
        try (Socket s = RawClient.login(fx.port(), "app", ProxyFixture.AGENT, ProxyFixture.AGENT_SECRET)) {
            var frames = RawClient.exchange(s, new PgWriter().begin('Q').cstring("SELECT 1").end().toByteArray(), 1);
            assertThat(RawClient.types(frames)).contains("D");
        }
    }
}
