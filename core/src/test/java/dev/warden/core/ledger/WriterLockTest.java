package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.Action;
import dev.warden.core.config.LedgerConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Warden processes on one data directory: the second one's start wrote entries into the same ledger, the first
 * one then overwrote them, and the ledger never verified again (found by the README check). The second is refused.
 */
class WriterLockTest {
    @TempDir
    Path dir;

    @Test
    void aSecondProcessOnTheSameDataDirectoryIsRefusedAndTheLedgerStillVerifies() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(r.readLine()).as("the first process appends").isNotNull();
            assertThatThrownBy(() -> FileLedger.open(dir, LedgerConfig.DEFAULTS).close())
                    .isInstanceOf(LedgerException.class).hasMessageContaining("another Warden process is using the data directory");
        } finally {
            p.toHandle().destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        // The operating system let the lock go with the process.
        try (FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS.withSegmentSize(256 * 1024))) {
            l.append(Entries.decision("after", "SELECT 1", Action.ALLOW, "public.t"), Durability.SYNCED);
        }
        LedgerVerifier.Report report = LedgerVerifier.verify(dir, LedgerVerifier.Options.none());
        assertThat(report.ok()).as(report.summary()).isTrue();
    }

    @Test
    void withinOneProcessTheLedgerIsOpenedOnceUntilClosed() throws Exception {
        FileLedger first = FileLedger.open(dir, LedgerConfig.DEFAULTS);
        assertThatThrownBy(() -> FileLedger.open(dir, LedgerConfig.DEFAULTS).close()).isInstanceOf(LedgerException.class);
        first.close();
        FileLedger.open(dir, LedgerConfig.DEFAULTS).close();
    }
    /**
     * POSIX record locks belong to the process, and closing any descriptor of the file drops them: a refused second
     * open in the same JVM (it opened warden.lock, met OverlappingFileLockException, closed its channel) let the lock
     * go while the first ledger was still writing, and another process could then open the directory.
     */
    @Test
    void aRefusedSecondOpenInTheSameProcessKeepsTheLockFromOtherProcesses() throws Exception {
        try (FileLedger first = FileLedger.open(dir, LedgerConfig.DEFAULTS)) {
            assertThatThrownBy(() -> FileLedger.open(dir, LedgerConfig.DEFAULTS).close()).isInstanceOf(LedgerException.class);
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), LockProbe.class.getName(),
                    dir.resolve(WriterLock.FILE).toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String got;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                got = r.readLine();
            } finally {
                p.waitFor(30, TimeUnit.SECONDS);
            }
            assertThat(got).as("another process could take the lock of an open ledger").isEqualTo("refused");
        }
    }

    /** A second process: tries the lock file once and says whether it got it. */
    public static final class LockProbe {
        public static void main(String[] args) throws Exception {
            try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(Path.of(args[0]),
                    java.nio.file.StandardOpenOption.WRITE)) {
                System.out.println(c.tryLock() == null ? "refused" : "taken");
            }
        }
    }
}
