package dev.warden.core.ledger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The side file of leaf hashes, 32 bytes per entry in log order. It holds nothing that the entries do not: it can
 * always be rebuilt from them, and the verifier never trusts it (it only uses it to name which entry changed).
 */
public final class LeafFile implements Merkle.Leaves, AutoCloseable {
    private final FileChannel ch;
    private volatile long size;

    private LeafFile(FileChannel ch, long size) {
        this.ch = ch;
        this.size = size;
    }

    public static LeafFile open(Path file, boolean write) throws IOException {
        FileChannel ch = write
                ? FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)
                : FileChannel.open(file, StandardOpenOption.READ);
        return new LeafFile(ch, ch.size() / Merkle.HASH);
    }

    /** How many whole hashes the file holds. */
    @Override
    public long size() {
        return size;
    }

    /** Limits the visible size (readers must not see hashes beyond a checkpointed tree). */
    public void truncate(long n) throws IOException {
        ch.truncate(n * Merkle.HASH);
        size = n;
    }

    @Override
    public byte[] leaf(long index) {
        if (index < 0 || index >= size) throw new IllegalArgumentException("no leaf " + index);
        ByteBuffer b = ByteBuffer.allocate(Merkle.HASH);
        try {
            long pos = index * Merkle.HASH;
            while (b.hasRemaining()) {
                int n = ch.read(b, pos + b.position());
                if (n < 0) throw new IOException("the leaf hash file is shorter than expected");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.array();
    }

    /** Reads {@code count} hashes from {@code index} on into {@code dst}, in one read where the file allows. */
    public void read(long index, byte[] dst, int count) throws IOException {
        if (index < 0 || count < 0 || index + count > size) throw new IllegalArgumentException("no leaves " + index + "+" + count);
        ByteBuffer b = ByteBuffer.wrap(dst, 0, count * Merkle.HASH);
        long pos = index * Merkle.HASH;
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) throw new IOException("the leaf hash file is shorter than expected");
        }
    }

    /** Appends hashes (a multiple of 32 bytes) at the end. */
    public void append(byte[] hashes, int len) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(hashes, 0, len);
        long pos = size * Merkle.HASH;
        while (b.hasRemaining()) pos += ch.write(b, pos);
        size += len / Merkle.HASH;
    }

    @Override
    public void close() {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing to lose: the file can be rebuilt
        }
    }
}
