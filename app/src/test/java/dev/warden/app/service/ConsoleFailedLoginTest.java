package dev.warden.app.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.app.config.ConfigLoader;
import dev.warden.core.config.WardenConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A wrong approver token at the console was logged and throttled but left no trace in the ledger, while a wrong
 * agent secret on the wire and a wrong MCP token each leave a denied {@code -- authentication} entry: an auditor
 * looking for someone guessing approver tokens found nothing. Now the console's wrong tokens are entries too.
 */
class ConsoleFailedLoginTest {
    @TempDir
    Path dir;

    @Test
    void aWrongConsoleTokenIsInTheLedger() throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), "rules:\n  - name: reads\n    match: {kind: [read]}\n    action: allow\n");
        Files.writeString(dir.resolve("warden.yaml"), """
                policy: policy.yaml
                agents:
                  - name: bot
                    secret: bot-secret-0123456789
                approvers:
                  - name: alice
                    token: alice-token-0123456789
                console:
                  listen: 127.0.0.1:0
                """);
        WardenConfig cfg = new ConfigLoader(Map.<String, String>of()::get, w -> { }).load(dir.resolve("warden.yaml"));
        try (WardenService s = WardenService.build(cfg, null, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
            String url = s.startConsole();
            HttpClient http = HttpClient.newHttpClient();
            for (String token : List.of("guess-0123456789", "alice-token-0123456789")) {
                http.send(HttpRequest.newBuilder(URI.create(url + "/api/requests")).header("Authorization", "Bearer " + token).build(),
                        HttpResponse.BodyHandlers.ofString());
            }
        }
        List<String> entries;
        try (Stream<Path> files = Files.list(dir.resolve("warden-data/ledger"))) {
            entries = files.filter(p -> p.toString().endsWith(".jsonl")).flatMap(p -> {
                try {
                    return Files.readAllLines(p).stream();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
        assertThat(entries).filteredOn(e -> e.contains("-- authentication")).singleElement().asString()
                .contains("\"engine\":\"console\"").contains("wrong console token from 127.0.0.1").contains("\"deny\"");
    }
}
