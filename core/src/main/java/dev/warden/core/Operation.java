package dev.warden.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * One action an agent asks for, exactly as it will run.
 *
 * @param agent         the authenticated agent identity
 * @param database      the configured database name (not the upstream's)
 * @param engine        engine name, such as {@code postgres}
 * @param text          the exact text (or command document) that will run
 * @param parameters    bound parameters in order; {@code null} elements are SQL NULL; binary values are
 *                      rendered by the front end as {@code \x} followed by hex
 * @param reason        the agent's stated reason: untrusted, shown to approvers, never used in a decision
 * @param sessionId     the front end's session id
 * @param clientAddress where the agent connected from
 * @param time          when the operation arrived
 */
public record Operation(String agent, String database, String engine, String text, List<String> parameters,
                        String reason, String sessionId, String clientAddress, Instant time) {
    public Operation {
        if (agent == null || database == null || engine == null || text == null) {
            throw new IllegalArgumentException("agent, database, engine and text are required");
        }
        parameters = parameters == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(parameters));
        reason = reason == null ? "" : reason;
        sessionId = sessionId == null ? "" : sessionId;
        clientAddress = clientAddress == null ? "" : clientAddress;
        time = time == null ? Instant.now() : time;
    }

    /**
     * SHA-256 over the exact text and parameters, hex. Approvals bind this hash. Each part is length-prefixed
     * so that no two different (text, parameters) pairs share an encoding.
     */
    public String statementHash() {
        try {
            // A clone of a ready digest costs far less than a provider lookup; this runs for every statement.
            MessageDigest d = (MessageDigest) SHA256.clone();
            update(d, text);
            d.update(intBytes(parameters.size()));
            for (String p : parameters) {
                if (p == null) {
                    d.update(intBytes(-1));
                } else {
                    update(d, p);
                }
            }
            return HEX.formatHex(d.digest());
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final HexFormat HEX = HexFormat.of();
    private static final MessageDigest SHA256;

    static {
        try {
            SHA256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void update(MessageDigest d, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        d.update(intBytes(b.length));
        d.update(b);
    }

    private static byte[] intBytes(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }
}
