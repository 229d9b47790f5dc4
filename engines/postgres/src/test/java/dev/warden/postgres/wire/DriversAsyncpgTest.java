package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * asyncpg (Debian's python3-asyncpg) through Warden: {@code src/test/drivers/asyncpg_case.py} runs as an agent would,
 * and the database is checked on a direct connection afterwards.
 */
class DriversAsyncpgTest {
    static final String SCHEMA = "drv_asyncpg";
    static DriverRig rig;

    @BeforeAll
    static void start() throws Exception {
        DriverRig.requirePython("asyncpg", "python3-asyncpg");
        rig = DriverRig.get();
        rig.schema(SCHEMA);
    }

    @Test
    void asyncpgRunsThroughWarden() throws Exception {
        DriverRig.Script script = rig.start(List.of(DriverRig.PYTHON, "asyncpg_case.py"), DriverRig.SCRIPTS,
                Map.of("DRV_SCHEMA", SCHEMA));
        ApprovalRequest heldCopy = script.approve("COPY \"drv_asyncpg\".\"held\" FROM STDIN");
        ApprovalRequest held = script.approve("INSERT INTO " + SCHEMA + ".held");
        DriverRig.Run run = script.finish();
        assertThat(run.exit()).as("%s", run).isZero();

        assertThat(run.step("tls")).isEqualTo("True");
        assertThat(run.step("fetch")).isEqualTo("1=one,2=two");
        assertThat(run.step("introspection")).isEqualTo("busy");
        assertThat(run.step("execute")).isEqualTo("INSERT 0 1");
        assertThat(run.step("executemany")).isEqualTo("5");
        assertThat(run.step("copy-records")).isEqualTo("COPY 40");
        assertThat(run.step("copy-out")).isEqualTo("COPY 40");
        assertThat(run.step("copy-out-rows")).isEqualTo("139");
        assertThat(run.step("transaction")).isEqualTo("committed");
        assertThat(run.step("cursor")).isEqualTo("40 100..139");
        assertThat(run.step("denied")).isEqualTo("42501 warden: denied by rule \"secrets-are-read-only\": agents may read"
                + " the secrets table, never change it");
        assertThat(run.step("after-denial")).isEqualTo("the original");
        assertThat(run.step("copy-denied")).isEqualTo("42501");
        assertThat(run.step("denied-in-transaction")).isEqualTo("42501");
        assertThat(run.step("after-denied-transaction")).isEqualTo("0");
        assertThat(run.step("held-copy")).isEqualTo("COPY 1");
        assertThat(run.step("held")).isEqualTo("INSERT 0 1");
        assertThat(run.step("pool")).isEqualTo("2 acquisitions, 1 connection");
        assertThat(run.step("done")).isEqualTo("ok");

        // asyncpg binds in binary: recorded as hex.
        assertThat(held.operation().parameters()).containsExactly("\\x00000001",
                "\\x" + java.util.HexFormat.of().formatHex("approved by a person".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        // The COPY's column query was parsed in the same implicit transaction, whose locks the wait kept: said so.
        assertThat(heldCopy.inTransaction()).isTrue();
        assertThat(rig.rows("SELECT id, v FROM drv_asyncpg.held ORDER BY id"))
                .containsExactly("1|approved by a person", "2|copied once approved");
        assertThat(rig.rows("SELECT id, name, mood FROM drv_asyncpg.items WHERE id = 10")).containsExactly("10|ten|calm");
        assertThat(rig.rows("SELECT count(*) FROM drv_asyncpg.items WHERE id BETWEEN 11 AND 15")).containsExactly("5");
        assertThat(rig.rows("SELECT count(*), min(name), max(name) FROM drv_asyncpg.items WHERE id BETWEEN 100 AND 139"))
                .containsExactly("40|copied 100|copied 139");
        assertThat(rig.rows("SELECT id, name FROM drv_asyncpg.items WHERE id IN (20, 21, 30)")).containsExactly("20|committed");
        assertThat(rig.rows("SELECT id, v FROM drv_asyncpg.secret")).containsExactly("1|the original");
    }
}
