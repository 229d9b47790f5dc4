package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.config.LedgerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM appends under load and is killed with SIGKILL; every append that returned before the kill is in the
 * ledger afterwards, with its own content, and the ledger verifies.
 */
class CrashTest {
    @TempDir
    Path dir;

    @Test
    void everyReturnedAppendSurvivesKill9() throws Exception {
        for (int round = 0; round < 2; round++) {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(), dir.toString())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Map<Long, String> acked = new HashMap<>();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String[] parts = line.split(" ");
                    acked.put(Long.parseLong(parts[0]), parts[1]);
                    if (acked.size() == 3000) p.toHandle().destroyForcibly(); // SIGKILL on Linux; keeps the pipe open to read what was acked
                }
            }
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isEqualTo(137);
            assertThat(acked.size()).isGreaterThanOrEqualTo(3000);

            try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS.withSegmentSize(256 * 1024))) {
                assertThat(l.size()).isGreaterThan(acked.keySet().stream().mapToLong(Long::longValue).max().getAsLong());
            }
            LedgerReader reader = new LedgerReader(dir);
            int[] found = {0};
            reader.forEach(0, line -> {
                Map<String, Object> m = line.parse();
                String marker = acked.get((Long) m.get("seq"));
                if (marker != null) {
                    assertThat((String) m.get("statement")).isEqualTo("SELECT '" + marker + "'");
                    found[0]++;
                }
                return true;
            });
            assertThat(found[0]).isEqualTo(acked.size());
            LedgerVerifier.Report report = LedgerVerifier.verify(dir, LedgerVerifier.Options.none());
            assertThat(report.ok()).as(report.summary()).isTrue();
        }
    }
}
