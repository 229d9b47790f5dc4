package dev.warden.bench;

import dev.warden.core.Access;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The policy decision on its own: it sits on every statement's path. */
@State(Scope.Benchmark)
public class PolicyBenchmark {
    Policy policy;
    Operation op;
    Classification read;

    @Setup
    public void setup() throws Exception {
        String yaml = """
                rules:
                  - name: reads
                    match: { kind: [read] }
                    action: allow
                  - name: schema-changes
                    match: { kind: [ddl] }
                    action: approve
                  - name: protect-audit-log
                    match: { objects: ["public.audit_log"], kind: [write, ddl] }
                    action: deny
                    reason: the audit log is append-only
                """;
        policy = PolicyLoader.parse(Path.of("bench.yaml"), yaml.getBytes(StandardCharsets.UTF_8));
        op = new Operation("agent", "app", "postgres", "SELECT * FROM orders WHERE id = 1", List.of(), null, "s", "local", null);
        read = Classification.of(List.of(new Statement(Kind.READ, op.text(), "SELECT",
                List.of(new ObjectAccess("public.orders", Access.READ, List.of("id", "total"))), List.of(), Set.of(), List.of())));
    }

    @Benchmark
    public Decision decideRead() {
        return PolicyEngine.decide(policy, op, read);
    }
}
