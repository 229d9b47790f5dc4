package dev.warden.core;

import java.util.Locale;

/** How a statement touches an object. */
public enum Access {
    READ, WRITE, DDL;

    // Computed once: labels are on every decision's path (policy matching, ledger entries).
    private final String label = name().toLowerCase(Locale.ROOT);

    public String label() {
        return label;
    }
}
