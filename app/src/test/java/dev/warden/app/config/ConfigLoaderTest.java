package dev.warden.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.config.WardenConfig;
import dev.warden.core.yaml.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    final List<String> warnings = new ArrayList<>();
    final Map<String, String> env = Map.of("CODING_AGENT_SECRET", "s3cret-agent", "ALICE_TOKEN", "alice-token-value",
            "APP_DB_PASSWORD", "db-password-value");

    static final String CONTRACT = """
            data_dir: ./warden-data
            policy: policy.yaml
            agents:
              - name: coding-agent
                secret_env: CODING_AGENT_SECRET
            approvers:
              - name: alice
                token_env: ALICE_TOKEN
            databases:
              - name: app
                engine: postgres
                listen: 127.0.0.1:6432
                upstream: { host: 127.0.0.1, port: 5432, database: app, user: warden_agent, password_env: APP_DB_PASSWORD }
            tags:
              pii: ["public.users.email", "public.users.phone"]
              financial: ["public.payments.*"]
            console:
              listen: 127.0.0.1:8080
            """;

    WardenConfig load(String yaml) throws Exception {
        Path f = dir.resolve("warden.yaml");
        Files.writeString(f, yaml);
        return new ConfigLoader(env::get, warnings::add).load(f);
    }

    ConfigException error(String yaml) {
        try {
            load(yaml);
        } catch (ConfigException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected an error");
    }

    @Test
    void theContractExampleLoads() throws Exception {
        WardenConfig c = load(CONTRACT);
        assertThat(c.dataDir()).isEqualTo(dir.resolve("warden-data"));
        assertThat(c.policy()).isEqualTo(dir.resolve("policy.yaml"));
        assertThat(c.agents()).singleElement().satisfies(a -> {
            assertThat(a.name()).isEqualTo("coding-agent");
            assertThat(a.secret().value()).isEqualTo("s3cret-agent");
            assertThat(a.mayUse("app")).isTrue();
        });
        assertThat(c.approvers().getFirst().token().value()).isEqualTo("alice-token-value");
        assertThat(c.databases().getFirst().upstream().password().value()).isEqualTo("db-password-value");
        assertThat(c.databases().getFirst().listen().port()).isEqualTo(6432);
        assertThat(c.databases().getFirst().statementTimeout()).hasSeconds(30);
        assertThat(c.tags()).containsKeys("pii", "financial");
        assertThat(c.console()).isPresent();
        assertThat(warnings).isEmpty();
    }

    @Test
    void inlineSecretsAreAcceptedWithAWarningThatDoesNotContainThem() throws Exception {
        WardenConfig c = load(CONTRACT.replace("secret_env: CODING_AGENT_SECRET", "secret: inline-agent-secret"));
        assertThat(c.agents().getFirst().secret().value()).isEqualTo("inline-agent-secret");
        assertThat(warnings).singleElement().asString().contains("agents[0].secret").doesNotContain("inline-agent-secret");
    }

    /** PostgreSQL reads a statement_timeout of 0 as none: accepted (an operator's choice), with a warning that says so. */
    @Test
    void aStatementTimeoutOfZeroLoadsWithAWarning() throws Exception {
        WardenConfig c = load(CONTRACT.replace("password_env: APP_DB_PASSWORD }", "password_env: APP_DB_PASSWORD }\n    statement_timeout: 0s"));
        assertThat(c.databases().getFirst().statementTimeout()).isZero();
        assertThat(warnings).singleElement().asString().contains("warden.yaml:").contains("databases[0].statement_timeout")
                .contains("turns the server's statement timeout off");
    }

    /**
     * An approver running {@code warden approvals … --config} or an auditor running {@code warden audit verify --config}
     * had to hold every agent's secret and the database password, or the configuration did not load.
     */
    @Test
    void approversAndAuditorsReadTheConfigurationWithoutTheSecrets() throws Exception {
        Path f = dir.resolve("warden.yaml");
        Files.writeString(f, CONTRACT);
        WardenConfig c = ConfigLoader.withoutSecrets(name -> null).load(f);
        assertThat(c.console()).isPresent();
        assertThat(c.dataDir()).isEqualTo(dir.resolve("warden-data"));
        assertThat(c.agents().getFirst().secret()).isSameAs(ConfigLoader.UNSET);
        // Everything but the secrets is checked as ever.
        Files.writeString(f, CONTRACT.replace("console:\n  listen:", "console:\n  lisen:"));
        assertThatThrownBy(() -> ConfigLoader.withoutSecrets(name -> null).load(f)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("console.lisen");
        Files.writeString(f, CONTRACT);
        assertThatThrownBy(() -> new ConfigLoader(name -> null, w -> { }).load(f))
                .isInstanceOf(ConfigException.class).hasMessageContaining("is not set");
    }

    @Test
    void secretsNeverAppearInErrorsOrToString() throws Exception {
        WardenConfig c = load(CONTRACT);
        assertThat(c.toString()).doesNotContain("s3cret-agent", "alice-token-value", "db-password-value");
        ConfigException e = error(CONTRACT.replace("user: warden_agent,", "user: warden_agent, port2: 1,"));
        assertThat(e.getMessage()).doesNotContain("db-password-value");
    }

    @Test
    void unknownKeysNameFileLineAndKey() {
        ConfigException e = error(CONTRACT.replace("console:\n  listen:", "console:\n  lisen:"));
        assertThat(e.getMessage()).isEqualTo(dir.resolve("warden.yaml") + ":18: console.lisen: unknown key (expected one of: listen, tls, url)");
        assertThat(error("polcy: p.yaml\n").getMessage()).contains(":1: polcy: unknown key");
    }

    @Test
    void missingEnvironmentVariableIsAnError() {
        ConfigException e = error(CONTRACT.replace("CODING_AGENT_SECRET", "NOT_SET_ANYWHERE"));
        assertThat(e.getMessage()).contains(":5: agents[0].secret_env: the environment variable NOT_SET_ANYWHERE is not set");
    }

    @Test
    void badValuesAreErrors() {
        assertThat(error(CONTRACT.replace("engine: postgres", "engine: oracle")).getMessage()).contains("databases[0].engine: unknown engine 'oracle'");
        assertThat(error(CONTRACT.replace("listen: 127.0.0.1:6432", "listen: 6432")).getMessage()).contains("databases[0].listen: expected host:port");
        assertThat(error(CONTRACT.replace("port: 5432", "port: 99999")).getMessage()).contains("databases[0].upstream.port: port must be between");
        assertThat(error(CONTRACT.replace("secret_env: CODING_AGENT_SECRET", "secret_env: CODING_AGENT_SECRET\n    secret: x")).getMessage())
                .contains("not both");
        assertThat(error(CONTRACT.replace("policy: policy.yaml\n", "")).getMessage()).contains("missing key 'policy'");
    }

    @Test
    void anAgentCannotBeAnApprover() {
        ConfigException e = error(CONTRACT.replace("- name: alice", "- name: coding-agent"));
        assertThat(e.getMessage()).contains("an agent identity can never approve");
    }

    @Test
    void anUnknownAgentDatabaseIsNamedWithItsLineAndKey() {
        // Was "warden.yaml:4: agents[0]: databases: no configured …": the agent's line, and the key in the message
        // (found by the README check).
        ConfigException e = error(CONTRACT.replace("secret_env: CODING_AGENT_SECRET",
                "secret_env: CODING_AGENT_SECRET\n    databases:\n      - app\n      - nope"));
        assertThat(e.getMessage()).contains("agents[0].databases[1]: no configured database is named 'nope'");
        int line = CONTRACT.substring(0, CONTRACT.indexOf("secret_env: CODING_AGENT_SECRET")).split("\n", -1).length + 3;
        assertThat(e.getMessage()).contains(":" + line + ":");
    }

    @Test
    void agentDatabasesMustExist() throws Exception {
        assertThat(error(CONTRACT.replace("secret_env: CODING_AGENT_SECRET", "secret_env: CODING_AGENT_SECRET\n    databases: [nope]"))
                .getMessage()).contains("no configured database is named 'nope'");
        WardenConfig c = load(CONTRACT.replace("secret_env: CODING_AGENT_SECRET", "secret_env: CODING_AGENT_SECRET\n    databases: [app]"));
        assertThat(c.agents().getFirst().databases()).containsExactly("app");
    }

    @Test
    void duplicateNamesAreErrors() {
        String twoDbs = CONTRACT.replace("tags:", """
                  - name: app
                    engine: postgres
                    listen: 127.0.0.1:6433
                    upstream: { host: 127.0.0.1, database: app, user: u, password: p }
                tags:""");
        assertThat(error(twoDbs).getMessage()).contains("duplicate database name 'app'");
    }

    @Test
    void optionalSectionsMayBeLeftOut() throws Exception {
        WardenConfig c = load("""
                policy: /abs/policy.yaml
                databases:
                  - name: app
                    engine: postgres
                    listen: 127.0.0.1:6432
                    upstream: { host: db.internal, database: app, user: warden, password_env: APP_DB_PASSWORD }
                    statement_timeout: 5s
                """);
        assertThat(c.policy()).isEqualTo(Path.of("/abs/policy.yaml"));
        assertThat(c.approvers()).isEmpty();
        assertThat(c.console()).isEmpty();
        assertThat(c.databases().getFirst().upstream().port()).isEqualTo(5432);
        assertThat(c.databases().getFirst().statementTimeout()).hasSeconds(5);
    }

    @Test
    void missingFileIsAClearError() {
        assertThatThrownBy(() -> new ConfigLoader(env::get, warnings::add).load(dir.resolve("nope.yaml")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("nope.yaml").hasMessageContaining("cannot read")
                // Was "nope.yaml: cannot read: nope.yaml": the file's name twice and not why (found by the README check).
                .hasMessageContaining("does not exist");
    }
}
