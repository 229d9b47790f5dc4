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
 * node-postgres ({@code pg}, with pg-cursor and pg-copy-streams) and postgres.js, versions pinned by
 * {@code src/test/drivers/node}'s package-lock.json and installed with {@code npm ci} under {@code target/}, through
 * Warden: {@code pg_case.js} and {@code postgresjs_case.js} run as an agent would, and the database is checked on a
 * direct connection afterwards.
 */
class DriversNodePostgresTest {
    static final String SCHEMA = "drv_node";
    static final String POSTGRESJS = "drv_postgresjs";
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
        rig.schema(POSTGRESJS);
    }

    private static DriverRig.Script node(String script, String schema) throws Exception {
        return rig.start(List.of("node", "node/" + script), DriverRig.SCRIPTS,
                Map.of("DRV_SCHEMA", schema, "NODE_PATH", INSTALL.resolve("node_modules").toAbsolutePath().toString()));
    }

    @Test
    void nodePostgresRunsThroughWarden() throws Exception {
        DriverRig.Script script = node("pg_case.js", SCHEMA);
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

    /** postgres.js pipelines what a program starts together: denials and a hold among pipelined queries. */
    @Test
    void postgresJsRunsThroughWarden() throws Exception {
        DriverRig.Script script = node("postgresjs_case.js", POSTGRESJS);
        ApprovalRequest held = script.approve("INSERT INTO \"drv_postgresjs\".\"held\"");
        DriverRig.Run run = script.finish();
        assertThat(run.exit()).as("%s", run).isZero();

        assertThat(run.step("version")).isEqualTo("3.4.9");
        assertThat(run.step("params")).isEqualTo("one");
        assertThat(run.step("pipelined")).isEqualTo(String.join(",", java.util.Collections.nCopies(10, "one,two")));
        assertThat(run.step("pipelined-denials")).isEqualTo("1,42501,2,42501,3");
        assertThat(run.step("transaction")).isEqualTo("committed");
        assertThat(run.step("copy-in")).isEqualTo("10");
        assertThat(run.step("cursor")).isEqualTo("10");
        // The insert ran once approved, and the read pipelined behind it waited for it.
        assertThat(run.step("held")).isEqualTo("1,1");
        assertThat(run.step("after-denial")).isEqualTo("the original");
        assertThat(run.step("done")).isEqualTo("ok");

        assertThat(held.operation().parameters()).containsExactly("2", "approved by a person");
        assertThat(rig.rows("SELECT id, v FROM drv_postgresjs.held")).containsExactly("2|approved by a person");
        assertThat(rig.rows("SELECT id, name FROM drv_postgresjs.items WHERE id IN (20, 21)")).containsExactly("20|committed");
        assertThat(rig.rows("SELECT count(*) FROM drv_postgresjs.items WHERE id BETWEEN 100 AND 109")).containsExactly("10");
        assertThat(rig.rows("SELECT id, v FROM drv_postgresjs.secret")).containsExactly("1|the original");
    }
}
