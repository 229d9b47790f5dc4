package dev.warden.core.engine;

import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The engines on the class path, by name. */
public final class Engines {
    /** Engine names a configuration or policy may use, whether or not their module has landed. */
    public static final java.util.List<String> KNOWN = java.util.List.of("postgres", "mysql", "mongodb");

    private final Map<String, Engine> byName;

    private Engines(Map<String, Engine> byName) {
        this.byName = byName;
    }

    public static Engines load() {
        Map<String, Engine> m = new TreeMap<>();
        for (Engine e : ServiceLoader.load(Engine.class)) m.put(e.name(), e);
        return new Engines(m);
    }

    public static Engines of(Engine... engines) {
        Map<String, Engine> m = new TreeMap<>();
        for (Engine e : engines) m.put(e.name(), e);
        return new Engines(m);
    }

    public Optional<Engine> get(String name) {
        return Optional.ofNullable(byName.get(name));
    }
}
