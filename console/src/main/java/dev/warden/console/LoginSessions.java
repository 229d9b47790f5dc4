package dev.warden.console;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Browser sessions of approvers who logged in with their token. The cookie holds only a random id; each session has
 * its own CSRF token that every state-changing request must echo in {@code X-CSRF-Token}. Sessions live in memory:
 * a restart logs everyone out, which is the safe side.
 */
final class LoginSessions {
    static final Duration LIFETIME = Duration.ofHours(12);
    private static final SecureRandom RANDOM = new SecureRandom();

    record Session(String id, String approver, String csrf, Instant expires) {}

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    Session create(String approver) {
        sessions.values().removeIf(s -> Instant.now().isAfter(s.expires()));
        Session s = new Session(random(), approver, random(), Instant.now().plus(LIFETIME));
        sessions.put(s.id(), s);
        return s;
    }

    Optional<Session> find(String id) {
        if (id == null) return Optional.empty();
        Session s = sessions.get(id);
        if (s == null) return Optional.empty();
        if (Instant.now().isAfter(s.expires())) {
            sessions.remove(id);
            return Optional.empty();
        }
        return Optional.of(s);
    }

    void end(String id) {
        sessions.remove(id);
    }

    private static String random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
