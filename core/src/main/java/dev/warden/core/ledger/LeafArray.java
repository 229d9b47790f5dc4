package dev.warden.core.ledger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Leaf hashes in memory, packed 32 bytes each in chunks (a verifier's own recomputation). */
public final class LeafArray implements Merkle.Leaves {
    private static final int PER_CHUNK = 1 << 15;
    private final List<byte[]> chunks = new ArrayList<>();
    private long size;

    public void add(byte[] hash) {
        int at = (int) (size % PER_CHUNK);
        if (at == 0) chunks.add(new byte[PER_CHUNK * Merkle.HASH]);
        System.arraycopy(hash, 0, chunks.getLast(), at * Merkle.HASH, Merkle.HASH);
        size++;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public byte[] leaf(long index) {
        if (index < 0 || index >= size) throw new IllegalArgumentException("no leaf " + index);
        int off = (int) (index % PER_CHUNK) * Merkle.HASH;
        return Arrays.copyOfRange(chunks.get((int) (index / PER_CHUNK)), off, off + Merkle.HASH);
    }
}
