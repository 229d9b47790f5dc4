package dev.warden.core;

import java.util.Locale;

/** What a policy says to do, ordered by strictness: deny beats approve beats allow. */
public enum Action {
    ALLOW, APPROVE, DENY;

    // Computed once: labels are on every decision's path (policy matching, ledger entries).
    private final String label = name().toLowerCase(Locale.ROOT);

    public String label() {
        return label;
    }

    public static Action stricter(Action a, Action b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }
}
