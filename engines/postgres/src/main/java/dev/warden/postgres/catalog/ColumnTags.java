package dev.warden.postgres.catalog;

import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import dev.warden.core.policy.Glob;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The configuration's {@code tags:} (tag name to globs over {@code schema.table.column}) applied to the columns a
 * statement reads or writes.
 */
final class ColumnTags {
    private final Map<String, List<Glob>> tags;

    ColumnTags(Map<String, List<String>> config) {
        Map<String, List<Glob>> m = new LinkedHashMap<>();
        if (config != null) config.forEach((tag, globs) -> m.put(tag, globs.stream().map(Glob::of).toList()));
        this.tags = m;
    }

    boolean isEmpty() {
        return tags.isEmpty();
    }

    /**
     * The tags of every column touched. An object listed without columns, or with {@code *}, touches all its
     * columns (a DELETE removes them, a DROP destroys them): over-tagging errs toward approval, never toward
     * letting tagged data through unnoticed.
     *
     * @param columnsOf the catalog's columns of a qualified relation, empty when not known
     * @param unknown   collects objects whose columns could not be determined
     */
    Set<String> of(List<Statement> statements, Function<String, List<String>> columnsOf, Set<String> unknown) {
        Set<String> out = new TreeSet<>();
        if (tags.isEmpty()) return out;
        for (Statement s : statements) {
            for (ObjectAccess o : s.objects()) {
                List<String> cols = new ArrayList<>();
                boolean all = o.columns().isEmpty() || o.columns().contains("*");
                for (String c : o.columns()) if (!c.equals("*")) cols.add(c);
                if (all) {
                    List<String> known = columnsOf.apply(o.name());
                    // DDL often names what does not exist yet (CREATE TABLE): only reads and writes are worth a note.
                    if (known.isEmpty() && o.access() != dev.warden.core.Access.DDL) unknown.add(o.name());
                    cols.addAll(known);
                }
                for (String c : cols) {
                    String qualified = o.name() + "." + c;
                    tags.forEach((tag, globs) -> {
                        for (Glob g : globs) {
                            if (g.matches(qualified)) {
                                out.add(tag);
                                break;
                            }
                        }
                    });
                }
            }
        }
        return out;
    }
}
