package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The demo prints the approval commands to paste. They said {@code warden approvals approve ID …}, which is not on
 * the PATH of someone who just cloned the repository and ran {@code ./warden demo} as the README's quick start does
 * (found by the README check): they now say the command the user started, which the launcher passes on.
 */
class DemoBannerTest {
    @Test
    void theApprovalCommandsAreTheOneTheUserStarted() {
        String banner = DemoCommand.banner(5432, 6432, 8080, Path.of("/tmp/warden-demo"), "./warden");
        assertThat(banner).contains("WARDEN_TOKEN=demo-approver-token ./warden approvals approve ID --console http://127.0.0.1:8080")
                .contains("WARDEN_TOKEN=demo-approver-token ./warden approvals list --console http://127.0.0.1:8080")
                .contains("PGPASSWORD=demo-agent-secret psql \"host=127.0.0.1 port=6432 dbname=shop user=demo-agent\"");
    }

    @Test
    void theLauncherSaysHowItWasStarted() throws Exception {
        assertThat(Files.readString(Path.of("..", "warden"))).contains("-Dwarden.command=\"$0\"");
    }
}
