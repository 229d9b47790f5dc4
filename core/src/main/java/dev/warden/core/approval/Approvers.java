package dev.warden.core.approval;

import dev.warden.core.config.AgentConfig;
import dev.warden.core.config.ApproverConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who may decide. Tokens are kept only as SHA-256 hashes and compared in constant time against every identity, so
 * neither the token nor which identity matched leaks through timing. Agent credentials are known too, so that a
 * caller presenting one is recognised as an agent and refused, never mistaken for an unknown token.
 */
public final class Approvers {
    /** Who presented a credential. {@code agent} callers may read nothing and decide nothing. */
    public record Caller(String name, boolean agent) {}

    private record Identity(String name, byte[] hash, boolean agent) {}

    private final List<Identity> identities;
    private final Set<String> approverNames = new TreeSet<>();
    private final Set<String> agentNames = new TreeSet<>();

    private Approvers(List<Identity> identities) {
        this.identities = List.copyOf(identities);
        for (Identity i : identities) (i.agent() ? agentNames : approverNames).add(i.name());
        approverNames.removeAll(agentNames);
    }

    public static Approvers of(List<ApproverConfig> approvers, List<AgentConfig> agents) {
        List<Identity> ids = new ArrayList<>();
        for (AgentConfig a : agents) ids.add(new Identity(a.name(), hash(a.secret().value()), true));
        for (ApproverConfig a : approvers) ids.add(new Identity(a.name(), hash(a.token().value()), false));
        return new Approvers(ids);
    }

    /** Whom the token belongs to. An empty or unknown token is nobody. */
    public Optional<Caller> authenticate(String token) {
        if (token == null || token.isEmpty()) return Optional.empty();
        byte[] h = hash(token);
        Identity found = null;
        for (Identity i : identities) {
            // No early exit: every comparison runs whatever matched.
            if (MessageDigest.isEqual(h, i.hash()) && found == null) found = i;
        }
        return found == null ? Optional.empty() : Optional.of(new Caller(found.name(), found.agent()));
    }

    /** A configured approver that is not also an agent identity. */
    public boolean mayDecide(String name) {
        return name != null && approverNames.contains(name) && !agentNames.contains(name);
    }

    public boolean isAgent(String name) {
        return agentNames.contains(name);
    }

    public Set<String> agents() {
        return Set.copyOf(agentNames);
    }

    public Set<String> approvers() {
        return Set.copyOf(approverNames);
    }

    private static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
