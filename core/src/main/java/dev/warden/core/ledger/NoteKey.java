package dev.warden.core.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

/**
 * An Ed25519 key for C2SP signed notes, in the text formats of Go's {@code golang.org/x/mod/sumdb/note}:
 * private {@code PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>}, public (verifier)
 * {@code <name>+<hash>+<base64(0x01 ‖ public key)>}, where hash is the key id: the first four bytes of
 * SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key). Only the JDK's own crypto is used.
 */
public final class NoteKey {
    private static final byte ALG_ED25519 = 1;
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private final String name;
    private final byte[] publicKey;
    private final PrivateKey privateKey;
    private final PublicKey jcaPublic;
    private final byte[] seed;

    private NoteKey(String name, byte[] publicKey, PrivateKey privateKey, byte[] seed) {
        this.seed = seed;
        this.name = name;
        this.publicKey = publicKey;
        this.privateKey = privateKey;
        this.jcaPublic = publicKey(publicKey);
    }

    /** The same key, verifying only. */
    public NoteKey publicOnly() {
        return new NoteKey(name, publicKey, null, null);
    }

    /** Verifying only. */
    public static NoteKey verifier(String vkey) {
        String[] p = vkey.strip().split("\\+", 3);
        if (p.length != 3) throw new IllegalArgumentException("not a note verifier key (name+hash+key)");
        byte[] k = Base64.getDecoder().decode(p[2]);
        if (k.length != 33 || k[0] != ALG_ED25519) throw new IllegalArgumentException("not an Ed25519 verifier key");
        NoteKey key = new NoteKey(p[0], Arrays.copyOfRange(k, 1, 33), null, null);
        if (!HexFormat.of().formatHex(key.keyId()).equals(p[1])) throw new IllegalArgumentException("the verifier key's hash does not match its key");
        return key;
    }

    public static NoteKey generate(String name) {
        byte[] seed = new byte[32];
        new SecureRandom().nextBytes(seed);
        return fromSeed(name, seed);
    }

    public static NoteKey fromSeed(String name, byte[] seed) {
        checkName(name);
        try {
            // The JDK derives an Ed25519 key pair from 32 random bytes; giving it the seed derives the public key.
            KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
            g.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
                @Override
                public void nextBytes(byte[] bytes) {
                    System.arraycopy(seed, 0, bytes, 0, Math.min(bytes.length, seed.length));
                }
            });
            KeyPair kp = g.generateKeyPair();
            byte[] enc = kp.getPublic().getEncoded();
            byte[] pub = Arrays.copyOfRange(enc, enc.length - 32, enc.length);
            byte[] pkcs8 = new byte[PKCS8_PREFIX.length + 32];
            System.arraycopy(PKCS8_PREFIX, 0, pkcs8, 0, PKCS8_PREFIX.length);
            System.arraycopy(seed, 0, pkcs8, PKCS8_PREFIX.length, 32);
            PrivateKey priv = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            return new NoteKey(name, pub, priv, seed.clone());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is not available: " + e, e);
        }
    }

    /** Reads a private key file ({@code PRIVATE+KEY+…}). */
    public static NoteKey readPrivate(Path file) throws IOException {
        String s = Files.readString(file, StandardCharsets.UTF_8).strip();
        String[] p = s.split("\\+", 5);
        if (p.length != 5 || !p[0].equals("PRIVATE") || !p[1].equals("KEY")) {
            throw new IOException(file + ": not a note signing key (PRIVATE+KEY+name+hash+key)");
        }
        byte[] k;
        try {
            k = Base64.getDecoder().decode(p[4]);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the key is not base64");
        }
        if (k.length != 33 || k[0] != ALG_ED25519) throw new IOException(file + ": not an Ed25519 signing key");
        NoteKey key = fromSeed(p[2], Arrays.copyOfRange(k, 1, 33));
        if (!HexFormat.of().formatHex(key.keyId()).equals(p[3])) throw new IOException(file + ": the key's hash does not match the key");
        return key;
    }

    /** Writes the private key with mode 0600 (created so, never readable by others in between). */
    public void writePrivate(Path file) throws IOException {
        if (seed == null) throw new IllegalStateException("a verifier key has no private part");
        Files.createDirectories(file.toAbsolutePath().getParent());
        String text = "PRIVATE+KEY+" + name + "+" + HexFormat.of().formatHex(keyId()) + "+"
                + Base64.getEncoder().encodeToString(concat(new byte[] {ALG_ED25519}, seed)) + "\n";
        Set<PosixFilePermission> owner = PosixFilePermissions.fromString("rw-------");
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(owner));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
    }

    public String name() { return name; }

    public byte[] publicKey() { return publicKey.clone(); }

    public boolean canSign() { return privateKey != null; }

    /** The first four bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key). */
    public byte[] keyId() {
        var d = Merkle.sha256();
        d.update(name.getBytes(StandardCharsets.UTF_8));
        d.update((byte) '\n');
        d.update(ALG_ED25519);
        d.update(publicKey);
        return Arrays.copyOf(d.digest(), 4);
    }

    /** The verifier key line, {@code name+hash+base64(0x01 ‖ key)}. */
    public String verifierKey() {
        return name + "+" + HexFormat.of().formatHex(keyId()) + "+"
                + Base64.getEncoder().encodeToString(concat(new byte[] {ALG_ED25519}, publicKey));
    }

    public byte[] sign(byte[] message) {
        if (privateKey == null) throw new IllegalStateException("a verifier key cannot sign");
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean verify(byte[] message, byte[] signature) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(jcaPublic);
            s.update(message);
            return s.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static PublicKey publicKey(byte[] raw) {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(concat(X509_PREFIX, raw)));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 public key", e);
        }
    }

    static void checkName(String name) {
        if (name.isEmpty() || name.contains("+") || name.chars().anyMatch(c -> c <= ' ')) {
            throw new IllegalArgumentException("a key name must be non-empty, without spaces or '+': '" + name + "'");
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
