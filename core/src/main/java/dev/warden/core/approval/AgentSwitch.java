package dev.warden.core.approval;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.Ledger;
import dev.warden.core.ledger.LedgerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The kill switch. Front ends ask {@link #allows} when an agent connects and {@link #subscribe} to end its live
 * sessions when it is disabled. The set of disabled agents is kept in {@code <data_dir>/agents-disabled.json}, so a
 * restart does not re-enable anyone. Each change is a ledger entry ({@link Entry.ApprovalEntry} with request id
 * {@code agent:NAME} and verdict {@code agent_disabled} or {@code agent_enabled}), synced before it takes effect;
 * a disable takes effect in memory even when the ledger cannot record it, because stopping an agent is the safe side.
 */
public final class AgentSwitch {
    private static final System.Logger LOG = System.getLogger(AgentSwitch.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An agent was disabled or enabled. */
    public record Change(String agent, boolean disabled, String by, String comment, Instant time) {}

    private final Path file;
    private final Ledger ledger;
    private final Set<String> known;
    private final Set<String> disabled = new TreeSet<>();
    private final List<Consumer<Change>> subscribers = new CopyOnWriteArrayList<>();

    private AgentSwitch(Path file, Ledger ledger, Set<String> known) {
        this.file = file;
        this.ledger = ledger;
        this.known = Set.copyOf(known);
    }

    /** @param known the configured agent names; only these can be switched */
    public static AgentSwitch open(Path dataDir, Ledger ledger, Set<String> known) throws IOException {
        Files.createDirectories(dataDir);
        AgentSwitch s = new AgentSwitch(dataDir.resolve("agents-disabled.json"), ledger, known);
        if (Files.exists(s.file)) {
            s.disabled.addAll(JSON.readValue(s.file.toFile(), new TypeReference<List<String>>() {}));
        }
        return s;
    }

    /** False when the agent is disabled: the front end refuses the connection. */
    public synchronized boolean allows(String agent) {
        return !disabled.contains(agent);
    }

    public synchronized Set<String> disabled() {
        return Set.copyOf(disabled);
    }

    public Set<String> known() {
        return known;
    }

    public Change disable(String agent, String by, String comment) {
        return change(agent, true, by, comment);
    }

    public Change enable(String agent, String by, String comment) {
        return change(agent, false, by, comment);
    }

    private Change change(String agent, boolean disable, String by, String comment) {
        if (!known.contains(agent)) throw new IllegalArgumentException("no configured agent is named '" + agent + "'");
        Change c = new Change(agent, disable, by, comment == null || comment.isBlank() ? null : comment.strip(), Instant.now());
        synchronized (this) {
            try {
                ledger.append(new Entry.ApprovalEntry("agent:" + agent, null, by,
                        disable ? "agent_disabled" : "agent_enabled", c.comment()), Durability.SYNCED);
            } catch (LedgerException | RuntimeException e) {
                if (!disable) throw new IllegalStateException("the ledger cannot record enabling " + agent + "; it stays disabled", e);
                LOG.log(System.Logger.Level.ERROR, "the ledger cannot record disabling " + agent + "; disabling anyway: " + e);
            }
            if (disable) disabled.add(agent); else disabled.remove(agent);
            try {
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                Files.write(tmp, JSON.writeValueAsBytes(List.copyOf(disabled)));
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot store the disabled agents: " + e);
            }
        }
        for (Consumer<Change> s : subscribers) {
            try {
                s.accept(c);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "agent switch subscriber failed: " + e);
            }
        }
        return c;
    }

    /** Front ends subscribe to end the live sessions of a disabled agent. */
    public AutoCloseable subscribe(Consumer<Change> subscriber) {
        subscribers.add(subscriber);
        return () -> subscribers.remove(subscriber);
    }
}
