package dev.warden.app.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.app.config.ConfigLoader;
import dev.warden.core.config.WardenConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rule that names a tag, agent or database the configuration does not have never matches on it, and nothing said
 * so: a typo in a deny rule ({@code tags: [pi]} for {@code pii}) silently let through what it was written to stop
 * (found by the README check: a report agent denied "pi" read users.email). Warden now warns at start and at reload.
 */
class UnknownNamesInPolicyTest {
    @TempDir
    Path dir;

    @Test
    void aRuleNamingWhatTheConfigurationLacksIsWarnedAbout() throws Exception {
        String log = build("""
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: no-pii-for-reports
                    match: { agent: [report-agnet], tags: [pi] }
                    action: deny
                  - name: no-prod
                    match: { database: ["prod*"] }
                    action: deny
                """);
        assertThat(log).contains("rule \"no-pii-for-reports\"").contains("'pi'").contains("report-agnet")
                .contains("rule \"no-prod\"").contains("prod*");
    }

    @Test
    void namesTheConfigurationHasAreNotWarnedAbout() throws Exception {
        String log = build("""
                rules:
                  - name: no-pii-for-reports
                    match: { agent: ["report-*"], tags: [pii], database: [app] }
                    action: deny
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                """);
        assertThat(log).doesNotContain("no-pii-for-reports");
    }

    @Test
    void warnsInCheckWithAConfigurationToo() throws Exception {
        build("""
                rules:
                  - name: no-pii
                    match: { tags: [pi] }
                    action: deny
                """);
        PrintStream err = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setErr(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            dev.warden.app.cli.WardenCommand.run("check", "--config", dir.resolve("warden.yaml").toString(), "--engine",
                    "postgres", "--json", "SELECT 1");
        } finally {
            System.setErr(err);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("rule \"no-pii\" names the tag 'pi'");
    }

    private String build(String policy) throws Exception {
        Files.writeString(dir.resolve("policy.yaml"), policy);
        Files.writeString(dir.resolve("warden.yaml"), """
                policy: policy.yaml
                agents:
                  - name: report-agent
                    secret: report-secret-0123456789
                databases:
                  - name: app
                    engine: postgres
                    listen: 127.0.0.1:0
                    upstream: { host: 127.0.0.1, port: 1, database: app, user: u, password: p }
                tags:
                  pii: ["public.users.email"]
                """);
        WardenConfig cfg = new ConfigLoader(Map.<String, String>of()::get, w -> { }).load(dir.resolve("warden.yaml"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (WardenService s = WardenService.build(cfg, null, new PrintStream(out, true, StandardCharsets.UTF_8))) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }
}
