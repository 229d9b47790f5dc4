package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.QueryResult;
import dev.warden.core.engine.UpstreamSession;
import dev.warden.postgres.PostgresEngine;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The upstream session the MCP server uses: exact text, read-only fence, caps, reset, the statement timeout. */
class PgUpstreamSessionTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    @Test
    void runsExactTextWithFenceCapsAndReset() throws Exception {
        DatabaseConfig db = fx.database;
        try (UpstreamSession s = new PostgresEngine().connect(db)) {
            QueryResult r = s.run("SELECT id, email FROM users WHERE id <= 3 ORDER BY id", true, 100, 1 << 20);
            assertThat(r.columns()).containsExactly("id", "email");
            assertThat(r.rows()).containsExactly(java.util.List.of("1", "u1@example.com"), java.util.List.of("2", "u2@example.com"),
                    java.util.List.of("3", "u3@example.com"));
            assertThat(r.commandTag()).isEqualTo("SELECT 3");

            QueryResult capped = s.run("SELECT id FROM users", true, 10, 1 << 20);
            assertThat(capped.rows()).hasSize(10);
            assertThat(capped.rowCount()).isEqualTo(100);
            assertThat(capped.truncated()).isTrue();

            // the read-only fence holds even if a write slipped past classification
            assertThatThrownBy(() -> s.run("DELETE FROM audit_log", true, 10, 1 << 20))
                    .isInstanceOfSatisfying(UpstreamSession.UpstreamException.class, e -> assertThat(e.code()).isEqualTo("25006"));
            assertThat(fx.directCount("SELECT count(*) FROM audit_log")).isGreaterThanOrEqualTo(1);

            // an error leaves the session usable; the statement timeout is the database's
            assertThatThrownBy(() -> s.run("SELECT 1/0", false, 10, 1 << 20)).isInstanceOf(UpstreamSession.UpstreamException.class);
            assertThat(s.run("SHOW statement_timeout", false, 10, 1 << 20).rows().getFirst().getFirst()).isEqualTo("30s");

            s.run("SET application_name = 'changed'", false, 10, 1 << 20);
            s.run("BEGIN", false, 10, 1 << 20);
            s.reset();
            assertThat(s.run("SHOW application_name", false, 10, 1 << 20).rows().getFirst().getFirst()).isEqualTo("warden");
            assertThat(s.run("SHOW statement_timeout", false, 10, 1 << 20).rows().getFirst().getFirst()).isEqualTo("30s");
        }
    }

    /**
     * MCP's texts are classified under {@code "$user", public} for the configured user: its sessions run under that
     * path and as that user too, whatever the role's or the database's defaults ({@code SET role} among them). They ran under the default, so with {@code ALTER DATABASE … SET search_path =
     * app, public} an unqualified name was judged as public's and read from app (a view there, or tagged columns).
     */
    @Test
    void runsUnderThePathItsTextsAreClassifiedWith() throws Exception {
        try (java.sql.Connection c = fx.direct(); java.sql.Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS mcppath");
            st.execute("CREATE DATABASE mcppath");
            st.execute("ALTER DATABASE mcppath SET search_path = evil, public");
            st.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mcp_other') THEN CREATE ROLE mcp_other; END IF; END $$");
            st.execute("GRANT mcp_other TO " + ProxyFixture.UP_USER);
            st.execute("ALTER ROLE " + ProxyFixture.UP_USER + " IN DATABASE mcppath SET role = 'mcp_other'");
        }
        DatabaseConfig db = Listeners.db("mcppath", fx.pg.getPort(), "mcppath", dev.warden.core.config.ListenerConfig.DEFAULTS);
        try (UpstreamSession s = new PostgresEngine().connect(db)) {
            assertThat(path(s)).isEqualTo(dev.warden.core.engine.ClassifyContext.DEFAULT_SEARCH_PATH);
            assertThat(s.run("SELECT current_user", false, 10, 1 << 20).rows().getFirst().getFirst()).isEqualTo(ProxyFixture.UP_USER);
            s.run("SET search_path = evil", false, 10, 1 << 20);
            s.reset();
            assertThat(path(s)).isEqualTo(dev.warden.core.engine.ClassifyContext.DEFAULT_SEARCH_PATH);
        }
    }

    private static java.util.List<String> path(UpstreamSession s) throws Exception {
        return dev.warden.postgres.catalog.SearchPath.parse(s.run("SHOW search_path", false, 10, 1 << 20).rows().getFirst().getFirst());
    }
}
