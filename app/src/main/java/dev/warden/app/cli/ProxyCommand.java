package dev.warden.app.cli;

import dev.warden.app.config.ConfigLoader;
import dev.warden.app.service.WardenService;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.WardenConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = "Run every configured database listener, and the console and the MCP endpoint when configured, in"
                + " the foreground. One line per decision on stderr. "
                + "SIGHUP reloads the policy; SIGTERM stops accepting, lets running statements finish and exits.",
        footer = {"", "Example:", "  warden proxy --config warden.yaml"})
final class ProxyCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "warden.yaml")
    Path config;

    @Override
    public Integer call() throws Exception {
        WardenConfig cfg = ConfigLoader.standard().load(config);
        WardenService service = WardenService.build(cfg, null, System.err);
        List<HostPort> listening = service.start();
        for (HostPort h : listening) System.err.println("warden: listening on " + h);
        if (listening.isEmpty()) System.err.println("warning: no database listener is running");
        service.checkUpstreams();
        runUntilStopped(service);
        return WardenCommand.OK;
    }

    /** Blocks until SIGTERM or SIGINT; SIGHUP reloads the policy. */
    static void runUntilStopped(AutoCloseable service) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            System.err.println("warden: stopping");
            try {
                service.close();
            } catch (Exception e) {
                System.err.println("warden: error while stopping: " + e);
            }
            stopped.countDown();
        }, "warden-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (service instanceof WardenService ws) {
            try {
                // Started with SIGHUP ignored (nohup, some supervisors), the JVM keeps it ignored and says so only
                // by handing back SIG_IGN: without a word, a reload would silently do nothing.
                if (sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> ws.reloadPolicy()) == sun.misc.SignalHandler.SIG_IGN) {
                    System.err.println("warning: SIGHUP is ignored in this process (started under nohup?), so it cannot"
                            + " reload the policy; start Warden without ignoring SIGHUP, or restart it to reload");
                }
            } catch (IllegalArgumentException e) {
                System.err.println("warning: SIGHUP is not available here; restart to reload the policy");
            }
        }
        stopped.await();
    }
}
