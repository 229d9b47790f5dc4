package dev.warden.core;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The classification of one statement of an operation.
 *
 * @param kind         what it does
 * @param text         the statement's own text within the operation (for display; the whole text is what runs)
 * @param command      a short name of the command, such as {@code SELECT} or {@code CREATE INDEX}
 * @param objects      every object touched, with access mode and columns
 * @param functions    every function called, schema-qualified where it could be resolved
 * @param flags        see {@link Flag}
 * @param reasons      why the classifier labelled it so, most important first (always set for {@code unknown})
 * @param unproven     functions that could not be proven to be pure reads; while any remain, the kind is
 *                     {@code unknown} unless a policy rule names every one of them under {@code functions:}
 * @param kindIfProven the kind the statement has if its unproven functions are declared readers by a rule
 */
public record Statement(Kind kind, String text, String command, List<ObjectAccess> objects,
                        List<String> functions, Set<String> flags, List<String> reasons,
                        List<String> unproven, Kind kindIfProven) {
    public Statement {
        if (kind == null) throw new IllegalArgumentException("kind is null");
        text = text == null ? "" : text;
        command = command == null ? "" : command;
        objects = List.copyOf(objects);
        functions = List.copyOf(functions);
        flags = Set.copyOf(new TreeSet<>(flags));
        reasons = List.copyOf(reasons);
        unproven = List.copyOf(unproven);
        if (kindIfProven == null || unproven.isEmpty()) kindIfProven = kind;
    }

    public Statement(Kind kind, String text, String command, List<ObjectAccess> objects,
                     List<String> functions, Set<String> flags, List<String> reasons) {
        this(kind, text, command, objects, functions, flags, reasons, List.of(), kind);
    }

    /**
     * Whether running it may have changed the schema an engine's catalog cached ({@link Kind#mayChangeSchema()}), as
     * far as its text tells: a policy that declares its unproven functions readers says more ({@link
     * Verdict#changesSchema()}).
     */
    public boolean mayChangeSchema() {
        // A role change (SET ROLE, SET SESSION AUTHORIZATION) is DCL for who the session acts as, not for what the
        // schema holds: a transaction that switches roles (SET LOCAL ROLE, as PostgREST does) goes on being judged.
        if (kind == Kind.DCL && (command.startsWith("SET ") || command.startsWith("RESET "))) return false;
        return kind.mayChangeSchema();
    }

    /** The command and its first object, for messages: {@code CREATE VIEW scratch.v}. */
    public String brief() {
        String what = command.isEmpty() ? kind.label() + " statement" : command;
        if (!objects.isEmpty()) return what + " " + objects.getFirst().name();
        // A call names what it runs: "SELECT public.remake_view", not "SELECT".
        return functions.isEmpty() ? what : what + " " + functions.getFirst();
    }

    /** A statement that could not be positively labelled; the reason says why. */
    public static Statement unknown(String text, String reason) {
        return new Statement(Kind.UNKNOWN, text, "", List.of(), List.of(), Set.of(), List.of(reason));
    }
}
