package dev.warden.core.policy;

import dev.warden.core.Kind;
import java.util.List;
import java.util.Set;

/**
 * What a rule matches. Every key is optional (empty or {@code null}: matches anything); keys are ANDed, and a list
 * means any of.
 */
public record Match(List<Glob> agents, List<Glob> databases, List<Glob> engines, Set<Kind> kinds,
                    List<Glob> objects, List<Glob> columns, List<Glob> functions, Set<String> flags,
                    Set<String> tags, Long rowsOver) {
    public Match {
        agents = List.copyOf(agents);
        databases = List.copyOf(databases);
        engines = List.copyOf(engines);
        kinds = Set.copyOf(kinds);
        objects = List.copyOf(objects);
        columns = List.copyOf(columns);
        functions = List.copyOf(functions);
        flags = Set.copyOf(flags);
        tags = Set.copyOf(tags);
    }

    public static final Match ANY = new Match(List.of(), List.of(), List.of(), Set.of(), List.of(), List.of(),
            List.of(), Set.of(), Set.of(), null);
}
