package dev.warden.console;

import dev.warden.core.config.ConsoleTlsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/** Builds the console's TLS context from a PEM certificate chain and a PEM PKCS#8 private key. */
final class PemTls {
    private PemTls() {}

    static SSLContext context(ConsoleTlsConfig tls) throws IOException {
        try {
            Collection<? extends Certificate> chain;
            try (InputStream in = Files.newInputStream(tls.cert())) {
                chain = CertificateFactory.getInstance("X.509").generateCertificates(in);
            }
            if (chain.isEmpty()) throw new IOException(tls.cert() + ": no certificate found");
            PrivateKey key = key(Files.readString(tls.key()), tls);
            char[] pass = new char[16];
            for (int i = 0; i < pass.length; i++) pass[i] = (char) ('a' + new SecureRandom().nextInt(26));
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("console", key, pass, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pass);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("console TLS: " + e.getMessage(), e);
        }
    }

    private static PrivateKey key(String pem, ConsoleTlsConfig tls) throws IOException, GeneralSecurityException {
        if (pem.contains("BEGIN RSA PRIVATE KEY") || pem.contains("BEGIN EC PRIVATE KEY") || pem.contains("ENCRYPTED")) {
            throw new IOException(tls.key() + ": the key must be an unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY); convert it with: "
                    + "openssl pkcs8 -topk8 -nocrypt -in " + tls.key() + " -out key.pk8.pem");
        }
        int start = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (start < 0 || end < start) throw new IOException(tls.key() + ": no PEM private key found");
        byte[] der = Base64.getMimeDecoder().decode(pem.substring(start + 27, end));
        for (String alg : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException ignored) {
                // try the next algorithm
            }
        }
        throw new IOException(tls.key() + ": unsupported private key type");
    }
}
