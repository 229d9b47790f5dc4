package dev.warden.core.config;

/** A secret value from the configuration or the environment. Never printed: {@link #toString()} hides it. */
public record Secret(String value) {
    public Secret {
        if (value == null) throw new IllegalArgumentException("secret is null");
    }

    @Override
    public String toString() {
        return "Secret[***]";
    }
}
