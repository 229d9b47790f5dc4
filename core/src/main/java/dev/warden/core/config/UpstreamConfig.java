package dev.warden.core.config;

/** How Warden reaches the real database. The password is the database's own; agents never see it. */
public record UpstreamConfig(String host, int port, String database, String user, Secret password, UpstreamTlsConfig tls) {
    public UpstreamConfig {
        if (tls == null) tls = UpstreamTlsConfig.DISABLE;
    }

    public UpstreamConfig(String host, int port, String database, String user, Secret password) {
        this(host, port, database, user, password, UpstreamTlsConfig.DISABLE);
    }

    @Override
    public String toString() {
        return "UpstreamConfig[" + user + "@" + host + ":" + port + "/" + database + "]";
    }
}
