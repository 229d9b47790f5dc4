package dev.warden.core;

import dev.warden.core.approval.AgentSwitch;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvals;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.LedgerException;
import dev.warden.core.metrics.Metrics;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The one pipeline every front end asks: classify, enrich, decide, approve, record. The same for every engine.
 *
 * <p>Contract: an operation may be forwarded only when {@link #judge} returned a verdict with {@code run == true};
 * by then its decision entry is in the ledger ({@link #judgeWithoutWaiting}: once {@link #writeAhead} returned).
 * Every failure on the way (no such database, a classifier or catalog that throws, a ledger that cannot write, an
 * approval that times out) ends in a refusal.
 */
public final class Gate {
    private final Map<String, Target> targets;
    private final AtomicReference<Policy> policy;
    private final Approvals approvals;
    private final Ledger ledger;
    private final String consoleUrl;
    private final AgentSwitch agents;

    /**
     * @param consoleUrl where approvers decide, for messages to agents; {@code null} when no console runs
     */
    public Gate(Map<String, Target> targets, Policy policy, Approvals approvals, Ledger ledger, String consoleUrl) {
        this(targets, policy, approvals, ledger, consoleUrl, null);
    }

    /**
     * @param agents the kill switch, or {@code null}: a disabled agent's operations are denied here, whatever the
     *               front end; front ends also find it through {@link #agents()} to refuse connections and end sessions
     */
    public Gate(Map<String, Target> targets, Policy policy, Approvals approvals, Ledger ledger, String consoleUrl,
                AgentSwitch agents) {
        this.targets = Map.copyOf(targets);
        this.policy = new AtomicReference<>(policy);
        this.approvals = approvals;
        this.ledger = ledger;
        this.consoleUrl = consoleUrl;
        this.agents = agents;
    }

    /** The kill switch, when one is configured. */
    public Optional<AgentSwitch> agents() {
        return Optional.ofNullable(agents);
    }

    public Policy policy() {
        return policy.get();
    }

    public Ledger ledger() {
        return ledger;
    }

    public Approvals approvals() {
        return approvals;
    }

    public Optional<Target> target(String database) {
        return Optional.ofNullable(targets.get(database));
    }

    /** Puts a new policy in force and records it. The old one stays if the entry cannot be written. */
    public void install(Policy next) throws LedgerException {
        ledger.append(new Entry.PolicyEntry(next.source(), next.hash(), next.rules().size()), Durability.SYNCED);
        policy.set(next);
    }

    /** Step 1: what the text does. Never throws; a classifier failure is an {@code unknown} statement. */
    public Classification classify(Operation op, ClassifyContext context) {
        Target t = targets.get(op.database());
        if (t == null) return Classification.unknown(op.text(), "database '" + op.database() + "' is not configured");
        if (!t.engine().equals(op.engine())) {
            return Classification.unknown(op.text(), "database '" + op.database() + "' is a " + t.engine() + " database");
        }
        try {
            return t.classifier().classify(op.text(), context);
        } catch (RuntimeException e) {
            return Classification.unknown(op.text(), "the classifier failed: " + e);
        }
    }

    /**
     * Step 1 when it needs no waiting: a classification the engine already knows. Empty when {@link #classify} must be
     * called on a thread that may block (an event loop hands the operation to such a thread).
     */
    public Optional<Classification> classifyWithoutWaiting(Operation op, ClassifyContext context) {
        Target t = targets.get(op.database());
        if (t == null || !t.engine().equals(op.engine())) return Optional.empty();
        try {
            return t.classifier().cached(op.text(), context);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Steps 2 to 5 when nothing on the way waits: no row estimate, a catalog whose cache is current, and an allowed
     * operation. Empty otherwise, and then nothing was recorded: the caller calls {@link #judge} on a thread that may
     * block.
     *
     * <p>The decision entry is only staged. The caller forwards the operation after {@link #writeAhead} with the
     * verdict's seq, so that an event loop writes the decisions of many sessions in one write; and when
     * {@link #waitsForSync(Verdict)}, only once {@link #afterSync} called back without an error.
     */
    public Optional<Verdict> judgeWithoutWaiting(Operation op, Classification c, ClassifyContext context) {
        Policy p = policy.get();
        Target t = targets.get(op.database());
        if (t == null || disabled(op) || PolicyEngine.needsEstimate(p, op, c)) {
            return Optional.empty();
        }
        Optional<Classification> enriched;
        try {
            enriched = t.catalog().enrichWithoutWaiting(op, c, context);
        } catch (RuntimeException e) {
            return Optional.empty();
        }
        if (enriched.isEmpty()) return Optional.empty();
        Decision d = PolicyEngine.decide(p, op, enriched.get());
        if (d.action() != Action.ALLOW) return Optional.empty();
        return Optional.of(record(op, enriched.get(), d, p, null, true, null, Durability.STAGED));
    }

    /** Whether the decision entry of a verdict of {@link #judgeWithoutWaiting} must be fsynced before it runs. */
    public boolean waitsForSync(Verdict v) {
        return ledger.waitsForSync(durability(v.decision(), v.classification()));
    }

    /**
     * Calls {@code then} (with {@code null}, or the reason it cannot be) once the decision entry {@code seq} is
     * fsynced; never blocks. The operation may run only after a call with {@code null}.
     */
    public void afterSync(long seq, Consumer<LedgerException> then) {
        ledger.afterSync(seq, then);
    }

    /**
     * Writes the staged decision entries up to {@code seq} (and all before them) to the ledger: the write-ahead step
     * of {@link #judgeWithoutWaiting}. Throws when they could not be written; the operations must not run then.
     */
    public void writeAhead(long seq) throws LedgerException {
        ledger.writeStaged(seq);
    }

    /** An allowed read waits only for its bytes to be written; everything else waits for the fsync. */
    private static Durability durability(Decision d, Classification c) {
        return d.action() == Action.ALLOW && c.kind().ordinal() <= Kind.READ.ordinal() ? Durability.WRITTEN : Durability.SYNCED;
    }

    /** The policy's decision on a classification, without enrichment, approval or record. */
    public Decision preview(Operation op, Classification c) {
        return PolicyEngine.decide(policy.get(), op, c);
    }

    /**
     * The policy's decision on a classification enriched by the catalog (tags; no row estimate, so a {@code rows_over}
     * rule counts it as exceeded), without approval or record: what the policy would say before anything runs.
     */
    public Decision previewEnriched(Operation op, Classification c, ClassifyContext context) {
        return PolicyEngine.decide(policy.get(), op, enrich(op, c, context, false));
    }

    /** Steps 1 to 5 for a text judged as a whole. */
    public Verdict submit(Operation op, ClassifyContext context, Hold hold) {
        return judge(op, classify(op, context), context, hold);
    }

    /**
     * Steps 2 to 5: enrich with the bound parameters, decide, approve when the rule says so, record. For a
     * {@code hold} approval this blocks the calling (virtual) thread until a person decides or the timeout passes.
     */
    public Verdict judge(Operation op, Classification c, ClassifyContext context, Hold hold) {
        return judge(op, c, context, (enriched, d, p) -> approve(op, enriched, d, p, hold)).orElseThrow();
    }

    /**
     * For a front end that judges a statement again where it runs (the wire's Parse, before its Execute): the
     * recorded verdict when the policy allows or denies it (or the agent is disabled); empty when the rule sends it to
     * approval, which is asked for where it runs. No approval request is opened or redeemed here: a ticket used up at
     * Parse left its Execute without one, and a hold rule opened a request no session waits for.
     */
    public Optional<Verdict> judgeUnlessApproval(Operation op, Classification c, ClassifyContext context) {
        return judge(op, c, context, (enriched, d, p) -> null);
    }

    /** What an {@code approve} decision leads to: a verdict, or {@code null} for none yet. */
    @FunctionalInterface
    private interface ApprovalStep {
        Verdict apply(Classification enriched, Decision d, Policy p);
    }

    private Optional<Verdict> judge(Operation op, Classification c, ClassifyContext context, ApprovalStep onApprove) {
        Policy p = policy.get();
        if (disabled(op)) return Optional.of(refuseDisabled(op, c, p));
        Classification enriched = enrich(op, c, context, PolicyEngine.needsEstimate(p, op, c));
        Decision d = PolicyEngine.decide(p, op, enriched);
        return switch (d.action()) {
            case ALLOW -> Optional.of(record(op, enriched, d, p, null, true));
            case DENY -> Optional.of(record(op, enriched, d, p, null, false));
            case APPROVE -> Optional.ofNullable(onApprove.apply(enriched, d, p));
        };
    }

    /** The kill switch: an approver disabled this agent. */
    private boolean disabled(Operation op) {
        return agents != null && !agents.allows(op.agent());
    }

    private Verdict refuseDisabled(Operation op, Classification c, Policy p) {
        return record(op, c, Decision.deny(null, "agent '" + op.agent() + "' is disabled by an approver (kill switch)"), p, null, false);
    }

    /**
     * Records an operation that Warden runs for an agent with its own fixed text, outside the policy (MCP's
     * {@code describe} reads the catalog): a decision entry like any other, before it runs, allowed by no rule for the
     * reason given. Refused, as everything is, when the agent is disabled or the ledger cannot record it.
     */
    public Verdict recordOwn(Operation op, Classification c, String reason) {
        Policy p = policy.get();
        if (disabled(op)) return refuseDisabled(op, c, p);
        return record(op, c, new Decision(Action.ALLOW, null, List.of(reason), null), p, null, true);
    }

    /**
     * Records a wrong secret or token (a front end's login): a denial entry, synced, under the name the client gave
     * ({@code agent}, possibly not an agent's) and the {@code engine} of the front end it came through.
     */
    public void authenticationFailed(String agent, String database, String engine, String address, String reason)
            throws LedgerException {
        Operation op = new Operation(agent, database, engine, "-- authentication", List.of(), null, "", address, null);
        Decision d = Decision.deny(null, reason);
        ledger.append(new Entry.DecisionEntry(op, Classification.unknown(op.text(), "failed authentication"), d,
                policy.get().hash(), null), Durability.SYNCED);
        Metrics.shared().decision(d.action().label(), engine);
    }

    private Classification enrich(Operation op, Classification c, ClassifyContext context, boolean estimate) {
        Target t = targets.get(op.database());
        if (t == null) return c;
        try {
            return t.catalog().enrich(op, c, context, estimate);
        } catch (RuntimeException e) {
            // Without enrichment, rows_over rules treat the estimate as exceeded and tags are unknown.
            return c.withEnrichment(c.tags(), Classification.NO_ESTIMATE, "enrichment failed: " + e.getMessage());
        }
    }

    private Verdict approve(Operation op, Classification c, Decision d, Policy p, Hold hold) {
        if (approvals == null) {
            return record(op, c, d, p, null, false, "warden: " + d.summary() + "; no approval service is configured");
        }
        Optional<ApprovalRequest> ticket = approvals.redeem(op, c);
        if (ticket.isPresent()) return record(op, c, d, p, ticket.get().id(), true);
        boolean answersAtOnce = hold == ANSWERS_AT_ONCE;
        if (answersAtOnce) hold = null;
        if (answersAtOnce && d.approval().mode() == ApprovalSpec.Mode.HOLD) {
            // A front end that answers at once (MCP) cannot hold the statement: its request is a ticket, which the
            // identical statement (MCP's run_approved) redeems once after approval. Otherwise nothing could run it.
            // Only such a front end says so: a wire session that merely does not hold this once (a Parse judged
            // before its Execute) must not turn a hold rule into a ticket it can redeem later, in any session.
            ApprovalSpec a = d.approval();
            d = new Decision(d.action(), d.rule(), d.reasons(), new ApprovalSpec(ApprovalSpec.Mode.TICKET, a.approvers(),
                    a.timeout(), a.validFor()));
        }
        ApprovalRequest request;
        try {
            request = approvals.open(op, c, d, hold != null && hold.inTransaction());
        } catch (RuntimeException e) {
            return record(op, c, d, p, null, false, "warden: " + d.summary() + "; the approval request could not be opened: " + e.getMessage(), durability(d, c));
        }
        String where = consoleUrl == null ? "" : " at " + consoleUrl + "/#/requests/" + request.id();
        if (d.approval().mode() == ApprovalSpec.Mode.TICKET || hold == null) {
            return record(op, c, d, p, request.id(), false, "warden: " + d.summary() + "; approval request "
                    + request.id() + " is pending" + where + "; once approved, send the identical statement again");
        }
        Verdict held = record(op, c, d, p, request.id(), false, null);
        if (held.seq() < 0) return held;
        hold.onHold().accept(new Held(request, "warden: waiting for approval of request " + request.id() + where
                + " (rule \"" + d.rule() + "\", times out in " + d.approval().timeout().toSeconds() + "s)"));
        ApprovalRequest done;
        try {
            done = approvals.await(request.id(), d.approval().timeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Verdict(false, d, c, held.seq(), request.id(), "warden: approval request " + request.id() + " abandoned: the client"
                    + " cancelled the wait, or its session ended; the statement did not run");
        }
        return switch (done.status()) {
            // The kill switch may have been thrown while it waited: an approval given meanwhile does not outrank it
            // (a front end that does not end the agent's sessions, or one that has not yet).
            case USED, APPROVED -> disabled(op)
                    ? new Verdict(false, d, c, held.seq(), request.id(), "warden: approval request " + request.id()
                            + " was approved, but agent '" + op.agent() + "' was disabled by an approver (kill switch) meanwhile; the statement did not run")
                    : new Verdict(true, d, c, held.seq(), request.id(), null);
            case DENIED -> new Verdict(false, d, c, held.seq(), request.id(), "warden: approval request " + request.id()
                    + " was denied by " + done.decidedBy() + (done.comment() == null || done.comment().isBlank() ? "" : ": " + done.comment()));
            default -> new Verdict(false, d, c, held.seq(), request.id(), "warden: approval request " + request.id()
                    + " expired after " + d.approval().timeout().toSeconds() + "s without a decision");
        };
    }

    private Verdict record(Operation op, Classification c, Decision d, Policy p, String approvalId, boolean run) {
        return record(op, c, d, p, approvalId, run, run ? null : "warden: " + d.summary());
    }

    private Verdict record(Operation op, Classification c, Decision d, Policy p, String approvalId, boolean run, String message) {
        return record(op, c, d, p, approvalId, run, message, durability(d, c));
    }

    private Verdict record(Operation op, Classification c, Decision d, Policy p, String approvalId, boolean run,
                           String message, Durability durability) {
        try {
            long seq = ledger.append(new Entry.DecisionEntry(op, c, d, p.hash(), approvalId), durability);
            Metrics.shared().decision(d.action().label(), op.engine());
            Metrics.shared().ledgerAppend(durability.name().toLowerCase(java.util.Locale.ROOT));
            return new Verdict(run, d, c, seq, approvalId, message, PolicyEngine.mayChangeSchema(p, op, c));
        } catch (LedgerException | RuntimeException e) {
            Decision refused = new Decision(Action.DENY, d.rule(), List.of("the ledger cannot record the decision: " + e.getMessage()), null);
            Metrics.shared().decision(Action.DENY.label(), op.engine());
            return new Verdict(false, refused, c, -1, approvalId, "warden: refused because the audit ledger cannot record it");
        }
    }

    /** Step 6: records what happened upstream. A failure here is reported, and the ledger marks itself unhealthy. */
    public void outcome(Verdict verdict, Outcome outcome) throws LedgerException {
        if (verdict.seq() < 0) return;
        Metrics.shared().upstream(outcome.durationMicros() * 1000);
        ledger.append(new Entry.OutcomeEntry(verdict.seq(), outcome), Durability.QUEUED);
    }

    /**
     * How a front end waits for a {@code hold} approval: {@code onHold} is told before the wait begins (the wire
     * front end sends a notice naming the request), and whether the session is inside a transaction block.
     */
    public record Hold(Consumer<Held> onHold, boolean inTransaction) {}

    /**
     * What a front end that never waits (MCP) passes for {@code hold}: a {@code hold} approval is opened as a ticket,
     * which the identical statement redeems once after approval. {@code null} instead opens it as {@code hold} (no
     * one waits for it, and no statement can redeem it).
     */
    public static final Hold ANSWERS_AT_ONCE = new Hold(held -> { }, false);

    /** A statement now waiting for a person, and the message to show the agent. */
    public record Held(ApprovalRequest request, String message) {}
}
