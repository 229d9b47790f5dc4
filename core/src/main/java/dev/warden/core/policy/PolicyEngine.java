package dev.warden.core.policy;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Decides an operation against a policy. Pure: no I/O, no clock, no state.
 *
 * <p>Every statement is decided on its own and the strictest decision wins. For one statement, among the rules that
 * match it deny beats approve beats allow, whatever their order in the file; the first matching rule with the
 * winning action is named. No matching rule means deny, except plain transaction control ({@code tcl}), which
 * changes nothing by itself and is allowed unless a rule matches it.
 */
public final class PolicyEngine {
    private PolicyEngine() {}

    public static Decision decide(Policy policy, Operation op, Classification c) {
        Decision worst = null;
        List<Statement> statements = c.statements();
        for (int i = 0; i < statements.size(); i++) {
            Decision d = decide(policy, op, c, statements.get(i));
            if (statements.size() > 1 && d.action() != Action.ALLOW) d = prefixed(d, i + 1, statements.get(i));
            // Among equally strict decisions, name a rule rather than the built-in transaction-control allowance.
            if (worst == null || d.action().ordinal() > worst.action().ordinal()
                    || (d.action() == worst.action() && worst.rule() == null && d.rule() != null)
                    || (d.action() == Action.APPROVE && worst.action() == Action.APPROVE && d.approval() != null
                        && worst.approval() != null && d.approval().approvers() > worst.approval().approvers())) {
                worst = d;
            }
        }
        if (worst.action() == Action.ALLOW && statements.size() > 1) {
            worst = new Decision(Action.ALLOW, worst.rule(), List.of("all " + statements.size() + " statements allowed"), null);
        }
        return worst;
    }

    private static Decision decide(Policy policy, Operation op, Classification c, Statement s) {
        Rule winner = null;
        for (Rule r : policy.rules()) {
            if (!matches(r.match(), op, c, s, false, r.action() == Action.ALLOW)) continue;
            // Equally strict approvals: the one asking more people wins.
            if (winner == null || r.action().ordinal() > winner.action().ordinal()
                    || (r.action() == Action.APPROVE && winner.action() == Action.APPROVE && approvers(r) > approvers(winner))) {
                winner = r;
            }
        }
        if (winner != null) {
            List<String> reasons = new ArrayList<>();
            reasons.add(r(winner));
            if (winner.action() != Action.ALLOW && s.kind() == Kind.UNKNOWN) reasons.addAll(s.reasons());
            return new Decision(winner.action(), winner.name(), reasons, winner.approval());
        }
        if (s.kind() == Kind.TCL) {
            return new Decision(Action.ALLOW, null, List.of("transaction control is allowed unless a rule matches it"), null);
        }
        List<String> reasons = new ArrayList<>();
        reasons.add("no rule allows this " + s.kind().label() + " statement" + (s.command().isEmpty() ? "" : " (" + s.command() + ")") + " (default deny)");
        if (s.kind() == Kind.UNKNOWN) reasons.addAll(s.reasons());
        return new Decision(Action.DENY, null, reasons, null);
    }

    private static String r(Rule rule) {
        if (rule.reason() != null) return rule.reason();
        return switch (rule.action()) {
            case ALLOW -> "allowed by rule \"" + rule.name() + "\"";
            case APPROVE -> "rule \"" + rule.name() + "\" requires a human approval";
            case DENY -> "denied by rule \"" + rule.name() + "\"";
        };
    }

    private static Decision prefixed(Decision d, int n, Statement s) {
        List<String> reasons = new ArrayList<>();
        String where = "statement " + n + (s.command().isEmpty() ? "" : " (" + s.command() + ")");
        for (int i = 0; i < d.reasons().size(); i++) reasons.add(i == 0 ? where + ": " + d.reasons().get(i) : d.reasons().get(i));
        return new Decision(d.action(), d.rule(), reasons, d.approval());
    }

    /**
     * Whether running the operation may change the schema ({@link Kind#mayChangeSchema()}), each statement judged by
     * the kind it has under this policy: a statement unknown only for functions that an {@code allow} rule matching it
     * declares readers has the kind it would have without them (a reader runs no DDL, as the rule says).
     */
    public static boolean mayChangeSchema(Policy policy, Operation op, Classification c) {
        for (Statement s : c.statements()) {
            if (!s.mayChangeSchema()) continue;
            if (s.unproven().isEmpty() || s.kindIfProven().mayChangeSchema() || !declaredReaders(policy, op, c, s)) return true;
        }
        return false;
    }

    /** Some {@code allow} rule that matches the statement names every one of its unproven functions. */
    private static boolean declaredReaders(Policy policy, Operation op, Classification c, Statement s) {
        for (Rule r : policy.rules()) {
            if (r.action() != Action.ALLOW || r.match().functions().isEmpty()) continue;
            boolean all = true;
            for (String f : s.unproven()) all &= anyGlob(r.match().functions(), f);
            if (all && matches(r.match(), op, c, s, false, true)) return true;
        }
        return false;
    }

    /**
     * Whether a row estimate could change the decision: some {@code rows_over} rule matches a statement in every other
     * respect (tags, which enrichment adds, count as matching). Without one, the catalog need not ask the planner.
     */
    public static boolean needsEstimate(Policy policy, Operation op, Classification c) {
        for (Rule r : policy.rules()) {
            if (r.match().rowsOver() == null) continue;
            for (Statement s : c.statements()) if (matches(r.match(), op, c, s, true, r.action() == Action.ALLOW)) return true;
        }
        return false;
    }

    static boolean matches(Match m, Operation op, Classification c, Statement s) {
        return matches(m, op, c, s, false, false);
    }

    private static int approvers(Rule r) {
        return r.approval() == null ? 0 : r.approval().approvers();
    }

    /**
     * {@code allows}: the rule allows. An allow rule's objects and columns must cover every object and column the
     * statement touches in the rule's modes (naming one table does not allow reading another alongside it); a deny or
     * approve rule matches when any does, and also sees the kind the statement would have if its unproven functions
     * were readers, and the writes or DDL of its objects whatever its kind (COPY FROM a file is admin, and a write).
     */
    private static boolean matches(Match m, Operation op, Classification c, Statement s, boolean beforeEnrichment, boolean allows) {
        if (!anyGlob(m.agents(), op.agent())) return false;
        if (!anyGlob(m.databases(), op.database())) return false;
        if (!anyGlob(m.engines(), op.engine())) return false;
        Kind kind = s.kind();
        if (!m.functions().isEmpty()) {
            boolean any = false;
            for (String f : s.functions()) any |= anyGlob(m.functions(), f);
            if (!any) return false;
            // A rule that names every function the classifier could not prove pure declares them readers.
            boolean allUnprovenNamed = !s.unproven().isEmpty();
            for (String f : s.unproven()) allUnprovenNamed &= anyGlob(m.functions(), f);
            if (allUnprovenNamed) kind = s.kindIfProven();
        }
        if (!m.kinds().isEmpty() && !m.kinds().contains(kind) && (allows || !impliedKind(m, s))) return false;
        if (!m.objects().isEmpty() && !(allows ? objectsCovered(m, s) : objectMatches(m, s))) return false;
        if (!m.columns().isEmpty() && !(allows ? columnsCovered(m, s) : columnMatches(m, s))) return false;
        if (!m.flags().isEmpty() && !intersects(m.flags(), s.flags())) return false;
        if (beforeEnrichment) return true;
        // Tags unknown (the catalog could not be asked): a deny or approve rule on tags matches what touches any object.
        if (!m.tags().isEmpty() && !intersects(m.tags(), c.tags())
                && (allows || !tagsUnknown(c) || s.objects().isEmpty())) return false;
        if (m.rowsOver() != null) {
            // A missing estimate counts as exceeded: fail closed.
            if (c.estimatedRows() >= 0 && c.estimatedRows() <= m.rowsOver()) return false;
        }
        return true;
    }

    /**
     * When a rule names kinds read, write or ddl, an object matches only if the statement touches it in one of those
     * modes: {@code objects: [audit_log], kind: [write]} is about writing the audit log, not about reading it while
     * writing elsewhere.
     */
    private static boolean modeMatches(Match m, Access access) {
        boolean modal = m.kinds().contains(Kind.READ) || m.kinds().contains(Kind.WRITE) || m.kinds().contains(Kind.DDL);
        if (!modal) return true;
        return switch (access) {
            case READ -> m.kinds().contains(Kind.READ);
            case WRITE -> m.kinds().contains(Kind.WRITE);
            case DDL -> m.kinds().contains(Kind.DDL);
        };
    }

    private static boolean tagsUnknown(Classification c) {
        String e = c.enrichment();
        return e != null && (e.startsWith("enrichment failed") || e.startsWith("catalog unavailable"));
    }

    /** For deny and approve rules: the statement is of a kind the rule names in some respect. */
    private static boolean impliedKind(Match m, Statement s) {
        if (s.kind() == Kind.UNKNOWN && m.kinds().contains(s.kindIfProven())) return true;
        for (ObjectAccess o : s.objects()) {
            if (o.access() == Access.WRITE && m.kinds().contains(Kind.WRITE)) return true;
            if (o.access() == Access.DDL && m.kinds().contains(Kind.DDL)) return true;
        }
        return false;
    }

    /** Every object touched in the rule's modes is one the rule names, and there is at least one. */
    private static boolean objectsCovered(Match m, Statement s) {
        boolean any = false;
        for (ObjectAccess o : s.objects()) {
            if (!modeMatches(m, o.access())) continue;
            if (!anyGlob(m.objects(), o.name())) return false;
            any = true;
        }
        return any;
    }

    /** Every column touched in the rule's modes is one the rule names ({@code *}: all columns, named as t.*). */
    private static boolean columnsCovered(Match m, Statement s) {
        boolean any = false;
        for (ObjectAccess o : s.objects()) {
            if (!modeMatches(m, o.access())) continue;
            for (String col : o.columns()) {
                if (!anyGlob(m.columns(), o.name() + "." + col)) return false;
                any = true;
            }
        }
        return any;
    }

    private static boolean objectMatches(Match m, Statement s) {
        for (ObjectAccess o : s.objects()) {
            if (modeMatches(m, o.access()) && anyGlob(m.objects(), o.name())) return true;
        }
        return false;
    }

    private static boolean columnMatches(Match m, Statement s) {
        for (ObjectAccess o : s.objects()) {
            if (!modeMatches(m, o.access())) continue;
            for (String col : o.columns()) {
                // * (columns not expanded: no live catalog) may be any column of the table.
                if (col.equals("*") ? anyGlobOfTable(m.columns(), o.name()) : anyGlob(m.columns(), o.name() + "." + col)) return true;
            }
        }
        return false;
    }

    private static boolean anyGlobOfTable(List<Glob> globs, String table) {
        for (Glob g : globs) if (g.mayMatchColumnOf(table)) return true;
        return false;
    }

    private static boolean anyGlob(List<Glob> globs, String value) {
        if (globs.isEmpty()) return true;
        for (Glob g : globs) if (g.matches(value)) return true;
        return false;
    }

    private static boolean intersects(Set<String> a, Set<String> b) {
        for (String x : a) if (b.contains(x)) return true;
        return false;
    }
}
