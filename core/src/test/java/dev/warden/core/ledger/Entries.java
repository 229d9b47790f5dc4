package dev.warden.core.ledger;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;
import dev.warden.core.Statement;
import java.util.List;
import java.util.Set;

/** Entries for tests: realistic decisions with text, parameters and a classification. */
final class Entries {
    private Entries() {}

    static Entry.DecisionEntry decision(String agent, String text, Action action, String object) {
        Operation op = new Operation(agent, "app", "postgres", text, List.of("42", "o'brien"), "because", "s-1", "10.0.0.7:5544", null);
        Kind kind = text.startsWith("SELECT") ? Kind.READ : Kind.WRITE;
        Classification c = Classification.of(List.of(new Statement(kind, text, text.split(" ")[0],
                List.of(new ObjectAccess(object, kind == Kind.READ ? Access.READ : Access.WRITE, List.of("id", "email"))),
                List.of(), Set.of(), List.of())));
        Decision d = new Decision(action, action == Action.DENY ? "no-deletes" : "reads", List.of("because the rule says so"), null);
        return new Entry.DecisionEntry(op, c, d, "sha256:policy", null);
    }

    static Entry.DecisionEntry read(int i) {
        return decision("agent-" + (i % 3), "SELECT * FROM public.users WHERE id = " + i, Action.ALLOW, "public.users");
    }

    static Entry.OutcomeEntry outcome(long seq) {
        return new Entry.OutcomeEntry(seq, Outcome.ok(1, 120));
    }
}
