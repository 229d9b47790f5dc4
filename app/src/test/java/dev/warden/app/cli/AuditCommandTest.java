package dev.warden.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Statement;
import dev.warden.core.config.LedgerConfig;
import dev.warden.core.ledger.Checkpoint;
import dev.warden.core.ledger.Durability;
import dev.warden.core.ledger.Entry;
import dev.warden.core.ledger.FileLedger;
import dev.warden.core.ledger.LedgerDir;
import dev.warden.core.ledger.Merkle;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditCommandTest {
    @TempDir
    Path tmp;
    Path data;
    Path witness;
    String out;
    String err;

    static Entry.DecisionEntry decision(String agent, String text, Action action, String object) {
        Operation op = new Operation(agent, "app", "postgres", text, List.of(), null, "s", "127.0.0.1:1", null);
        Kind kind = text.startsWith("SELECT") ? Kind.READ : Kind.WRITE;
        Classification c = Classification.of(List.of(new Statement(kind, text, text.split(" ")[0],
                List.of(new ObjectAccess(object, kind == Kind.READ ? Access.READ : Access.WRITE, List.of())), List.of(), Set.of(), List.of())));
        return new Entry.DecisionEntry(op, c, new Decision(action, "r", List.of("why"), null), "p", null);
    }

    @BeforeEach
    void ledger() throws Exception {
        data = tmp.resolve("data");
        witness = tmp.resolve("witness/notes");
        try (FileLedger l = FileLedger.open(data, LedgerConfig.DEFAULTS.withWitnesses(List.of(new LedgerConfig.WitnessConfig.File(witness))))) {
            for (int i = 0; i < 10; i++) l.append(decision("reader", "SELECT * FROM public.orders", Action.ALLOW, "public.orders"), Durability.WRITTEN);
            l.checkpointNow();
            l.append(decision("coder", "DELETE FROM public.users", Action.DENY, "public.users"), Durability.SYNCED);
            l.append(decision("coder", "UPDATE public.orders SET x = 1", Action.ALLOW, "public.orders"), Durability.SYNCED);
            l.append(decision("reader", "DELETE FROM public.users WHERE id = 1", Action.DENY, "public.users"), Durability.SYNCED);
        }
    }

    int run(String... args) {
        PrintStream o = System.out;
        PrintStream e = System.err;
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        ByteArrayOutputStream be = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bo, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(be, true, StandardCharsets.UTF_8));
        try {
            return WardenCommand.run(args);
        } finally {
            System.setOut(o);
            System.setErr(e);
            out = bo.toString(StandardCharsets.UTF_8);
            err = be.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void verifyExitsZeroWhenIntactAndOneWhenTampered() throws Exception {
        assertThat(run("audit", "verify", "--data-dir", data.toString(), "--witness", witness.toString())).isEqualTo(0);
        Checkpoint last = Checkpoint.parseAll(Files.readString(LedgerDir.of(data).checkpoints())).checkpoints().getLast();
        assertThat(out).isEqualTo("ok: 13 entries, root " + last.rootBase64() + "\n");

        Path seg = LedgerDir.of(data).segment(0);
        List<String> lines = new ArrayList<>(Files.readAllLines(seg));
        lines.set(4, lines.get(4).replace("\"agent\":\"reader\"", "\"agent\":\"reaDer\""));
        Files.writeString(seg, String.join("\n", lines) + "\n");
        assertThat(run("audit", "verify", "--data-dir", data.toString())).isEqualTo(1);
        assertThat(out).matches("tampered: entry 4: modified \\(its hash differs from the one committed by checkpoint \\d+\\)\n");
    }

    /** A misspelt filter value printed nothing and exited 0, as if no entry matched. */
    @Test
    void aFilterValueThatCannotMatchIsAUsageError() {
        assertThat(run("audit", "search", "--data-dir", data.toString(), "--decision", "maybe")).isEqualTo(2);
        assertThat(err).contains("--decision must be one of allow, approve, deny");
        assertThat(run("audit", "search", "--data-dir", data.toString(), "--type", "bogus")).isEqualTo(2);
        assertThat(run("audit", "search", "--data-dir", data.toString(), "--decision", "deny")).isEqualTo(0);
        assertThat(out.lines()).hasSize(2);
    }

    /** check/classify --config without --database judged for a database named 'cli': no catalog, no tags, no word. */
    @Test
    void checkWithAConfigurationJudgesForOneOfItsDatabases() throws Exception {
        Path cfg = tmp.resolve("warden.yaml");
        Files.writeString(tmp.resolve("policy.yaml"), "rules:\n  - { name: reads, match: { kind: [read] }, action: allow }\n");
        String two = """
                data_dir: data
                policy: policy.yaml
                databases:
                  - { name: app, engine: postgres, listen: 127.0.0.1:0, upstream: { host: 127.0.0.1, port: 1, database: app, user: u, password: p } }
                  - { name: crm, engine: postgres, listen: 127.0.0.1:0, upstream: { host: 127.0.0.1, port: 1, database: crm, user: u, password: p } }
                """;
        Files.writeString(cfg, two);
        assertThat(run("check", "--config", cfg.toString(), "--engine", "postgres", "SELECT 1")).isEqualTo(2);
        assertThat(err).contains("give --database").contains("app, crm");
        assertThat(run("check", "--config", cfg.toString(), "--engine", "postgres", "--database", "nope", "SELECT 1")).isEqualTo(2);
        assertThat(err).contains("no postgres database 'nope'");
        assertThat(run("classify", "--config", cfg.toString(), "--engine", "postgres", "--database", "nope", "SELECT 1")).isEqualTo(2);
        // None of that engine: --database cannot help, and the message does not ask for it (found by the README check).
        assertThat(run("check", "--config", cfg.toString(), "--engine", "mysql", "SELECT 1")).isEqualTo(2);
        assertThat(err).contains("configures no mysql database").contains("leave out --config").doesNotContain("give --database");
    }

    @Test
    void verifyFindsTheDataDirThroughTheConfiguration() throws Exception {
        Path cfg = tmp.resolve("warden.yaml");
        Files.writeString(cfg, "data_dir: data\npolicy: policy.yaml\nledger:\n  witnesses:\n    - file: witness/notes\n");
        assertThat(run("audit", "verify", "--config", cfg.toString())).isEqualTo(0);
        assertThat(out).startsWith("ok: 13 entries");
        assertThat(err).doesNotContain("no witness given");
        assertThat(run("audit", "verify", "--data-dir", tmp.resolve("nowhere").toString())).isEqualTo(2);
        assertThat(err).contains("no ledger under");
    }

    @Test
    void proveAndConsistencyPrintProofsThatVerify() throws Exception {
        assertThat(run("audit", "prove", "--seq", "3")).isEqualTo(2); // no ./warden-data here
        assertThat(run("audit", "prove", "--data-dir", data.toString(), "--seq", "3")).isEqualTo(0);
        String[] parts = out.split("\n\n", 2);
        List<String> head = List.of(parts[0].split("\n"));
        assertThat(head.get(0)).isEqualTo("c2sp.org/tlog-proof@v1");
        assertThat(head.get(1)).isEqualTo("index 3");
        Checkpoint cp = Checkpoint.parse(parts[1]);
        assertThat(cp.size()).isEqualTo(13);
        List<byte[]> path = head.subList(2, head.size()).stream().map(Base64.getDecoder()::decode).toList();
        byte[] leaf = Merkle.leafHash(Files.readAllLines(LedgerDir.of(data).segment(0)).get(3).getBytes(StandardCharsets.UTF_8));
        assertThat(Merkle.verifyInclusion(3, 13, leaf, path, cp.root())).isTrue();

        assertThat(run("audit", "consistency", "--data-dir", data.toString(), "--from", "10", "--to", "13")).isEqualTo(0);
        String[] c = out.split("\n\n", 2);
        List<String> cl = List.of(c[0].split("\n"));
        assertThat(cl.get(0)).isEqualTo("old 10");
        Checkpoint to = Checkpoint.parse(c[1]);
        Checkpoint from = Checkpoint.parseAll(Files.readString(LedgerDir.of(data).checkpoints())).checkpoints().stream()
                .filter(k -> k.size() == 10).findFirst().orElseThrow();
        assertThat(from.size()).isEqualTo(10);
        List<byte[]> proof = cl.subList(1, cl.size()).stream().map(Base64.getDecoder()::decode).toList();
        assertThat(Merkle.verifyConsistency(10, 13, from.root(), to.root(), proof)).isTrue();

        assertThat(run("audit", "prove", "--data-dir", data.toString(), "--seq", "2", "--size", "5")).isEqualTo(0);
        assertThat(err).contains("no signed checkpoint has size 5");
        assertThat(run("audit", "prove", "--data-dir", data.toString(), "--seq", "20")).isEqualTo(2);
    }

    @Test
    void readingCommands() throws Exception {
        assertThat(run("audit", "show", "--data-dir", data.toString(), "10")).isEqualTo(0);
        assertThat(out).contains("\"seq\" : 10").contains("DELETE FROM public.users");
        assertThat(run("audit", "show", "--data-dir", data.toString(), "--raw", "10")).isEqualTo(0);
        assertThat(out).isEqualTo(Files.readAllLines(LedgerDir.of(data).segment(0)).get(10) + "\n");

        assertThat(run("audit", "search", "--data-dir", data.toString(), "--agent", "coder", "--decision", "deny", "--object", "public.users")).isEqualTo(0);
        assertThat(out.lines().toList()).hasSize(1).allMatch(l -> l.contains("\"seq\":10,"));
        assertThat(run("audit", "search", "--data-dir", data.toString(), "--decision", "deny", "--object", "users")).isEqualTo(0);
        assertThat(out.lines().count()).isEqualTo(2);

        assertThat(run("audit", "tail", "--data-dir", data.toString(), "-n", "2")).isEqualTo(0);
        assertThat(out.lines().toList()).hasSize(2);
        assertThat(out.lines().toList().get(1)).contains("\"seq\":12,");

        assertThat(run("audit", "export", "--data-dir", data.toString(), "--since", "1h", "--format", "jsonl")).isEqualTo(0);
        assertThat(out.lines().count()).isEqualTo(13);
        assertThat(run("audit", "export", "--data-dir", data.toString(), "--since", "2999-01-01")).isEqualTo(0);
        assertThat(out).isEmpty();
        assertThat(run("audit", "export", "--data-dir", data.toString(), "--format", "csv")).isEqualTo(2);
    }
}
