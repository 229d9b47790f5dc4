package dev.warden.mcp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A key store in memory from PEM files: a certificate chain and an unencrypted PKCS#8 private key. */
final class PemKeyStore {
    static final String PASSWORD = "warden-in-memory";
    private static final Pattern PKCS8 = Pattern.compile("-----BEGIN PRIVATE KEY-----(.*?)-----END PRIVATE KEY-----", Pattern.DOTALL);

    private PemKeyStore() {}

    static KeyStore load(Path certFile, Path keyFile) throws IOException {
        try {
            Certificate[] chain = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(certFile))).toArray(Certificate[]::new);
            if (chain.length == 0) throw new IOException(certFile + ": no certificate found");
            String pem = Files.readString(keyFile);
            Matcher m = PKCS8.matcher(pem);
            if (!m.find()) {
                throw new IOException(keyFile + ": expected an unencrypted PKCS#8 key (BEGIN PRIVATE KEY); convert with "
                        + "'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8'");
            }
            byte[] der = Base64.getMimeDecoder().decode(m.group(1));
            PrivateKey key = null;
            for (String alg : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
                try {
                    key = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
                    break;
                } catch (GeneralSecurityException ignored) {
                    // Try the next algorithm.
                }
            }
            if (key == null) throw new IOException(keyFile + ": unsupported private key algorithm");
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("warden", key, PASSWORD.toCharArray(), chain);
            return ks;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot load TLS certificate and key: " + e.getMessage(), e);
        }
    }
}
