package dev.warden.mcp;

import dev.warden.core.config.AgentConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Finds the agent a bearer token belongs to. Every configured secret is compared, in constant time over fixed-length
 * digests, so neither the position of a match nor the length of a secret shows in the timing.
 */
final class AgentTokens {
    private final List<AgentConfig> agents;
    private final List<byte[]> digests;
    private final Predicate<String> disabled;

    /** @param disabled agents the kill switch has turned off; they are refused even with the right secret */
    AgentTokens(List<AgentConfig> agents, Predicate<String> disabled) {
        this.agents = List.copyOf(agents);
        this.digests = this.agents.stream().map(a -> sha256(a.secret().value())).toList();
        this.disabled = disabled;
    }

    sealed interface Result {}

    record Authenticated(AgentConfig agent) implements Result {}

    record Refused(String reason) implements Result {}

    /** A token that belongs to no agent: a guess, as far as Warden can tell. */
    record Wrong() implements Result {}

    /** @param authorization the whole {@code Authorization} header, or {@code null} */
    Result authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) return new Refused("a bearer token is required");
        String[] parts = authorization.trim().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer") || parts[1].isBlank()) {
            return new Refused("a bearer token is required");
        }
        byte[] given = sha256(parts[1].trim());
        AgentConfig found = null;
        for (int i = 0; i < agents.size(); i++) {
            // No early exit: every secret is compared whatever matched before.
            if (MessageDigest.isEqual(given, digests.get(i)) && found == null) found = agents.get(i);
        }
        if (found == null) return new Wrong();
        if (disabled.test(found.name())) return new Refused("agent '" + found.name() + "' is disabled");
        return new Authenticated(found);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Optional<String> agentOf(Result r) {
        return r instanceof Authenticated(AgentConfig a) ? Optional.of(a.name()) : Optional.empty();
    }
}
