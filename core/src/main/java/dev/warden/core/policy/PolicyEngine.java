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
                    || (d.action() == worst.action() && worst.rule() == null && d.rule() != null)) {
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
            if (!matches(r.match(), op, c, s)) continue;
            if (winner == null || r.action().ordinal() > winner.action().ordinal()) winner = r;
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
     * Whether a row estimate could change the decision: some {@code rows_over} rule matches a statement in every other
     * respect (tags, which enrichment adds, count as matching). Without one, the catalog need not ask the planner.
     */
    public static boolean needsEstimate(Policy policy, Operation op, Classification c) {
        for (Rule r : policy.rules()) {
            if (r.match().rowsOver() == null) continue;
            for (Statement s : c.statements()) if (matches(r.match(), op, c, s, true)) return true;
        }
        return false;
    }

    static boolean matches(Match m, Operation op, Classification c, Statement s) {
        return matches(m, op, c, s, false);
    }

    private static boolean matches(Match m, Operation op, Classification c, Statement s, boolean beforeEnrichment) {
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
        if (!m.kinds().isEmpty() && !m.kinds().contains(kind)) return false;
        if (!m.objects().isEmpty() && !objectMatches(m, s)) return false;
        if (!m.columns().isEmpty() && !columnMatches(m, s)) return false;
        if (!m.flags().isEmpty() && !intersects(m.flags(), s.flags())) return false;
        if (beforeEnrichment) return true;
        if (!m.tags().isEmpty() && !intersects(m.tags(), c.tags())) return false;
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

    private static boolean objectMatches(Match m, Statement s) {
        for (ObjectAccess o : s.objects()) {
            if (modeMatches(m, o.access()) && anyGlob(m.objects(), o.name())) return true;
        }
        return false;
    }

    private static boolean columnMatches(Match m, Statement s) {
        for (ObjectAccess o : s.objects()) {
            if (!modeMatches(m, o.access())) continue;
            for (String col : o.columns()) if (anyGlob(m.columns(), o.name() + "." + col)) return true;
        }
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
