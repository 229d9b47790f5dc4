package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * node-postgres ({@code pg}, with pg-cursor and pg-copy-streams, versions pinned by {@code src/test/drivers/node}'s
 * package-lock.json and installed with {@code npm ci} under {@code target/}) through Warden:
 * {@code src/test/drivers/node/pg_case.js} runs as an agent would, and the database is checked on a direct
 * connection afterwards.
 */
class DriversNodePostgresTest {
    static final String SCHEMA = "drv_node";
    static final Path INSTALL = Path.of("target/drivers-node");
    static DriverRig rig;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(INSTALL);
        for (String f : List.of("package.json", "package-lock.json")) {
            Files.copy(DriverRig.SCRIPTS.resolve("node").resolve(f), INSTALL.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        DriverRig.Run npm = DriverRig.check(INSTALL, "npm", "ci", "--no-audit", "--no-fund");
        assertThat(npm.exit()).as("npm ci of the pinned node-postgres packages failed: Node.js and npm are needed (Debian"
                + " packages nodejs and npm; ./warden test installs them) and the npm registry must be reachable\n%s", npm).isZero();
        rig = DriverRig.get();
        rig.schema(SCHEMA);
    }

    @Test
    void nodePostgresRunsThroughWarden() throws Exception {
        DriverRig.Script script = rig.start(List.of("node", "node/pg_case.js"), DriverRig.SCRIPTS,
                Map.of("DRV_SCHEMA", SCHEMA, "NODE_PATH", INSTALL.resolve("node_modules").toAbsolutePath().toString()));
        ApprovalRequest held = script.approve("INSERT INTO " + SCHEMA + ".held");
        DriverRig.Run run = script.finish();
        assertThat(run.exit()).as("%s", run).isZero();

        // node-postgres asks for no TLS unless told to: this case covers the plain connection, the Python ones TLS.
        assertThat(run.step("version")).isEqualTo("8.23.1");
        assertThat(run.step("params")).isEqualTo("one");
        assertThat(run.step("prepared")).isEqualTo("two,one,two");
        assertThat(run.step("prepared-insert")).isEqualTo("3");
        assertThat(run.step("transaction")).isEqualTo("committed");
        assertThat(run.step("copy-in")).isEqualTo("30");
        assertThat(run.step("copy-out")).isEqualTo("30 100..129");
        assertThat(run.step("cursor")).isEqualTo("30 100..129");
        String denial = "42501 warden: denied by rule \"secrets-are-read-only\": agents may read the secrets table, never change it";
        assertThat(run.step("denied")).isEqualTo(denial);
        assertThat(run.step("denied-named")).isEqualTo(denial);
        assertThat(run.step("denied-named-again")).isEqualTo(denial);
        assertThat(run.step("after-denial")).isEqualTo("the original");
        assertThat(run.step("held")).isEqualTo("1");
        assertThat(run.step("done")).isEqualTo("ok");

        assertThat(held.operation().parameters()).containsExactly("1", "approved by a person");
        assertThat(rig.rows("SELECT id, v FROM drv_node.held")).containsExactly("1|approved by a person");
        assertThat(rig.rows("SELECT id, name FROM drv_node.items WHERE id BETWEEN 10 AND 12 ORDER BY id"))
                .containsExactly("10|named 10", "11|named 11", "12|named 12");
        assertThat(rig.rows("SELECT id, name FROM drv_node.items WHERE id IN (20, 21)")).containsExactly("20|committed");
        assertThat(rig.rows("SELECT count(*), min(name), max(name) FROM drv_node.items WHERE id BETWEEN 100 AND 129"))
                .containsExactly("30|copied 100|copied 129");
        assertThat(rig.rows("SELECT id, v FROM drv_node.secret")).containsExactly("1|the original");
    }
}
