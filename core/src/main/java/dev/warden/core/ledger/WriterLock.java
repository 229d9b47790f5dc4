package dev.warden.core.ledger;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A data directory has one writer: an exclusive lock on {@code <data_dir>/warden.lock}, held by the process that
 * writes its ledger until it closes it, and let go by the operating system if that process dies. A second Warden on
 * the same directory would append to the same segment from another tree state and leave a ledger that no longer
 * verifies; it is refused at start instead.
 */
final class WriterLock implements AutoCloseable {
    static final String FILE = "warden.lock";

    /**
     * Data directories this JVM holds, checked before the lock file is touched: the lock is a POSIX record lock, which
     * belongs to the process and is dropped when any descriptor of the file is closed, so a second acquire that
     * opened the file only to be refused let the first holder's lock go while its ledger was still writing.
     */
    private static final Set<Path> HELD = ConcurrentHashMap.newKeySet();

    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;

    private WriterLock(Path key, FileChannel channel, FileLock lock) {
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    static WriterLock acquire(Path dataDir) throws IOException, LedgerException {
        Path file = dataDir.resolve(FILE);
        Path key = dataDir.toRealPath();
        if (!HELD.add(key)) throw taken(dataDir, file);
        try {
            return lock(key, dataDir, file);
        } catch (IOException | LedgerException | RuntimeException e) {
            HELD.remove(key);
            throw e;
        }
    }

    private static WriterLock lock(Path key, Path dataDir, Path file) throws IOException, LedgerException {
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
            throw taken(dataDir, file);
        }
        return new WriterLock(key, channel, lock);
    }

    private static LedgerException taken(Path dataDir, Path file) {
        return new LedgerException("another Warden process is using the data directory " + dataDir + " (it holds "
                + file + "); stop it first, or give this one a data_dir of its own");
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
        } finally {
            HELD.remove(key);
        }
    }
}
