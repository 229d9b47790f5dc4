package dev.warden.postgres.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How {@link RowBound} reads the planner's spelling of conditions; the bounds themselves: CatalogClassifierTest. */
class RowBoundTest {
    @Test
    void conjunctsSplitOnlyAtTheTopLevelOutsideQuotes() {
        assertThat(RowBound.conjuncts("((t.a >= 5) AND (t.a <= 10))")).containsExactly("(t.a >= 5)", "(t.a <= 10)");
        assertThat(RowBound.conjuncts("(t.a = 5)")).containsExactly("(t.a = 5)");
        assertThat(RowBound.conjuncts("((t.s = 'x AND y'::text) AND (t.\"Odd AND\" = 'it''s'::text))"))
                .containsExactly("(t.s = 'x AND y'::text)", "(t.\"Odd AND\" = 'it''s'::text)");
        // An OR, or parentheses that do not enclose the whole: one conjunct.
        assertThat(RowBound.conjuncts("((t.a = 1) OR ((t.b = 2) AND (t.c = 3)))")).hasSize(1);
        assertThat(RowBound.conjuncts("(t.a = 1) AND (t.b = 2)")).hasSize(1);
    }

    @Test
    void onlyAColumnComparedWithAConstantIsSimple() {
        for (String simple : List.of("(t.a = 5)", "(t.a <= '-5'::integer)", "(t.name = 'n''5'::text)",
                "((t.email)::text = 'x'::text)", "(t.a = ANY ('{1,2,3}'::integer[]))", "(t.a IS NULL)",
                "(t.ts < '2020-01-01 00:00:00'::timestamp without time zone)", "(\"T\".\"Col\" <> 7.5)")) {
            assertThat(RowBound.simple(simple)).as(simple).isNotNull();
        }
        assertThat(RowBound.simple("((t.email)::text = 'x'::text)")).isEqualTo(new RowBound.Simple("t.email", "email", "text", true, true));
        assertThat(RowBound.simple("(\"T\".\"Co\"\"l\" = 5)")).isEqualTo(new RowBound.Simple("\"T\".\"Co\"\"l\"", "Co\"l", null, true, true));
        assertThat(RowBound.simple("(t.a = ANY ('{1,2,3}'::integer[]))").equality()).isTrue();
        assertThat(RowBound.simple("(t.a = ANY ('{1,2,3}'::integer[]))").single()).isFalse();
        assertThat(RowBound.simple("(t.a <> ANY ('{1,2,3}'::integer[]))").equality()).isFalse();
        assertThat(RowBound.simple("(t.a IS NULL)").equality()).isFalse();
        for (String not : List.of("((t.a % 1) = 0)", "(t.a = t.b)", "(t.a = $1)", "(t.a = (SubPlan 1))",
                "(t.a OPERATOR(public.===) 1)", "(t.name ~~ '%x%'::text)", "(length(t.name) = 5)", "t.flag",
                "(t.a = 5) OR (t.b = 1)", "((t.a = 1) OR (t.b = 2))", "(t.a = NULL::integer)")) {
            assertThat(RowBound.simple(not)).as(not).isNull();
        }
    }
}
