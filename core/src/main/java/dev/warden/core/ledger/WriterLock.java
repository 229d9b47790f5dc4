package dev.warden.core.ledger;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A data directory has one writer: an exclusive lock on {@code <data_dir>/warden.lock}, held by the process that
 * writes its ledger until it closes it, and let go by the operating system if that process dies. A second Warden on
 * the same directory would append to the same segment from another tree state and leave a ledger that no longer
 * verifies; it is refused at start instead.
 */
final class WriterLock implements AutoCloseable {
    static final String FILE = "warden.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private WriterLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static WriterLock acquire(Path dataDir) throws IOException, LedgerException {
        Path file = dataDir.resolve(FILE);
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException sameProcess) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new LedgerException("another Warden process is using the data directory " + dataDir + " (it holds "
                    + file + "); stop it first, or give this one a data_dir of its own");
        }
        return new WriterLock(channel, lock);
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel lets it go anyway
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing more to let go
        }
    }
}
