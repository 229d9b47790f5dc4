package dev.warden.core.config;

import java.util.List;

/**
 * How an agent may prove its identity to a wire listener, strongest first. Warden offers the strongest method a
 * database enables; SCRAM-SHA-256 is the default and the only one enabled unless configured otherwise.
 */
public enum AgentAuth {
    SCRAM_SHA_256("scram-sha-256"),
    MD5("md5"),
    /** The secret in clear text over the connection: only ever offered over TLS. */
    PASSWORD("password");

    public static final List<AgentAuth> DEFAULT = List.of(SCRAM_SHA_256);

    private final String yamlName;

    AgentAuth(String yamlName) {
        this.yamlName = yamlName;
    }

    /** The name used in the configuration file. */
    public String yamlName() {
        return yamlName;
    }

    public static AgentAuth fromYaml(String name) {
        for (AgentAuth a : values()) if (a.yamlName.equals(name)) return a;
        return null;
    }
}
