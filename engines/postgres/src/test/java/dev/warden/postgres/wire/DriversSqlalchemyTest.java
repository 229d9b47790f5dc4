package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.approval.ApprovalRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * SQLAlchemy over psycopg2 (Debian's python3-sqlalchemy and python3-psycopg2), the stack of LangChain's SQLDatabase,
 * through Warden: {@code src/test/drivers/sqlalchemy_case.py} reflects the schema, queries, writes in transactions,
 * streams through a server-side cursor, is denied and held; the database is checked on a direct connection afterwards.
 */
class DriversSqlalchemyTest {
    static final String SCHEMA = "drv_sqlalchemy";
    static DriverRig rig;

    @BeforeAll
    static void start() throws Exception {
        DriverRig.requirePython("psycopg2", "python3-psycopg2");
        DriverRig.requirePython("sqlalchemy", "python3-sqlalchemy");
        rig = DriverRig.get();
        rig.schema(SCHEMA);
    }

    @Test
    void sqlalchemyOverPsycopg2RunsThroughWarden() throws Exception {
        DriverRig.Script script = rig.start(List.of(DriverRig.PYTHON, "sqlalchemy_case.py"), DriverRig.SCRIPTS,
                Map.of("DRV_SCHEMA", SCHEMA));
        ApprovalRequest held = script.approve("INSERT INTO " + SCHEMA + ".held");
        DriverRig.Run run = script.finish();
        assertThat(run.exit()).as("%s", run).isZero();

        assertThat(run.step("tables")).isEqualTo("held,items,secret");
        assertThat(run.step("columns")).isEqualTo("id,name,mood");
        assertThat(run.step("primary-key")).isEqualTo("id");
        assertThat(run.step("enums")).isEqualTo("mood");
        assertThat(run.step("select")).isEqualTo("one");
        assertThat(run.step("text")).isEqualTo("two");
        assertThat(run.step("stream")).isEqualTo("1,2,10,11,12,13,14");
        assertThat(run.step("transaction")).isEqualTo("5");
        assertThat(run.step("denied")).isEqualTo("InsufficientPrivilege 42501");
        assertThat(run.step("after-denial")).isEqualTo("the original");
        assertThat(run.step("held")).isEqualTo("approved by a person");
        assertThat(run.step("pool")).isEqualTo("1 connection back in the pool");
        assertThat(run.step("done")).isEqualTo("ok");

        // psycopg2 interpolates on the client: the approved text holds the values.
        assertThat(held.operation().text()).isEqualTo("INSERT INTO drv_sqlalchemy.held (id, v) VALUES (1, 'approved by a person')");
        assertThat(rig.rows("SELECT id, v FROM drv_sqlalchemy.held")).containsExactly("1|approved by a person");
        assertThat(rig.rows("SELECT id FROM drv_sqlalchemy.items ORDER BY id")).containsExactly("1", "2", "10", "11", "12", "13", "14");
        assertThat(rig.rows("SELECT id, v FROM drv_sqlalchemy.secret")).containsExactly("1|the original");
    }
}
