package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.warden.core.config.LedgerConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small witness that follows the C2SP tlog-witness add-checkpoint rules: it answers 409 with its own size when
 * the request's {@code old} differs, checks the signature and the consistency proof from what it saw before, and
 * only then takes the new checkpoint.
 */
class HttpWitnessTest {
    @TempDir
    Path dir;

    @Test
    void checkpointsArePushedWithConsistencyProofsAndChecked() throws Exception {
        List<Checkpoint> accepted = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        NoteKey[] key = new NoteKey[1];
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/add-checkpoint", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String[] parts = body.split("\n\n", 2);
            List<String> head = List.of(parts[0].split("\n"));
            long old = Long.parseLong(head.get(0).substring(4));
            Checkpoint cp = Checkpoint.parse(parts[1]);
            long mine = accepted.isEmpty() ? 0 : accepted.getLast().size();
            int status;
            String answer = "";
            synchronized (accepted) {
                if (old != mine) {
                    status = 409;
                    answer = mine + "\n";
                } else if (key[0] == null || !cp.signedBy(key[0])) {
                    status = 403;
                } else {
                    List<byte[]> proof = head.subList(1, head.size()).stream().map(Base64.getDecoder()::decode).toList();
                    byte[] oldRoot = accepted.isEmpty() ? Merkle.emptyRoot() : accepted.getLast().root();
                    if (Merkle.verifyConsistency(old, cp.size(), oldRoot, cp.root(), proof)) {
                        accepted.add(cp);
                        status = 200;
                    } else {
                        refused.add(body);
                        status = 422;
                    }
                }
            }
            byte[] b = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "text/x.tlog.size");
            ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
            if (b.length > 0) ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        try {
            URI uri = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/add-checkpoint");
            LedgerConfig cfg = LedgerConfig.DEFAULTS.withCheckpointInterval(Duration.ofHours(1))
                    .withWitnesses(List.of(new LedgerConfig.WitnessConfig.Url(uri)));
            try (FileLedger l = FileLedger.open(dir, cfg)) {
                key[0] = NoteKey.verifier(l.verifierKey());
                for (int round = 0; round < 3; round++) {
                    for (int i = 0; i < 7; i++) l.append(Entries.read(i), Durability.SYNCED);
                    l.checkpointNow();
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (accepted.size() <= round && System.nanoTime() < deadline) Thread.sleep(10);
                }
                assertThat(l.witnessProblems()).isEmpty();
            }
            assertThat(refused).isEmpty();
            assertThat(accepted).extracting(Checkpoint::size).containsExactly(7L, 14L, 21L);
            assertThat(Files.readString(LedgerDir.of(dir).checkpoints())).endsWith(accepted.getLast().note() + "\n");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void anUnreachableWitnessIsReportedWithoutStoppingTheLedger() throws Exception {
        LedgerConfig cfg = LedgerConfig.DEFAULTS.withCheckpointInterval(Duration.ofHours(1))
                .withWitnesses(List.of(new LedgerConfig.WitnessConfig.Url(URI.create("http://127.0.0.1:1/add-checkpoint"))));
        try (FileLedger l = FileLedger.open(dir, cfg)) {
            l.append(Entries.read(0), Durability.SYNCED);
            l.checkpointNow();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (l.witnessProblems().isEmpty() && System.nanoTime() < deadline) Thread.sleep(10);
            assertThat(l.witnessProblems()).singleElement().asString().startsWith("url http://127.0.0.1:1/add-checkpoint: ");
            // Said where an operator looks: /metrics (it was kept in memory only, read by nothing).
            assertThat(dev.warden.core.metrics.Metrics.shared().render()).contains("warden_ledger_witnesses_failing 1");
            assertThat(l.healthy()).isTrue();
            assertThat(l.append(Entries.read(1), Durability.SYNCED)).isEqualTo(1);
        }
    }
}
