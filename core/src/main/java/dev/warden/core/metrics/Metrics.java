package dev.warden.core.metrics;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * Counters the pipeline increments and the console renders as Prometheus text. Lock-free on the hot path: a decision
 * costs one {@link LongAdder} increment. There is one shared instance per process ({@link #shared()}) because the
 * gate, the ledger and the front ends are built by different modules that all report to the one {@code /metrics}.
 */
public final class Metrics {
    /** Latency bucket upper bounds in seconds. */
    private static final double[] BUCKETS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final Metrics SHARED = new Metrics();

    private final Map<String, LongAdder> decisions = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> approvalEvents = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> ledgerAppends = new ConcurrentHashMap<>();
    private final AtomicLong held = new AtomicLong();
    private final LongAdder sessionsRefused = new LongAdder();
    private final Histogram fsync = new Histogram();
    private final Histogram upstream = new Histogram();
    private final Map<String, LongSupplier> gauges = new ConcurrentHashMap<>();

    public static Metrics shared() {
        return SHARED;
    }

    /** A decision by the gate: {@code action} is allow, approve or deny. */
    public void decision(String action, String engine) {
        decisions.computeIfAbsent(action + "\u0000" + engine, k -> new LongAdder()).increment();
    }

    public void approvalEvent(String type) {
        approvalEvents.computeIfAbsent(type, k -> new LongAdder()).increment();
    }

    /** One ledger append, by durability ({@code synced} or {@code written}). */
    public void ledgerAppend(String durability) {
        ledgerAppends.computeIfAbsent(durability, k -> new LongAdder()).increment();
    }

    /** How long one fsync of the ledger took; the ledger's writer reports it. */
    public void ledgerFsync(long nanos) {
        fsync.observe(nanos);
    }

    /** Time from forwarding a statement upstream to its completion. */
    public void upstream(long nanos) {
        upstream.observe(nanos);
    }

    public void heldStarted() {
        held.incrementAndGet();
    }

    public void heldEnded() {
        held.decrementAndGet();
    }

    public long held() {
        return held.get();
    }

    /** A connection refused because its agent is disabled. */
    public void sessionRefused() {
        sessionsRefused.increment();
    }

    /** A gauge read when rendering, such as the number of pending requests. */
    public void gauge(String name, LongSupplier value) {
        gauges.put(name, value);
    }

    public long decisions(String action, String engine) {
        LongAdder a = decisions.get(action + "\u0000" + engine);
        return a == null ? 0 : a.sum();
    }

    /** The Prometheus text exposition format, version 0.0.4. */
    public String render() {
        StringBuilder b = new StringBuilder();
        b.append("# HELP warden_decisions_total Decisions by the gate.\n# TYPE warden_decisions_total counter\n");
        new TreeMap<>(decisions).forEach((k, v) -> {
            String[] p = k.split("\u0000", 2);
            b.append("warden_decisions_total{action=\"").append(esc(p[0])).append("\",engine=\"").append(esc(p[1]))
                    .append("\"} ").append(v.sum()).append('\n');
        });
        b.append("# HELP warden_approval_events_total Approval request events.\n# TYPE warden_approval_events_total counter\n");
        new TreeMap<>(approvalEvents).forEach((k, v) ->
                b.append("warden_approval_events_total{event=\"").append(esc(k)).append("\"} ").append(v.sum()).append('\n'));
        b.append("# HELP warden_held_requests Statements waiting on the wire for a person.\n# TYPE warden_held_requests gauge\n");
        b.append("warden_held_requests ").append(held.get()).append('\n');
        new TreeMap<>(gauges).forEach((k, v) ->
                b.append("# TYPE ").append(k).append(" gauge\n").append(k).append(' ').append(v.getAsLong()).append('\n'));
        b.append("# HELP warden_sessions_refused_total Connections refused because the agent is disabled.\n# TYPE warden_sessions_refused_total counter\n");
        b.append("warden_sessions_refused_total ").append(sessionsRefused.sum()).append('\n');
        b.append("# HELP warden_ledger_appends_total Entries appended to the ledger.\n# TYPE warden_ledger_appends_total counter\n");
        new TreeMap<>(ledgerAppends).forEach((k, v) ->
                b.append("warden_ledger_appends_total{durability=\"").append(esc(k)).append("\"} ").append(v.sum()).append('\n'));
        fsync.render(b, "warden_ledger_fsync_seconds", "Time one ledger fsync took.");
        upstream.render(b, "warden_upstream_seconds", "Time from forwarding a statement to its completion.");
        return b.toString();
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static final class Histogram {
        private final LongAdder[] counts = new LongAdder[BUCKETS.length];
        private final LongAdder count = new LongAdder();
        private final LongAdder sumNanos = new LongAdder();

        Histogram() {
            for (int i = 0; i < counts.length; i++) counts[i] = new LongAdder();
        }

        void observe(long nanos) {
            double s = nanos / 1e9;
            for (int i = 0; i < BUCKETS.length; i++) {
                if (s <= BUCKETS[i]) {
                    counts[i].increment();
                    break;
                }
            }
            count.increment();
            sumNanos.add(nanos);
        }

        void render(StringBuilder b, String name, String help) {
            b.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" histogram\n");
            long cumulative = 0;
            for (int i = 0; i < BUCKETS.length; i++) {
                cumulative += counts[i].sum();
                b.append(name).append("_bucket{le=\"").append(String.format(Locale.ROOT, "%s", BUCKETS[i])).append("\"} ")
                        .append(cumulative).append('\n');
            }
            b.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n');
            b.append(name).append("_sum ").append(String.format(Locale.ROOT, "%.6f", sumNanos.sum() / 1e9)).append('\n');
            b.append(name).append("_count ").append(count.sum()).append('\n');
        }
    }
}
