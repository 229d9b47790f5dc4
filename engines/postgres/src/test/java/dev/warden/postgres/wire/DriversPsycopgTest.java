package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * psycopg 3 (Debian's python3-psycopg) through Warden: {@code src/test/drivers/psycopg_case.py} runs as an agent would,
 * and the database is checked on a direct connection afterwards.
 */
class DriversPsycopgTest {
    static final String SCHEMA = "drv_psycopg";
    static DriverRig rig;

    @BeforeAll
    static void start() throws Exception {
        DriverRig.requirePython("psycopg", "python3-psycopg");
        rig = DriverRig.get();
        rig.schema(SCHEMA);
    }

    @Test
    void psycopgRunsThroughWarden() throws Exception {
        DriverRig.Script script = rig.start(List.of(DriverRig.PYTHON, "psycopg_case.py"), DriverRig.SCRIPTS,
                Map.of("DRV_SCHEMA", SCHEMA));
        ApprovalRequest held = script.approve("INSERT INTO " + SCHEMA + ".held");
        DriverRig.Run run = script.finish();
        assertThat(run.exit()).as("%s", run).isZero();

        assertThat(run.step("tls")).isEqualTo("True");
        assertThat(run.step("params")).isEqualTo("one");
        assertThat(run.step("prepared")).isEqualTo("two");
        assertThat(run.step("threshold")).isEqualTo("one,two,one,two,one,two,one,two");
        assertThat(run.step("prepared-insert")).isEqualTo("7");
        assertThat(run.step("transaction")).isEqualTo("committed");
        assertThat(run.step("copy-in")).isEqualTo("50");
        assertThat(run.step("copy-out")).isEqualTo("50 copied 100..copied 149");
        assertThat(run.step("server-cursor")).isEqualTo("50 100..149");
        assertThat(run.step("pipeline")).isEqualTo("2");
        assertThat(run.step("denied")).isEqualTo("42501 warden: denied by rule \"secrets-are-read-only\": agents may read"
                + " the secrets table, never change it");
        assertThat(run.step("after-denial")).isEqualTo("1");
        assertThat(run.step("pipeline-denied")).isEqualTo("42501");
        assertThat(run.step("after-pipeline-denial")).isEqualTo("1");
        assertThat(run.step("held")).isEqualTo("approved by a person");
        assertThat(run.step("done")).isEqualTo("ok");

        // It ran once the person approved it, with the parameters that were approved.
        assertThat(held.operation().parameters()).containsExactly("1", "approved by a person");
        assertThat(rig.rows("SELECT id, v FROM drv_psycopg.held")).containsExactly("1|approved by a person");
        // What each step left: the committed and copied rows are there, the rolled back and denied ones are not.
        assertThat(rig.rows("SELECT count(*) FROM drv_psycopg.items WHERE id BETWEEN 10 AND 16")).containsExactly("7");
        assertThat(rig.rows("SELECT id, name FROM drv_psycopg.items WHERE id IN (20, 21)")).containsExactly("20|committed");
        assertThat(rig.rows("SELECT count(*), min(name), max(name) FROM drv_psycopg.items WHERE id BETWEEN 100 AND 149"))
                .containsExactly("50|copied 100|copied 149");
        assertThat(rig.rows("SELECT id FROM drv_psycopg.items WHERE id IN (30, 31, 40, 41) ORDER BY id"))
                .containsExactly("30", "31");
        assertThat(rig.rows("SELECT id, v FROM drv_psycopg.secret")).containsExactly("1|the original");
    }
}
