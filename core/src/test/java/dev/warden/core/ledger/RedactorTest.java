package dev.warden.core.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactorTest {
    final Redactor passwords = new Redactor(false);
    final Redactor literals = new Redactor(true);

    @Test
    void passwordLiteralsInRoleStatements() {
        assertThat(passwords.redact("postgres", "CREATE ROLE app WITH LOGIN PASSWORD 'it''s secret'"))
                .isEqualTo("CREATE ROLE app WITH LOGIN PASSWORD '[redacted]'");
        assertThat(passwords.redact("postgres", "alter user bob encrypted password 'x' valid until '2030-01-01'"))
                .isEqualTo("alter user bob encrypted password '[redacted]' valid until '2030-01-01'");
        assertThat(passwords.redact("postgres", "CREATE USER u PASSWORD $pw$sec'ret$pw$"))
                .isEqualTo("CREATE USER u PASSWORD '[redacted]'");
        assertThat(passwords.redact("postgres", "ALTER ROLE r PASSWORD E'a\\'b'")).isEqualTo("ALTER ROLE r PASSWORD '[redacted]'");
        assertThat(passwords.redact("mysql", "CREATE USER 'u'@'%' IDENTIFIED BY 'pw1'")).isEqualTo("CREATE USER 'u'@'%' IDENTIFIED BY '[redacted]'");
        assertThat(passwords.redact("mysql", "ALTER USER u IDENTIFIED WITH caching_sha2_password BY \"pw2\""))
                .isEqualTo("ALTER USER u IDENTIFIED WITH caching_sha2_password BY '[redacted]'");
        assertThat(passwords.redact("mysql", "SET PASSWORD FOR u = 'pw3'")).isEqualTo("SET PASSWORD FOR u = '[redacted]'");
        assertThat(passwords.redact("mongodb", "{\"createUser\":\"u\",\"pwd\":\"pw4\",\"roles\":[]}"))
                .isEqualTo("{\"createUser\":\"u\",\"pwd\":\"[redacted]\",\"roles\":[]}");
        // Outside role statements, a column named password is data, and stays.
        assertThat(passwords.redact("postgres", "SELECT * FROM users WHERE password = 'x'")).isEqualTo("SELECT * FROM users WHERE password = 'x'");
    }

    @Test
    void everyLiteralWhenAsked() {
        assertThat(literals.redact("postgres", "SELECT \"Name\" FROM t WHERE email = 'a@b.c' AND id = 42 AND x1 > -3.5e2"))
                .isEqualTo("SELECT \"Name\" FROM t WHERE email = ? AND id = ? AND x1 > ?");
        assertThat(literals.redact("mysql", "SELECT * FROM t WHERE name = \"bob\"")).isEqualTo("SELECT * FROM t WHERE name = ?");
        assertThat(literals.redact("mongodb", "{\"find\":\"users\",\"filter\":{\"email\":\"a@b.c\",\"age\":7}}"))
                .isEqualTo("{\"find\":\"?\",\"filter\":{\"email\":\"?\",\"age\":\"?\"}}");
    }
}
