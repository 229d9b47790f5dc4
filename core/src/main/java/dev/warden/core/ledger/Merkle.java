package dev.warden.core.ledger;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The RFC 6962 / RFC 9162 Merkle tree over the ledger's entries: leaf hash SHA-256(0x00 ‖ entry), node hash
 * SHA-256(0x01 ‖ left ‖ right), roots, inclusion and consistency proofs and their verification (RFC 9162 2.1).
 */
public final class Merkle {
    public static final int HASH = 32;

    /** Where the leaf hashes come from: the side file, or a list in memory. */
    public interface Leaves {
        long size();

        byte[] leaf(long index);
    }

    private final Leaves leaves;
    // Perfect, aligned subtrees of at least CACHED leaves never change once complete; keep their hashes.
    private static final int CACHED = 256;
    private final Map<Long, byte[]> cache = new ConcurrentHashMap<>();

    public Merkle(Leaves leaves) {
        this.leaves = leaves;
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] leafHash(byte[] entry) {
        return leafHash(sha256(), entry, 0, entry.length);
    }

    public static byte[] leafHash(MessageDigest d, byte[] b, int off, int len) {
        d.reset();
        d.update((byte) 0);
        d.update(b, off, len);
        return d.digest();
    }

    public static byte[] nodeHash(byte[] left, byte[] right) {
        return nodeHash(sha256(), left, right);
    }

    /** With a digest the caller owns (a provider lookup per hash costs more than the hash). */
    public static byte[] nodeHash(MessageDigest d, byte[] left, byte[] right) {
        d.reset();
        d.update((byte) 1);
        d.update(left);
        d.update(right);
        return d.digest();
    }

    public static byte[] emptyRoot() {
        return sha256().digest();
    }

    /** The largest power of two smaller than n (n ≥ 2). */
    static long split(long n) {
        return Long.highestOneBit(n - 1);
    }

    /** MTH(D[from:to]). */
    public byte[] hash(long from, long to) {
        long n = to - from;
        if (n == 0) return emptyRoot();
        if (n == 1) return leaves.leaf(from);
        boolean perfect = Long.bitCount(n) == 1 && from % n == 0 && n >= CACHED;
        Long key = perfect ? (from << 6) | Long.numberOfTrailingZeros(n) : null;
        if (perfect) {
            byte[] c = cache.get(key);
            if (c != null) return c;
        }
        long k = split(n);
        byte[] h = nodeHash(hash(from, from + k), hash(from + k, to));
        if (perfect) cache.put(key, h);
        return h;
    }

    public byte[] root(long size) {
        check(size);
        return hash(0, size);
    }

    /** The audit path for leaf {@code index} in the tree of {@code size} leaves (RFC 9162 2.1.3.1). */
    public List<byte[]> inclusion(long index, long size) {
        check(size);
        if (index < 0 || index >= size) throw new IllegalArgumentException("entry " + index + " is not in a tree of size " + size);
        List<byte[]> out = new ArrayList<>();
        path(index, 0, size, out);
        return out;
    }

    private void path(long m, long from, long to, List<byte[]> out) {
        long n = to - from;
        if (n <= 1) return;
        long k = split(n);
        if (m < k) {
            path(m, from, from + k, out);
            out.add(hash(from + k, to));
        } else {
            path(m - k, from + k, to, out);
            out.add(hash(from, from + k));
        }
    }

    /** The consistency proof between the trees of sizes {@code first} and {@code second} (RFC 9162 2.1.4.1). */
    public List<byte[]> consistency(long first, long second) {
        check(second);
        if (first < 0 || first > second) throw new IllegalArgumentException("size " + first + " is larger than " + second);
        List<byte[]> out = new ArrayList<>();
        if (first == 0 || first == second) return out;
        subproof(first, 0, second, true, out);
        return out;
    }

    private void subproof(long m, long from, long to, boolean whole, List<byte[]> out) {
        long n = to - from;
        if (m == n) {
            if (!whole) out.add(hash(from, to));
            return;
        }
        long k = split(n);
        if (m <= k) {
            subproof(m, from, from + k, whole, out);
            out.add(hash(from + k, to));
        } else {
            subproof(m - k, from + k, to, false, out);
            out.add(hash(from, from + k));
        }
    }

    private void check(long size) {
        if (size < 0 || size > leaves.size()) {
            throw new IllegalArgumentException("the tree has " + leaves.size() + " entries, not " + size);
        }
    }

    /** RFC 9162 2.1.3.2. */
    public static boolean verifyInclusion(long index, long size, byte[] leafHash, List<byte[]> path, byte[] root) {
        if (index < 0 || index >= size) return false;
        long fn = index;
        long sn = size - 1;
        byte[] r = leafHash;
        for (byte[] p : path) {
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                r = nodeHash(p, r);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = nodeHash(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && Arrays.equals(r, root);
    }

    /** RFC 9162 2.1.4.2. */
    public static boolean verifyConsistency(long first, long second, byte[] firstRoot, byte[] secondRoot, List<byte[]> proof) {
        if (first < 0 || first > second) return false;
        if (first == second) return proof.isEmpty() && Arrays.equals(firstRoot, secondRoot);
        if (first == 0) return proof.isEmpty();
        if (proof.isEmpty()) return false;
        List<byte[]> path = new ArrayList<>(proof);
        if (Long.bitCount(first) == 1) path.addFirst(firstRoot);
        long fn = first - 1;
        long sn = second - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        byte[] fr = path.getFirst();
        byte[] sr = path.getFirst();
        for (int i = 1; i < path.size(); i++) {
            byte[] c = path.get(i);
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                fr = nodeHash(c, fr);
                sr = nodeHash(c, sr);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                sr = nodeHash(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return Arrays.equals(fr, firstRoot) && Arrays.equals(sr, secondRoot) && sn == 0;
    }

    /** Leaf hashes held in memory. */
    public static final class MemoryLeaves implements Leaves {
        private final List<byte[]> hashes = new ArrayList<>();

        public void add(byte[] h) { hashes.add(h); }

        @Override public long size() { return hashes.size(); }

        @Override public byte[] leaf(long index) { return hashes.get((int) index); }
    }

    /**
     * The right edge of the tree: the roots of its perfect subtrees, largest first. Enough to compute the current
     * root after each append in O(log n), which is what the writer needs for a checkpoint.
     */
    public static final class Frontier {
        private final List<byte[]> stack = new ArrayList<>();
        private final MessageDigest digest = sha256();
        private long size;

        public void add(byte[] leaf) {
            byte[] h = leaf;
            for (long n = size; (n & 1) == 1; n >>= 1) h = nodeHash(digest, stack.removeLast(), h);
            stack.add(h);
            size++;
        }

        public long size() { return size; }

        public byte[] root() {
            if (stack.isEmpty()) return emptyRoot();
            byte[] r = stack.getLast();
            for (int i = stack.size() - 2; i >= 0; i--) r = nodeHash(stack.get(i), r);
            return r;
        }
    }
}
