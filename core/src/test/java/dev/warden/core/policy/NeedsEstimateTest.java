package dev.warden.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Access;
import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The planner is asked for a row estimate only when a rows_over rule could use it. */
class NeedsEstimateTest {
    static Policy policy(String yaml) throws Exception {
        return PolicyLoader.parse(Path.of("p.yaml"), yaml.getBytes(StandardCharsets.UTF_8));
    }

    static Classification of(Kind kind, String object, Access access) {
        return Classification.of(List.of(new Statement(kind, "x", "X", List.of(ObjectAccess.of(object, access)), List.of(), Set.of(), List.of("r"))));
    }

    static final Operation OP = new Operation("a", "db", "postgres", "x", List.of(), null, null, null, null);

    @Test
    void onlyWhenARowsOverRuleMatchesOtherwise() throws Exception {
        Policy p = policy("""
                rules:
                  - name: reads
                    match: {kind: [read]}
                    action: allow
                  - name: bulk
                    match: {kind: [write], objects: ["public.orders"], tags: [pii], rows_over: 100}
                    action: approve
                """);
        assertThat(PolicyEngine.needsEstimate(p, OP, of(Kind.READ, "public.orders", Access.READ))).isFalse();
        assertThat(PolicyEngine.needsEstimate(p, OP, of(Kind.WRITE, "public.users", Access.WRITE))).isFalse();
        // tags are not known before enrichment: they count as matching
        assertThat(PolicyEngine.needsEstimate(p, OP, of(Kind.WRITE, "public.orders", Access.WRITE))).isTrue();
        assertThat(PolicyEngine.needsEstimate(policy("rules:\n  - name: r\n    action: allow\n"), OP, of(Kind.WRITE, "public.orders", Access.WRITE))).isFalse();
    }
}
