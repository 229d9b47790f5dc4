package dev.warden.core.ledger;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * Somewhere outside the Warden host that keeps a copy of the checkpoints, so that deleting the newest entries
 * together with the local checkpoints is still detected.
 */
public sealed interface Witness {
    /**
     * Pushes a checkpoint. {@code proof} gives a consistency proof from the witness's last known size, for
     * witnesses that check it. Throws on failure; the ledger reports it and keeps going.
     */
    void push(Checkpoint checkpoint, ProofSource proof) throws IOException;

    String describe();

    interface ProofSource {
        List<byte[]> consistency(long from, long to);
    }

    /** An append-only file, on another mount or host: the same note format as the local checkpoint log. */
    record FileWitness(Path file) implements Witness {
        @Override
        public void push(Checkpoint checkpoint, ProofSource proof) throws IOException {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                ByteBuffer b = ByteBuffer.wrap((checkpoint.note() + "\n").getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) ch.write(b);
                ch.force(false);
            }
        }

        @Override
        public String describe() {
            return "file " + file;
        }
    }

    /**
     * An HTTP endpoint speaking the C2SP {@code tlog-witness} {@code add-checkpoint} request: a POST whose body is
     * {@code old <size>}, the consistency proof lines, a blank line and the checkpoint. A 409 answer carries the
     * witness's size ({@code text/x.tlog.size}); the push is then repeated once from that size.
     */
    final class HttpWitness implements Witness {
        private final URI uri;
        private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        private volatile long known;

        public HttpWitness(URI uri) {
            this.uri = uri;
        }

        @Override
        public void push(Checkpoint checkpoint, ProofSource proof) throws IOException {
            for (int attempt = 0; attempt < 2; attempt++) {
                long old = Math.min(known, checkpoint.size());
                StringBuilder body = new StringBuilder("old ").append(old).append('\n');
                for (byte[] h : proof.consistency(old, checkpoint.size())) body.append(Base64.getEncoder().encodeToString(h)).append('\n');
                body.append('\n').append(checkpoint.note());
                HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "text/plain; charset=utf-8")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
                HttpResponse<String> resp;
                try {
                    resp = client.send(req, HttpResponse.BodyHandlers.ofString());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                }
                if (resp.statusCode() / 100 == 2) {
                    known = checkpoint.size();
                    return;
                }
                if (resp.statusCode() == 409) {
                    try {
                        known = Long.parseLong(resp.body().strip());
                        continue;
                    } catch (NumberFormatException e) {
                        throw new IOException(uri + " answered 409 without a size");
                    }
                }
                throw new IOException(uri + " answered " + resp.statusCode());
            }
            throw new IOException(uri + " refused the checkpoint twice");
        }

        @Override
        public String describe() {
            return "url " + uri;
        }
    }
}
