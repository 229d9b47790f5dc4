package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.config.LedgerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecoveryTest {
    @TempDir
    Path dir;

    @Test
    void aTornLastLineIsQuarantinedAndRecorded() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            for (int i = 0; i < 5; i++) l.append(Entries.read(i), Durability.SYNCED);
        }
        Path seg = LedgerDir.of(dir).segment(0);
        long valid = Files.size(seg);
        String torn = "{\"agent\":\"agent-1\",\"classification\":{\"ki";
        Files.writeString(seg, torn, StandardOpenOption.APPEND);

        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            assertThat(l.size()).isEqualTo(6);
            assertThat(l.append(Entries.read(9), Durability.SYNCED)).isEqualTo(6);
        }
        List<String> lines = Files.readAllLines(seg);
        assertThat(lines).hasSize(7);
        Map<String, Object> rec = EntryLines.parse(lines.get(5).getBytes(StandardCharsets.UTF_8));
        assertThat(rec).containsEntry("type", "recovery").containsEntry("seq", 5L)
                .containsEntry("segment", "00000000000000000000.jsonl").containsEntry("valid_bytes", valid)
                .containsEntry("quarantined_bytes", (long) torn.length());
        Path q = LedgerDir.of(dir).dir().resolve((String) rec.get("quarantine_file"));
        assertThat(Files.readString(q)).isEqualTo(torn);
        try (Stream<Path> s = Files.list(LedgerDir.of(dir).dir())) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("quarantine-")).count()).isEqualTo(1);
        }
        LedgerVerifier.Report r = LedgerVerifier.verify(dir, LedgerVerifier.Options.none());
        assertThat(r.ok()).as(r.summary()).isTrue();
        assertThat(r.entries()).isEqualTo(7);
    }

    @Test
    void aZeroFilledTailAfterPowerLossIsQuarantinedToo() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            for (int i = 0; i < 3; i++) l.append(Entries.read(i), Durability.SYNCED);
        }
        Path seg = LedgerDir.of(dir).segment(0);
        Files.write(seg, new byte[] {0, 0, 0, 0, '\n', 0, 0}, StandardOpenOption.APPEND);
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            assertThat(l.size()).isEqualTo(4);
        }
        assertThat(LedgerVerifier.verify(dir, LedgerVerifier.Options.none()).ok()).isTrue();
    }

    @Test
    void aTornCheckpointIsQuarantinedAndTheLedgerOpens() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            l.append(Entries.read(0), Durability.SYNCED);
        }
        Files.writeString(LedgerDir.of(dir).checkpoints(), "warden/x\n1\nAAAA", StandardOpenOption.APPEND);
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            l.append(Entries.read(1), Durability.SYNCED);
        }
        LedgerVerifier.Report r = LedgerVerifier.verify(dir, LedgerVerifier.Options.none());
        assertThat(r.ok()).as(r.summary()).isTrue();
    }

    @Test
    void aLedgerThatDoesNotMatchItsCheckpointRefusesToOpen() throws Exception {
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            for (int i = 0; i < 3; i++) l.append(Entries.read(i), Durability.SYNCED);
        }
        Path seg = LedgerDir.of(dir).segment(0);
        List<String> lines = Files.readAllLines(seg);
        Files.writeString(seg, lines.get(0) + "\n");
        Files.delete(LedgerDir.of(dir).leaves());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FileLedger.open(dir, LedgerConfig.DEFAULTS))
                .isInstanceOf(LedgerException.class).hasMessageContaining("entries were deleted");
    }
}
