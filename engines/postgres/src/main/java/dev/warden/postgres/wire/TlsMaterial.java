package dev.warden.postgres.wire;

import dev.warden.core.config.TlsConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The server certificate for a listener: PEM files from the configuration, or a self-signed certificate generated
 * once under the data directory (EC P-256, DER written by hand so no keytool or extra library is needed).
 */
public final class TlsMaterial {
    private TlsMaterial() {}

    /** An SSL context for the config, or {@code null} when TLS is off. */
    public static SSLContext context(TlsConfig tls, Path dataDir) throws IOException {
        if (tls == null || !tls.enabled()) return null;
        Path cert = tls.cert();
        Path key = tls.key();
        if (cert == null) {
            Path dir = dataDir.resolve("tls");
            cert = dir.resolve("server.crt");
            key = dir.resolve("server.key");
            if (!Files.exists(cert) || !Files.exists(key)) generate(dir, cert, key);
        }
        try {
            return fromPem(Files.readAllBytes(cert), Files.readAllBytes(key));
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use the TLS certificate " + cert + ": " + e.getMessage(), e);
        }
    }

    static SSLContext fromPem(byte[] certPem, byte[] keyPem) throws GeneralSecurityException, IOException {
        Collection<? extends Certificate> chain = CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(certPem));
        if (chain.isEmpty()) throw new GeneralSecurityException("no certificate in the file");
        PrivateKey pk = privateKey(keyPem);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        char[] pw = "warden".toCharArray();
        ks.setKeyEntry("server", pk, pw, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, pw);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    private static PrivateKey privateKey(byte[] pem) throws GeneralSecurityException {
        String s = new String(pem, StandardCharsets.US_ASCII);
        int b = s.indexOf("-----BEGIN PRIVATE KEY-----");
        int e = s.indexOf("-----END PRIVATE KEY-----");
        if (b < 0 || e < 0) throw new GeneralSecurityException("the key must be a PKCS#8 PEM (BEGIN PRIVATE KEY)");
        byte[] der = Base64.getMimeDecoder().decode(s.substring(b + 27, e));
        for (String alg : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException ignored) {
                // try the next algorithm
            }
        }
        throw new GeneralSecurityException("unsupported private key");
    }

    /** Writes a self-signed certificate for localhost and 127.0.0.1, valid ten years. */
    public static void generate(Path dir, Path certFile, Path keyFile) throws IOException {
        try {
            Files.createDirectories(dir);
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            KeyPair kp = g.generateKeyPair();
            byte[] name = seq(set(seq(concat(oid(2, 5, 4, 3), tlv(0x0c, "warden".getBytes(StandardCharsets.UTF_8))))));
            byte[] algo = seq(oid(1, 2, 840, 10045, 4, 3, 2));
            ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC).withNano(0);
            byte[] validity = seq(concat(time(now.minusDays(1)), time(now.plusYears(10))));
            byte[] san = seq(concat(tlv(0x82, "localhost".getBytes(StandardCharsets.US_ASCII)), tlv(0x87, new byte[] {127, 0, 0, 1})));
            byte[] extensions = tlv(0xa3, seq(seq(concat(oid(2, 5, 29, 17), tlv(0x04, san)))));
            byte[] serial = tlv(0x02, new BigInteger(63, new SecureRandom()).add(BigInteger.ONE).toByteArray());
            byte[] tbs = seq(concat(tlv(0xa0, tlv(0x02, new byte[] {2})), serial, algo, name, validity, name,
                    kp.getPublic().getEncoded(), extensions));
            Signature sig = Signature.getInstance("SHA256withECDSA");
            sig.initSign(kp.getPrivate());
            sig.update(tbs);
            byte[] bits = concat(new byte[] {0}, sig.sign());
            byte[] cert = seq(concat(tbs, algo, tlv(0x03, bits)));
            Files.writeString(certFile, pem("CERTIFICATE", cert));
            Files.writeString(keyFile, pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            try {
                Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot generate a self-signed certificate: " + e.getMessage(), e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] time(ZonedDateTime t) {
        if (t.getYear() < 2050) {
            return tlv(0x17, t.format(DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'")).getBytes(StandardCharsets.US_ASCII));
        }
        return tlv(0x18, t.format(DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'")).getBytes(StandardCharsets.US_ASCII));
    }

    private static byte[] oid(int... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(parts[0] * 40 + parts[1]);
        for (int i = 2; i < parts.length; i++) {
            int v = parts[i];
            byte[] tmp = new byte[5];
            int n = 0;
            do {
                tmp[n++] = (byte) (v & 0x7f);
                v >>>= 7;
            } while (v != 0);
            for (int j = n - 1; j >= 0; j--) o.write(tmp[j] | (j > 0 ? 0x80 : 0));
        }
        return tlv(0x06, o.toByteArray());
    }

    private static byte[] seq(byte[] content) {
        return tlv(0x30, content);
    }

    private static byte[] set(byte[] content) {
        return tlv(0x31, content);
    }

    private static byte[] tlv(int tag, byte[] content) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(tag);
        int n = content.length;
        if (n < 128) {
            o.write(n);
        } else if (n < 256) {
            o.write(0x81);
            o.write(n);
        } else {
            o.write(0x82);
            o.write(n >>> 8);
            o.write(n);
        }
        o.writeBytes(content);
        return o.toByteArray();
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) o.writeBytes(p);
        return o.toByteArray();
    }

    static InputStream stream(byte[] b) {
        return new ByteArrayInputStream(b);
    }
}
