package dev.warden.app.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.app.config.ConfigLoader;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The least-privilege warning at start: privileges of the upstream role that no rule would ever let an agent use. */
class PrivilegeCheckTest {
    @TempDir
    Path dir;

    @Test
    void privilegesThePolicyNeverUsesAreNamedAndThoseItUsesAreNot() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                // Before PostgreSQL 15 every role may create in schema public: the check says so, so not here.
                s.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
                s.execute("CREATE TABLE orders (id int, note text)");
                s.execute("CREATE TABLE audit (what text)");
                s.execute("CREATE ROLE tight LOGIN PASSWORD 'tight-pw'");
                s.execute("CREATE ROLE loose LOGIN PASSWORD 'loose-pw'");
                s.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO tight, loose");
                s.execute("GRANT SELECT ON audit TO tight");
                s.execute("GRANT SELECT, INSERT ON audit TO loose");
                s.execute("GRANT CREATE ON SCHEMA public TO loose");
                s.execute("GRANT CREATE ON DATABASE postgres TO loose");
                s.execute("CREATE SEQUENCE order_ids");
                s.execute("GRANT USAGE ON SEQUENCE order_ids TO tight"); // nextval for inserts: not a warning
                s.execute("GRANT UPDATE ON SEQUENCE order_ids TO loose"); // setval too
                // Runs as its owner (the superuser): a way around every privilege the role lacks.
                s.execute("CREATE FUNCTION wipe_audit(keep int) RETURNS void SECURITY DEFINER LANGUAGE sql AS 'DELETE FROM audit'");
                s.execute("CREATE FUNCTION count_orders() RETURNS bigint SECURITY INVOKER LANGUAGE sql AS 'SELECT count(*) FROM orders'");
                s.execute("REVOKE EXECUTE ON FUNCTION wipe_audit(int) FROM PUBLIC");
                s.execute("GRANT EXECUTE ON FUNCTION wipe_audit(int) TO loose");
            }
            Files.writeString(dir.resolve("policy.yaml"), """
                    rules:
                      - name: reads
                        match: {kind: [read]}
                        action: allow
                      - name: order-writes
                        match: {kind: [write], objects: ["public.orders"]}
                        action: allow
                      - name: audit
                        match: {kind: [write, ddl], objects: ["*.audit"]}
                        action: deny
                    """);
            StringBuilder dbs = new StringBuilder();
            for (String role : new String[] {"tight", "loose"}) {
                dbs.append("""
                          - name: %s
                            engine: postgres
                            listen: 127.0.0.1:0
                            upstream: {host: 127.0.0.1, port: %d, database: postgres, user: %s, password: %s-pw}
                        """.formatted(role, pg.getPort(), role, role));
            }
            Path config = dir.resolve("warden.yaml");
            Files.writeString(config, """
                    data_dir: data
                    policy: policy.yaml
                    agents:
                      - name: agent
                        secret: agent-secret-123
                    databases:
                    """ + dbs);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
            try (WardenService service = WardenService.build(new ConfigLoader(System::getenv, w -> { }).load(config), null, log)) {
                service.checkUpstreams();
            }
            String out = bytes.toString(StandardCharsets.UTF_8);
            assertThat(out).doesNotContain("database 'tight'");
            assertThat(out).contains("warning: database 'loose': the upstream role 'loose' can do what the policy never lets an agent do: "
                    + "INSERT on public.audit, UPDATE on sequence public.order_ids (setval), "
                    + "EXECUTE on SECURITY DEFINER function wipe_audit(integer), "
                    + "CREATE in schema public, CREATE on the database (new schemas); revoke it");
            assertThat(out).doesNotContain("count_orders");
            assertThat(out).doesNotContain("orders");
        }
    }
}
