package dev.warden.core;

import java.util.Locale;

/** How a statement touches an object. */
public enum Access {
    READ, WRITE, DDL;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
