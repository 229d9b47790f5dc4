package dev.warden.core.approval;

import dev.warden.core.config.ConsoleConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.ledger.Ledger;
import java.io.IOException;

/**
 * Everything human approval needs, built from the configuration in one call for the service wiring
 * ({@code warden proxy}, {@code warden demo}): the approvers, the request store under the data directory, the kill
 * switch, and webhooks subscribed to new requests. Pass {@link #approvals} and {@link #agents} to the {@code Gate}
 * (front ends find the switch through {@code Gate.agents()}), and all of it to the console.
 */
public record ApprovalServices(Approvers approvers, FileApprovals approvals, AgentSwitch agents, String consoleUrl)
        implements AutoCloseable {

    public static ApprovalServices open(WardenConfig config, Ledger ledger) throws IOException {
        Approvers approvers = Approvers.of(config.approvers(), config.agents());
        FileApprovals approvals = FileApprovals.open(config.dataDir(), ledger, approvers);
        AgentSwitch agents = AgentSwitch.open(config.dataDir(), ledger, approvers.agents());
        String url = config.console().map(ConsoleConfig::publicUrl).orElse(null);
        if (!config.webhooks().isEmpty()) approvals.subscribe(new Webhooks(config.webhooks(), url,
                new dev.warden.core.ledger.Redactor(config.ledger().redactLiterals())));
        return new ApprovalServices(approvers, approvals, agents, url);
    }

    @Override
    public void close() {
        approvals.close();
    }
}
