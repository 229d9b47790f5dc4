package dev.warden.postgres.wire;

import dev.warden.core.config.UpstreamConfig;
import dev.warden.core.config.UpstreamTlsConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** SSLRequest toward the upstream, then TLS as configured: {@code require} encrypts, {@code verify-full} also checks. */
final class UpstreamTls {
    private UpstreamTls() {}

    /** TLS on {@code s} as configured, or {@code null} when the configuration says plaintext. */
    static TlsChannel negotiate(Socket s, UpstreamConfig up) throws IOException {
        UpstreamTlsConfig tls = up.tls();
        if (tls.mode() == UpstreamTlsConfig.Mode.DISABLE) return null;
        s.getOutputStream().write(new PgWriter().beginUntyped().int32(StartupPacket.SSL_CODE).end().toByteArray());
        s.getOutputStream().flush();
        int answer = s.getInputStream().read();
        if (answer != 'S') throw new IOException("the database does not accept TLS, and the configuration requires it");
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {trust(tls)}, null);
            return TlsChannel.connect(ctx, s, up.host(), up.port(), tls.mode() == UpstreamTlsConfig.Mode.VERIFY_FULL);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS to the database: " + e.getMessage(), e);
        }
    }

    private static X509TrustManager trust(UpstreamTlsConfig tls) throws GeneralSecurityException, IOException {
        if (tls.mode() == UpstreamTlsConfig.Mode.REQUIRE) {
            // Encrypted, not authenticated: libpq's sslmode=require.
            return new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] chain, String authType) {}
                public void checkServerTrusted(X509Certificate[] chain, String authType) {}
                public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
            };
        }
        KeyStore ks = null;
        if (tls.ca() != null) {
            ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            try (InputStream in = Files.newInputStream(tls.ca())) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) ks.setCertificateEntry("ca" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        for (TrustManager tm : tmf.getTrustManagers()) if (tm instanceof X509TrustManager x) return x;
        throw new GeneralSecurityException("no X.509 trust manager");
    }
}
