package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** psql through Warden (the test command installs postgresql-client). */
class PsqlTest {
    static ProxyFixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = ProxyFixture.get();
    }

    record Run(int exit, String out, String err) {}

    private static Run psql(String password, String sslmode, String... sql) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("psql", "-X", "-A", "-t", "-v", "VERBOSITY=verbose",
                "host=127.0.0.1 port=" + fx.port() + " dbname=app user=" + ProxyFixture.AGENT + " sslmode=" + sslmode));
        for (String s : sql) {
            cmd.add("-c");
            cmd.add(s);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PGPASSWORD", password);
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out, err);
    }

    @Test
    void psqlReadsAndIsDeniedWithTheRuleName() throws Exception {
        Run r = psql(ProxyFixture.AGENT_SECRET, "disable", "SELECT email FROM users WHERE id = 9", "DELETE FROM audit_log", "SELECT count(*) FROM users");
        assertThat(r.out()).contains("u9@example.com").contains("100");
        assertThat(r.err()).contains("42501").contains("warden: denied by rule \"protect-audit-log\"");
    }

    @Test
    void psqlOverTls() throws Exception {
        Run r = psql(ProxyFixture.AGENT_SECRET, "require", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", "SELECT count(*) FROM users");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("100");
    }

    @Test
    void bytesAfterSslRequestBeforeTheAnswerAreRefused() throws Exception {
        // CVE-2021-23214: plaintext sent along with the SSLRequest must never be read as if it came over TLS.
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", fx.port())) {
            s.setSoTimeout(10_000);
            byte[] sslRequest = {0, 0, 0, 8, 0x04, (byte) 0xd2, 0x16, 0x2f};
            byte[] injected = {'Q', 0, 0, 0, 13, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1', 0};
            byte[] both = new byte[sslRequest.length + injected.length];
            System.arraycopy(sslRequest, 0, both, 0, sslRequest.length);
            System.arraycopy(injected, 0, both, sslRequest.length, injected.length);
            s.getOutputStream().write(both);
            s.getOutputStream().flush();
            int first = s.getInputStream().read();
            assertThat(first).as("no 'S': the connection is refused").isNotEqualTo((int) 'S');
        }
        // And a well-behaved client right after still gets TLS.
        assertThat(psql(ProxyFixture.AGENT_SECRET, "require", "SELECT 1").exit()).isZero();
    }

    @Test
    void psqlWithAWrongSecret() throws Exception {
        Run r = psql("wrong", "disable", "SELECT 1");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("password authentication failed for user \"agent\"");
    }
    /**
     * Coding agents look at a database with psql's describe commands before they write a query: each is one or more
     * catalog reads psql builds itself (regular expressions, visibility functions, array functions…).
     */
    @Test
    void psqlDescribeCommandsAreReads() throws Exception {
        for (String meta : List.of("\\d users", "\\d+ users", "\\dt", "\\dt+", "\\d", "\\dn", "\\df", "\\dv", "\\di",
                "\\ds", "\\du", "\\l", "\\dx", "\\dT", "\\dp users", "\\sf+ pg_catalog.now", "\\conninfo")) {
            Run r = psql(ProxyFixture.AGENT_SECRET, "disable", meta);
            assertThat(r.exit()).as("%s: %s", meta, r.err()).isZero();
            assertThat(r.err()).as(meta).doesNotContain("42501").doesNotContain("ERROR");
        }
        assertThat(psql(ProxyFixture.AGENT_SECRET, "disable", "\\d users").out()).contains("email|text");
    }
}
