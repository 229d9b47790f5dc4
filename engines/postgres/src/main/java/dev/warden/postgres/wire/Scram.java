package dev.warden.postgres.wire;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/** SCRAM-SHA-256 (RFC 5802, RFC 7677) primitives shared by the server side (agents) and the client side (upstream). */
public final class Scram {
    public static final String MECHANISM = "SCRAM-SHA-256";
    public static final int ITERATIONS = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Scram() {}

    /** The keys a server keeps for one secret. */
    public record Keys(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
        public static Keys derive(String secret, byte[] salt, int iterations) {
            byte[] salted = saltedPassword(secret, salt, iterations);
            byte[] clientKey = hmac(salted, "Client Key");
            return new Keys(salt, iterations, sha256(clientKey), hmac(salted, "Server Key"));
        }

        public static Keys generate(String secret) {
            byte[] salt = new byte[16];
            RANDOM.nextBytes(salt);
            return derive(secret, salt, ITERATIONS);
        }
    }

    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    public static String nonce() {
        byte[] b = new byte[18];
        RANDOM.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    public static byte[] saltedPassword(String secret, byte[] salt, int iterations) {
        try {
            // SASLprep is skipped: PostgreSQL falls back to the raw bytes for strings it cannot normalize, and ASCII
            // secrets are unchanged by it.
            PBEKeySpec spec = new PBEKeySpec(secret.toCharArray(), salt, iterations, 256);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] hmac(byte[] key, String data) {
        return hmac(key, data.getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] xor(byte[] a, byte[] b) {
        byte[] r = new byte[a.length];
        for (int i = 0; i < a.length; i++) r[i] = (byte) (a[i] ^ b[i]);
        return r;
    }

    /** Parses {@code k=v,k=v}; values may contain '='. */
    public static Map<String, String> attributes(String s) throws ProtocolException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : s.split(",", -1)) {
            if (part.length() < 2 || part.charAt(1) != '=') throw new ProtocolException("malformed SCRAM message");
            m.putIfAbsent(part.substring(0, 1), part.substring(2));
        }
        return m;
    }

    public static byte[] b64(String s) throws ProtocolException {
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("malformed base64 in SCRAM message");
        }
    }

    public static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}
