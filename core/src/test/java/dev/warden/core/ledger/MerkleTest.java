package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tree against the RFC 6962 test data (the eight leaves used by Certificate Transparency), with the expected
 * roots and proofs computed here by a separate, literal transcription of the RFC's recursive definitions, and
 * checked against the published roots.
 */
class MerkleTest {
    static final List<byte[]> INPUTS = List.of(hex(""), hex("00"), hex("10"), hex("2021"), hex("3031"), hex("40414243"),
            hex("5051525354555657"), hex("606162636465666768696a6b6c6d6e6f"));

    static final String[] PUBLISHED_ROOTS = {
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

    // --- the RFC's definitions, written out on byte arrays (RFC 6962 2.1, 2.1.1, 2.1.2) ---

    static byte[] sha(byte[]... parts) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        for (byte[] p : parts) d.update(p);
        return d.digest();
    }

    static byte[] mth(List<byte[]> d) throws Exception {
        int n = d.size();
        if (n == 0) return sha();
        if (n == 1) return sha(new byte[] {0}, d.get(0));
        int k = 1;
        while (k * 2 < n) k *= 2;
        return sha(new byte[] {1}, mth(d.subList(0, k)), mth(d.subList(k, n)));
    }

    static List<byte[]> path(int m, List<byte[]> d) throws Exception {
        int n = d.size();
        List<byte[]> out = new ArrayList<>();
        if (n == 1) return out;
        int k = 1;
        while (k * 2 < n) k *= 2;
        if (m < k) {
            out.addAll(path(m, d.subList(0, k)));
            out.add(mth(d.subList(k, n)));
        } else {
            out.addAll(path(m - k, d.subList(k, n)));
            out.add(mth(d.subList(0, k)));
        }
        return out;
    }

    static List<byte[]> subproof(int m, List<byte[]> d, boolean b) throws Exception {
        int n = d.size();
        List<byte[]> out = new ArrayList<>();
        if (m == n) {
            if (!b) out.add(mth(d));
            return out;
        }
        int k = 1;
        while (k * 2 < n) k *= 2;
        if (m <= k) {
            out.addAll(subproof(m, d.subList(0, k), b));
            out.add(mth(d.subList(k, n)));
        } else {
            out.addAll(subproof(m - k, d.subList(k, n), false));
            out.add(mth(d.subList(0, k)));
        }
        return out;
    }

    static Merkle tree(List<byte[]> inputs) {
        Merkle.MemoryLeaves leaves = new Merkle.MemoryLeaves();
        for (byte[] i : inputs) leaves.add(Merkle.leafHash(i));
        return new Merkle(leaves);
    }

    @Test
    void rootsMatchTheRfcDefinitionAndThePublishedRoots() throws Exception {
        Merkle t = tree(INPUTS);
        Merkle.Frontier f = new Merkle.Frontier();
        assertThat(hex(f.root())).isEqualTo(PUBLISHED_ROOTS[0]);
        for (int n = 0; n <= 8; n++) {
            assertThat(hex(mth(INPUTS.subList(0, n)))).as("definition, size %d", n).isEqualTo(PUBLISHED_ROOTS[n]);
            assertThat(hex(t.root(n))).as("tree, size %d", n).isEqualTo(PUBLISHED_ROOTS[n]);
            if (n > 0) {
                f.add(Merkle.leafHash(INPUTS.get(n - 1)));
                assertThat(hex(f.root())).as("frontier, size %d", n).isEqualTo(PUBLISHED_ROOTS[n]);
            }
        }
    }

    @Test
    void inclusionProofsMatchTheDefinitionAndVerify() throws Exception {
        Merkle t = tree(INPUTS);
        for (int n = 1; n <= 8; n++) {
            for (int m = 0; m < n; m++) {
                List<byte[]> expected = path(m, INPUTS.subList(0, n));
                List<byte[]> got = t.inclusion(m, n);
                assertThat(hexes(got)).as("PATH(%d, D[%d])", m, n).isEqualTo(hexes(expected));
                byte[] leaf = Merkle.leafHash(INPUTS.get(m));
                assertThat(Merkle.verifyInclusion(m, n, leaf, got, t.root(n))).isTrue();
                assertThat(Merkle.verifyInclusion(m, n, Merkle.leafHash(hex("ff")), got, t.root(n))).isFalse();
                if (!got.isEmpty()) {
                    List<byte[]> bad = new ArrayList<>(got);
                    bad.set(0, flip(bad.get(0)));
                    assertThat(Merkle.verifyInclusion(m, n, leaf, bad, t.root(n))).isFalse();
                }
            }
        }
        // Published values: leaf 0 and leaf 5 in the tree of 8.
        assertThat(hexes(t.inclusion(0, 8))).containsExactly("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4");
        assertThat(hexes(t.inclusion(5, 8))).containsExactly("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
    }

    @Test
    void consistencyProofsMatchTheDefinitionAndVerify() throws Exception {
        Merkle t = tree(INPUTS);
        for (int n = 1; n <= 8; n++) {
            for (int m = 1; m <= n; m++) {
                List<byte[]> expected = m == n ? List.of() : subproof(m, INPUTS.subList(0, n), true);
                List<byte[]> got = t.consistency(m, n);
                assertThat(hexes(got)).as("PROOF(%d, D[%d])", m, n).isEqualTo(hexes(expected));
                assertThat(Merkle.verifyConsistency(m, n, t.root(m), t.root(n), got)).as("verify %d->%d", m, n).isTrue();
                if (m < n) {
                    assertThat(Merkle.verifyConsistency(m, n, flip(t.root(m)), t.root(n), got)).isFalse();
                    assertThat(Merkle.verifyConsistency(m, n, t.root(m), flip(t.root(n)), got)).isFalse();
                }
            }
        }
        assertThat(hexes(t.consistency(6, 8))).containsExactly("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");
        assertThat(hexes(t.consistency(2, 5))).containsExactly("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
    }

    @Test
    void largerTreesAgreeWithTheDefinition() throws Exception {
        List<byte[]> in = new ArrayList<>();
        for (int i = 0; i < 300; i++) in.add(new byte[] {(byte) i, (byte) (i >> 8), 7});
        Merkle t = tree(in);
        for (int n : new int[] {1, 2, 3, 127, 128, 129, 255, 256, 257, 300}) {
            assertThat(hex(t.root(n))).isEqualTo(hex(mth(in.subList(0, n))));
            for (int m : new int[] {0, n / 2, n - 1}) {
                assertThat(Merkle.verifyInclusion(m, n, Merkle.leafHash(in.get(m)), t.inclusion(m, n), t.root(n))).isTrue();
            }
            for (int m : new int[] {1, n / 3 + 1, n}) {
                if (m > n) continue;
                assertThat(Merkle.verifyConsistency(m, n, t.root(m), t.root(n), t.consistency(m, n))).isTrue();
            }
        }
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static List<String> hexes(List<byte[]> l) {
        return l.stream().map(MerkleTest::hex).toList();
    }

    static byte[] flip(byte[] b) {
        byte[] c = Arrays.copyOf(b, b.length);
        c[0] ^= 1;
        return c;
    }
}
