package dev.warden.postgres.classify;

import dev.warden.core.Access;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the walk of one statement found: collected while walking, turned into a {@link Statement} at the end. */
final class Facts {
    Kind kind;
    String command = "";
    /** Raised by opaque things (DO, unknown statements, opaque functions): not undone by a {@code functions:} rule. */
    boolean opaque;
    final Map<String, Set<String>> objects = new LinkedHashMap<>();
    final Set<String> functions = new LinkedHashSet<>();
    final Set<String> flags = new LinkedHashSet<>();
    final List<String> reasons = new ArrayList<>();
    final Set<String> unproven = new LinkedHashSet<>();
    /** Side effects of function calls, kept apart so that EXPLAIN (which runs no DML) can still carry them. */
    final List<FunctionRules.Effect> effects = new ArrayList<>();
    /**
     * The write events ({@code ImplicitCode.INSERT}…) the statement sends to each relation it names as a target, for
     * the triggers and defaults they run; a relation written without an entry here may see any of them.
     */
    final Map<String, Integer> writeEvents = new HashMap<>();

    Facts(Kind base) {
        this.kind = base;
    }

    void raise(Kind k) {
        kind = Kind.riskiest(kind, k);
    }

    void raise(Kind k, String reason) {
        raise(k);
        reason(reason);
    }

    void reason(String r) {
        if (!reasons.contains(r)) reasons.add(r);
    }

    /** Reasons that make the statement unknown come first: they are what a denial has to explain. */
    private int leading;

    void opaque(String reason) {
        opaque = true;
        raise(Kind.UNKNOWN);
        lead(reason);
    }

    void lead(String r) {
        if (reasons.contains(r)) return;
        reasons.add(leading++, r);
    }

    void flag(String f) {
        flags.add(f);
    }

    /** Records that the statement sends these write events to the relation (0: it only locks rows). */
    void writes(String relation, int events) {
        writeEvents.merge(relation, events, (a, b) -> a | b);
    }

    /** Records access to an object; returns its column set to add to. */
    Set<String> object(String name, Access access) {
        return objects.computeIfAbsent(name + "\u0000" + access.name(), k -> new LinkedHashSet<>());
    }

    void merge(Facts o) {
        raise(o.kind);
        opaque |= o.opaque;
        for (var e : o.objects.entrySet()) objects.computeIfAbsent(e.getKey(), k -> new LinkedHashSet<>()).addAll(e.getValue());
        functions.addAll(o.functions);
        flags.addAll(o.flags);
        for (int i = 0; i < o.reasons.size(); i++) {
            if (i < o.leading) lead(o.reasons.get(i));
            else reason(o.reasons.get(i));
        }
        unproven.addAll(o.unproven);
        effects.addAll(o.effects);
        o.writeEvents.forEach(this::writes);
    }

    List<ObjectAccess> objectList() {
        List<ObjectAccess> out = new ArrayList<>(objects.size());
        for (var e : objects.entrySet()) {
            String key = e.getKey();
            int sep = key.indexOf('\u0000');
            out.add(new ObjectAccess(key.substring(0, sep), Access.valueOf(key.substring(sep + 1)), List.copyOf(e.getValue())));
        }
        return out;
    }

    Statement toStatement(String text) {
        if (!unproven.isEmpty()) {
            Kind ifProven = opaque ? Kind.UNKNOWN : kind;
            List<String> rs = new ArrayList<>(reasons);
            return new Statement(Kind.UNKNOWN, text, command, objectList(), List.copyOf(functions), flags, rs,
                    List.copyOf(unproven), ifProven);
        }
        if (kind == Kind.UNKNOWN && reasons.isEmpty()) reasons.add("the statement could not be positively labelled");
        return new Statement(kind, text, command, objectList(), List.copyOf(functions), flags, reasons);
    }
}
