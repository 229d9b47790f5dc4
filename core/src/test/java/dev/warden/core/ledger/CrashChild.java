package dev.warden.core.ledger;

import dev.warden.core.Action;
import dev.warden.core.config.LedgerConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Run in a child JVM by {@link CrashTest}: appends from several threads and prints {@code seq marker} for every
 * append that returned, until it is killed.
 */
public final class CrashChild {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        FileLedger l = FileLedger.open(dir, LedgerConfig.DEFAULTS.withSegmentSize(256 * 1024));
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false);
        AtomicBoolean go = new AtomicBoolean(true);
        Object printLock = new Object();
        for (int t = 0; t < 8; t++) {
            int id = t;
            Thread.ofPlatform().start(() -> {
                for (int i = 0; go.get(); i++) {
                    String marker = "t" + id + "-" + i;
                    Durability d = i % 2 == 0 ? Durability.WRITTEN : Durability.SYNCED;
                    try {
                        long seq = l.append(Entries.decision("crash", "SELECT '" + marker + "'", Action.ALLOW, "public.t"), d);
                        synchronized (printLock) {
                            out.println(seq + " " + marker);
                            out.flush();
                        }
                    } catch (LedgerException e) {
                        System.err.println(e);
                        return;
                    }
                }
            });
        }
        Thread.sleep(60_000);
    }
}
