package dev.warden.core;

import java.util.Locale;

/**
 * What a statement does, ordered by risk: the operation's kind is the riskiest of its statements.
 * {@link #UNKNOWN} is anything the classifier cannot positively label, and ranks highest.
 */
public enum Kind {
    TCL, READ, SESSION, WRITE, DDL, DCL, ADMIN, UNKNOWN;

    /** The lower-case name used in policies, JSON and the ledger. */
    // Computed once: labels are on every decision's path (policy matching, ledger entries).
    private final String label = name().toLowerCase(Locale.ROOT);

    public String label() {
        return label;
    }

    public static Kind parse(String label) {
        for (Kind k : values()) {
            if (k.label().equals(label)) return k;
        }
        throw new IllegalArgumentException("unknown kind '" + label + "'");
    }

    /**
     * Whether a statement of this kind may have changed the schema that an engine's catalog caches: DDL and DCL, and
     * what may have run code not proven to be read-only and DDL-free (ADMIN, UNKNOWN: a DO block, a user function a
     * person approved). After one a front end has the catalog read again, and until then judges nothing of the session
     * on it. The one rule for every front end (see {@link Verdict#changesSchema()}).
     */
    public boolean mayChangeSchema() {
        return switch (this) {
            case DDL, DCL, ADMIN, UNKNOWN -> true;
            case TCL, READ, SESSION, WRITE -> false;
        };
    }

    public static Kind riskiest(Kind a, Kind b) {
        return a.ordinal() >= b.ordinal() ? a : b;
    }
}
