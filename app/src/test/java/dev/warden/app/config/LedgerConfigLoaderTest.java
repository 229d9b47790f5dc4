package dev.warden.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.LedgerConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.yaml.ConfigException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerConfigLoaderTest {
    @TempDir
    Path dir;

    WardenConfig load(String yaml) throws Exception {
        Path f = dir.resolve("warden.yaml");
        Files.writeString(f, "policy: policy.yaml\n" + yaml);
        return new ConfigLoader(k -> null, w -> {}).load(f);
    }

    @Test
    void defaultsWhenAbsent() throws Exception {
        assertThat(load("").ledger()).isEqualTo(LedgerConfig.DEFAULTS);
        LedgerConfig d = LedgerConfig.DEFAULTS;
        assertThat(d.syncAll()).isFalse();
        assertThat(d.segmentSize()).isEqualTo(64L << 20);
        assertThat(d.checkpointInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(d.fsyncInterval()).isEqualTo(Duration.ofMillis(10));
        assertThat(d.redactLiterals()).isFalse();
    }

    @Test
    void everyKey() throws Exception {
        LedgerConfig l = load("""
                ledger:
                  sync: all
                  segment_size: 16MB
                  checkpoint_interval: 500ms
                  fsync_interval: 5ms
                  signing_key: keys/ledger.key
                  origin: example.com/warden
                  witnesses:
                    - file: /mnt/other/warden.witness
                    - url: https://witness.example.com/add-checkpoint
                  redact_literals: true
                """).ledger();
        assertThat(l.syncAll()).isTrue();
        assertThat(l.segmentSize()).isEqualTo(16L << 20);
        assertThat(l.checkpointInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(l.fsyncInterval()).isEqualTo(Duration.ofMillis(5));
        assertThat(l.signingKey()).contains(dir.resolve("keys/ledger.key"));
        assertThat(l.origin()).contains("example.com/warden");
        assertThat(l.witnesses()).containsExactly(new LedgerConfig.WitnessConfig.File(Path.of("/mnt/other/warden.witness")),
                new LedgerConfig.WitnessConfig.Url(URI.create("https://witness.example.com/add-checkpoint")));
        assertThat(l.redactLiterals()).isTrue();
        assertThat(load("ledger:\n  segment_size: 1048576\n").ledger().segmentSize()).isEqualTo(1048576);
    }

    @Test
    void errorsNameFileLineAndKey() {
        Path f = dir.resolve("warden.yaml");
        assertThatThrownBy(() -> load("ledger:\n  sync: sometimes\n")).isInstanceOf(ConfigException.class)
                .hasMessage(f + ":3: ledger.sync: expected 'default' or 'all', got 'sometimes'");
        assertThatThrownBy(() -> load("ledger:\n  fsync: all\n")).hasMessageStartingWith(f + ":3: ledger.fsync: unknown key");
        assertThatThrownBy(() -> load("ledger:\n  segment_size: lots\n")).hasMessageStartingWith(f + ":3: ledger.segment_size: expected a size");
        assertThatThrownBy(() -> load("ledger:\n  segment_size: 100\n")).hasMessage(f + ":3: ledger.segment_size: must be at least 4096 bytes");
        assertThatThrownBy(() -> load("ledger:\n  segment_size: 2GiB\n")).hasMessageStartingWith(f + ":3: ledger.segment_size: must be at most 1GiB");
        assertThatThrownBy(() -> load("ledger:\n  checkpoint_interval: 0s\n")).hasMessage(f + ":3: ledger.checkpoint_interval: must be more than zero");
        assertThatThrownBy(() -> load("ledger:\n  witnesses:\n    - url: ftp://x\n")).hasMessageStartingWith(f + ":4: ledger.witnesses[0].url: expected an http");
        assertThatThrownBy(() -> load("ledger:\n  witnesses:\n    - file: warden-data/w\n")).hasMessageStartingWith(f + ":4: ledger.witnesses[0].file: a witness file must be outside");
        assertThatThrownBy(() -> load("ledger:\n  witnesses:\n    - {file: a, url: http://x}\n")).hasMessageStartingWith(f + ":4: ledger.witnesses[0]: give exactly one");
        assertThatThrownBy(() -> load("ledger:\n  redact_literals: maybe\n")).hasMessage(f + ":3: ledger.redact_literals: expected true or false");
    }
}
