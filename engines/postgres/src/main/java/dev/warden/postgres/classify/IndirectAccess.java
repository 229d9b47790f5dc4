package dev.warden.postgres.classify;

import dev.warden.core.Access;
import dev.warden.postgres.catalog.RelationReach;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adds to a statement's objects what it reaches without naming: the base columns a view reads (so their tags and
 * object rules apply), a partition's or child's parents (whose columns tags may name), and what a write reaches
 * through a view or rule, inheritance and partitions, or cascading foreign keys ({@code TRUNCATE}: every
 * referencing table, for {@code CASCADE}). Over-approximates: a view counts all the base columns it uses.
 */
final class IndirectAccess {
    private IndirectAccess() {}

    static void expand(Facts f, RelationReach reach) {
        if (reach == RelationReach.NONE || f.objects.isEmpty()) return;
        boolean truncate = "TRUNCATE".equals(f.command);
        for (Map.Entry<String, Set<String>> e : new ArrayList<>(f.objects.entrySet())) {
            int cut = e.getKey().indexOf('\u0000');
            String name = e.getKey().substring(0, cut);
            Access access = Access.valueOf(e.getKey().substring(cut + 1));
            Set<String> cols = new HashSet<>(e.getValue());
            for (String parent : reach.ancestors().getOrDefault(name, List.of())) f.object(parent, access).addAll(cols);
            if (access == Access.READ) {
                view(f, reach, name, new HashSet<>());
            } else if (access == Access.WRITE) {
                List<String> more = (truncate ? reach.truncateReaches() : reach.writeReaches()).getOrDefault(name, List.of());
                for (String w : more) f.object(w, Access.WRITE);
                if (!more.isEmpty()) {
                    f.reason("writing " + name + " also changes " + String.join(", ", more)
                            + " (a view or rule, inheritance or partitions, or foreign keys that cascade)");
                }
            }
        }
    }

    private static void view(Facts f, RelationReach reach, String view, Set<String> seen) {
        if (!seen.add(view)) return;
        for (Map.Entry<String, List<String>> base : reach.viewColumns().getOrDefault(view, Map.of()).entrySet()) {
            f.object(base.getKey(), Access.READ).addAll(base.getValue());
            view(f, reach, base.getKey(), seen);
        }
    }
}
