package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What tools do first on a new connection: read the schema through the driver's metadata calls. They are catalog
 * reads, and a policy that allows reads must let them through (a false denial here breaks every database tool).
 */
class DriverMetadataTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    private static List<String> column(ResultSet rs, String name) throws Exception {
        List<String> out = new ArrayList<>();
        try (rs) {
            while (rs.next()) out.add(rs.getString(name));
        }
        return out;
    }

    @Test
    void pgjdbcMetadataCallsAreAllowedReads() throws Exception {
        for (String mode : List.of("", "preferQueryMode=simple")) {
            try (Connection c = fx.agent(mode)) {
                DatabaseMetaData md = c.getMetaData();
                assertThat(column(md.getTables(null, "public", "%", new String[] {"TABLE"}), "TABLE_NAME"))
                        .contains("users", "orders", "audit_log");
                assertThat(column(md.getColumns(null, "public", "users", "%"), "COLUMN_NAME"))
                        .containsExactly("id", "name", "email");
                assertThat(column(md.getPrimaryKeys(null, "public", "users"), "COLUMN_NAME")).containsExactly("id");
                assertThat(column(md.getIndexInfo(null, "public", "users", false, false), "INDEX_NAME")).contains("users_pkey");
                assertThat(column(md.getSchemas(), "TABLE_SCHEM")).contains("public", "pg_catalog");
                assertThat(column(md.getImportedKeys(null, "public", "orders"), "FKCOLUMN_NAME")).isEmpty();
                assertThat(column(md.getTypeInfo(), "TYPE_NAME")).contains("int4", "text");
                assertThat(column(md.getFunctions(null, "pg_catalog", "lower"), "FUNCTION_NAME")).contains("lower");
                assertThat(column(md.getTablePrivileges(null, "public", "users"), "PRIVILEGE")).contains("SELECT");
                assertThat(md.getDatabaseProductVersion()).isNotBlank();
            }
        }
    }
}
