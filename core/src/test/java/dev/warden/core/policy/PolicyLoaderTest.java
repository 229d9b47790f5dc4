package dev.warden.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.yaml.ConfigException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PolicyLoaderTest {
    static ConfigException error(String yaml) {
        try {
            PolicyLoader.parse(Path.of("p.yaml"), yaml.getBytes(StandardCharsets.UTF_8));
        } catch (ConfigException e) {
            return e;
        }
        throw new AssertionError("expected a load error for:\n" + yaml);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            misspelled match key     | rules:\\n  - name: a\\n    match: { kindd: [read] }\\n    action: allow      | 3 | rules[0].match.kindd | unknown key
            misspelled rule key      | rules:\\n  - name: a\\n    actoin: allow                                   | 3 | rules[0].actoin      | unknown key
            unknown top-level key    | rule:\\n  - name: a                                                       | 1 | rule                 | unknown key
            unknown kind             | rules:\\n  - name: a\\n    match: { kind: [reads] }\\n    action: allow     | 3 | rules[0].match.kind[0] | unknown kind 'reads'
            unknown action           | rules:\\n  - name: a\\n    action: permit                                  | 3 | rules[0].action      | unknown action 'permit'
            missing action           | rules:\\n  - name: a\\n    match: { kind: [read] }                         | 2 | rules[0]             | missing key 'action'
            missing name             | rules:\\n  - action: allow                                                | 2 | rules[0]             | missing key 'name'
            duplicate rule name      | rules:\\n  - name: a\\n    action: allow\\n  - name: a\\n    action: deny   | 4 | rules[1].name        | duplicate rule name 'a'
            empty rule list          | rules: []                                                                 | 1 | rules                | empty
            null rule list           | rules:                                                                    | 1 | rules                | empty
            rows_over not an int     | rules:\\n  - name: a\\n    match: { rows_over: many }\\n    action: allow   | 3 | rules[0].match.rows_over | expected an integer
            kind not a string        | rules:\\n  - name: a\\n    match: { kind: [{x: 1}] }\\n    action: allow   | 3 | rules[0].match.kind[0] | expected a string
            match not a mapping      | rules:\\n  - name: a\\n    match: [read]\\n    action: allow              | 3 | rules[0].match       | expected a mapping
            rules not a list         | rules: {name: a}                                                          | 1 | rules                | expected a list
            duplicate key            | rules:\\n  - name: a\\n    action: allow\\n    action: deny                | 4 | rules[0].action      | duplicate key
            approval on allow rule   | rules:\\n  - name: a\\n    action: allow\\n    approval: { mode: hold }    | 4 | rules[0].approval    | only applies
            bad approval mode        | rules:\\n  - name: a\\n    action: approve\\n    approval: { mode: wait }  | 4 | rules[0].approval.mode | unknown mode
            three approvers          | rules:\\n  - name: a\\n    action: approve\\n    approval: { approvers: 3 } | 4 | rules[0].approval.approvers | must be 1 or 2
            bad duration             | rules:\\n  - name: a\\n    action: approve\\n    approval: { timeout: soon } | 4 | rules[0].approval.timeout | expected a duration
            unknown engine           | rules:\\n  - name: a\\n    match: { engine: [oracle] }\\n    action: allow | 3 | rules[0].match.engine | unknown engine
            empty objects list       | rules:\\n  - name: a\\n    match: { objects: [] }\\n    action: allow      | 3 | rules[0].match.objects | empty
            not yaml                 | rules: [\\n                                                               | 2 | ''                   | not valid YAML
            empty file               | ''                                                                        | 1 | ''                   | empty
            """)
    void loadErrorsNameFileLineAndKey(String name, String yaml, int line, String key, String problem) {
        ConfigException e = error(yaml.replace("\\n", "\n"));
        assertThat(e.file()).isEqualTo(Path.of("p.yaml"));
        assertThat(e.line()).as(e.getMessage()).isEqualTo(line);
        assertThat(e.key()).as(e.getMessage()).isEqualTo(key == null ? "" : key);
        assertThat(e.getMessage()).startsWith("p.yaml:" + line + ": ").contains(problem);
    }

    @Test
    void theContractShapeLoads() throws Exception {
        Policy p = PolicyLoader.parse(Path.of("p.yaml"), PolicyEngineTest.STORY.getBytes(StandardCharsets.UTF_8));
        assertThat(p.rules()).extracting(Rule::name).containsExactly("reads", "schema-changes", "protect-audit-log");
        assertThat(p.hash()).hasSize(64);
        assertThat(p.rules().get(2).reason()).isEqualTo("the audit log is append-only");
        assertThat(p.rules().get(2).line()).isEqualTo(8);
    }

    @Test
    void aSingleValueIsAOneElementList() throws Exception {
        Policy p = PolicyLoader.parse(Path.of("p.yaml"), "rules:\n  - name: a\n    match: { kind: read, objects: public.x }\n    action: allow\n"
                .getBytes(StandardCharsets.UTF_8));
        assertThat(p.rules().getFirst().match().kinds()).hasSize(1);
    }

    @Test
    void missingFileIsAClearError() {
        assertThatThrownBy(() -> PolicyLoader.load(Path.of("/nonexistent/policy.yaml")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("/nonexistent/policy.yaml").hasMessageContaining("does not exist");
    }

    /**
     * A Latin-1 byte in a rule was replaced by U+FFFD and the policy loaded: a glob with it never matches, so a deny
     * rule silently stopped nothing (found by the README check: policy lint said only "expected a mapping" for a file
     * that began with such bytes, and nothing at all here).
     */
    @Test
    void bytesThatAreNotUtf8AreAnErrorAtTheirLine() {
        byte[] latin1 = "rules:\n  - name: no-cafe\n    match: {objects: [\"shop.caf\u00e9\"]}\n    action: deny\n"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> PolicyLoader.parse(Path.of("policy.yaml"), latin1))
                .isInstanceOf(ConfigException.class).hasMessageContaining("policy.yaml:3")
                .hasMessageContaining("not UTF-8 text (byte 0xe9)");
    }
}
