package dev.warden.core;

import java.util.Locale;

/** What a policy says to do, ordered by strictness: deny beats approve beats allow. */
public enum Action {
    ALLOW, APPROVE, DENY;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Action stricter(Action a, Action b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }
}
