package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Something listening where the database should be (a spoofed address, a port taken over) that starts SCRAM and then
 * skips the step that proves it knows the password. Warden used to accept the AuthenticationOk — and then sent its
 * agents' statements to that server — or answered a switch to cleartext with the upstream password itself.
 */
class UpstreamImpostorTest {
    static final String PASSWORD = "upstream-secret";

    /** Plays the server up to SASLContinue, then {@code next}; returns every byte the client sent after that. */
    static CompletableFuture<String> impostor(ServerSocket server, byte[] next) {
        return CompletableFuture.supplyAsync(() -> {
            try (Socket s = server.accept()) {
                s.setSoTimeout(5000);
                FrameReader r = new FrameReader(s.getInputStream(), 1 << 20);
                r.readUntyped();
                send(s, new PgWriter().begin('R').int32(AuthMessage.SASL).cstring(Scram.MECHANISM).cstring("").end());
                AuthMessage.SaslInitialResponse init = AuthMessage.SaslInitialResponse.read(r.read());
                String clientNonce = Scram.attributes(new String(init.data(), StandardCharsets.UTF_8).substring(3)).get("r");
                String first = "r=" + clientNonce + "impostor,s=" + Base64.getEncoder().encodeToString(new byte[16]) + ",i=4096";
                send(s, new PgWriter().begin('R').int32(AuthMessage.SASL_CONTINUE).bytes(first.getBytes(StandardCharsets.UTF_8)).end());
                r.read(); // the client's proof
                s.getOutputStream().write(next);
                s.getOutputStream().flush();
                s.shutdownOutput();
                return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "impostor failed: " + e;
            }
        });
    }

    static void send(Socket s, PgWriter w) throws IOException {
        s.getOutputStream().write(w.toByteArray());
    }

    static UpstreamConfig config(ServerSocket server) {
        return new UpstreamConfig("127.0.0.1", server.getLocalPort(), "app", "warden", new Secret(PASSWORD));
    }

    @Test
    void anAuthenticationOkWithoutTheServersScramSignatureIsRefused() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            PgWriter ok = new PgWriter().begin('R').int32(AuthMessage.OK).end();
            ok.begin('K').int32(1).int32(2).end();
            ok.begin('Z').bytes(new byte[] {'I'}).end();
            CompletableFuture<String> sent = impostor(server, ok.toByteArray());
            assertThatThrownBy(() -> UpstreamConnection.open(config(server), Map.of(), Duration.ofSeconds(5)).close())
                    .isInstanceOf(IOException.class).hasMessageContaining("without proving it knows the password");
            sent.get();
        }
    }

    @Test
    void aSwitchToCleartextAfterScramBeganGetsNoPassword() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> sent = impostor(server, new PgWriter().begin('R').int32(AuthMessage.CLEARTEXT).end().toByteArray());
            assertThatThrownBy(() -> UpstreamConnection.open(config(server), Map.of(), Duration.ofSeconds(5)).close())
                    .isInstanceOf(IOException.class).hasMessageContaining("without proving it knows the password");
            assertThat(sent.get()).doesNotContain(PASSWORD);
        }
    }
}
