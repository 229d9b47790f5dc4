package dev.warden.app.cli;

import dev.warden.core.ledger.EntryLines;
import dev.warden.core.ledger.LedgerProofs;
import dev.warden.core.ledger.LedgerReader;
import dev.warden.core.ledger.LedgerVerifier;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "The audit ledger: verify it, prove entries and growth, read it.",
        subcommands = {AuditCommand.Verify.class, AuditCommand.Prove.class, AuditCommand.Consistency.class,
                AuditCommand.Tail.class, AuditCommand.Show.class, AuditCommand.Export.class, AuditCommand.Search.class},
        footer = {"", "Examples:",
                "  warden audit verify --data-dir /var/lib/warden --witness /mnt/other/warden.witness --public-key ledger.pub",
                "  warden audit prove --seq 1234",
                "  warden audit search --agent coding-agent --decision deny --object public.users"})
final class AuditCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (see warden audit --help)");
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  warden audit verify --data-dir ./warden-data", "  warden audit verify --config warden.yaml --witness /mnt/backup/warden.witness --public-key ledger.pub"},
            description = {"Recompute the tree from the entries, check every checkpoint's signature and root and that each is "
                    + "consistent with the one before, and check the witness's latest checkpoint against the log.",
                    "Prints 'ok: N entries, root <base64>' and exits 0, or names the first bad entry or checkpoint and exits 1."})
    static final class Verify implements Callable<Integer> {
        @Mixin LedgerLocation where;

        @Option(names = "--witness", paramLabel = "FILE", description = "a witness's copy of the checkpoints (default: the first file witness of --config)")
        Path witness;

        @Option(names = "--public-key", paramLabel = "FILE", description = "the ledger's public key kept elsewhere (note verifier key); "
                + "without it, <data-dir>/ledger/signing.pub is trusted")
        Path publicKey;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Path data = where.dataDir();
            Optional<Path> w = witness != null ? Optional.of(witness) : where.configuredWitness();
            LedgerVerifier.Report r;
            try {
                r = LedgerVerifier.verify(data, new LedgerVerifier.Options(w, Optional.ofNullable(publicKey)));
            } catch (IOException e) {
                throw new WardenCommand.UsageException(e.getMessage());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.println(r.ok() ? r.summary() : "tampered: " + r.summary());
            out.flush();
            for (String n : r.notes()) spec.commandLine().getErr().println("note: " + n);
            spec.commandLine().getErr().flush();
            return r.ok() ? WardenCommand.OK : WardenCommand.FAILED;
        }
    }

    @Command(name = "prove", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  warden audit prove --seq 1234", "  warden audit prove --data-dir ./warden-data --seq 1234 --size 5000"},
            description = "Print an inclusion proof for entry N in the tree of size S (default: the latest checkpoint's), "
                    + "as a C2SP tlog-proof: the index, the audit path (base64), a blank line and the checkpoint.")
    static final class Prove implements Callable<Integer> {
        @Mixin LedgerLocation where;

        @Option(names = "--seq", required = true, paramLabel = "N") long seq;

        @Option(names = "--size", paramLabel = "S") Long size;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            LedgerProofs p = LedgerProofs.open(where.dataDir());
            long s = size != null ? size : p.latest().map(c -> c.size()).orElse(p.size());
            if (s > p.size()) throw new WardenCommand.UsageException("the log holds " + p.size() + " entries; --size " + s + " is too large");
            if (seq < 0 || seq >= s) throw new WardenCommand.UsageException("entry " + seq + " is not in the tree of size " + s);
            print(spec, p, p.inclusionText(seq, s), s);
            return WardenCommand.OK;
        }
    }

    @Command(name = "consistency", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  warden audit consistency --from 1000 --to 5000"},
            description = "Print a consistency proof between the trees of sizes S1 and S2, as the body of a C2SP tlog-witness "
                    + "add-checkpoint request: 'old S1', the proof (base64), a blank line and the checkpoint of size S2.")
    static final class Consistency implements Callable<Integer> {
        @Mixin LedgerLocation where;

        @Option(names = "--from", required = true, paramLabel = "S1") long from;

        @Option(names = "--to", paramLabel = "S2", description = "default: the latest checkpoint's size") Long to;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            LedgerProofs p = LedgerProofs.open(where.dataDir());
            long s2 = to != null ? to : p.latest().map(c -> c.size()).orElse(p.size());
            if (s2 > p.size()) throw new WardenCommand.UsageException("the log holds " + p.size() + " entries; --to " + s2 + " is too large");
            if (from < 0 || from > s2) throw new WardenCommand.UsageException("--from must be between 0 and " + s2);
            print(spec, p, p.consistencyText(from, s2), s2);
            return WardenCommand.OK;
        }
    }

    private static void print(CommandSpec spec, LedgerProofs p, String text, long size) {
        spec.commandLine().getOut().print(text);
        spec.commandLine().getOut().flush();
        if (p.head(size).signatures().isEmpty()) {
            spec.commandLine().getErr().println("note: no signed checkpoint has size " + size + "; the tree head above is unsigned");
        }
    }

    @Command(name = "tail", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  warden audit tail -n 20", "  warden audit tail -f --config warden.yaml"}, description = "Print the last entries, as recorded (JSON Lines).")
    static final class Tail implements Callable<Integer> {
        @Mixin LedgerLocation where;

        @Option(names = "-n", defaultValue = "10", paramLabel = "N", description = "how many (default: ${DEFAULT-VALUE})") int n;

        @Option(names = {"-f", "--follow"}, description = "keep printing entries as they are recorded") boolean follow;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            LedgerReader reader = new LedgerReader(where.dataDir());
            PrintWriter out = spec.commandLine().getOut();
            java.util.ArrayDeque<String> last = new java.util.ArrayDeque<>();
            long[] next = {0};
            reader.forEach(0, line -> {
                last.addLast(line.text());
                if (last.size() > n) last.removeFirst();
                next[0]++;
                return true;
            });
            last.forEach(out::println);
            out.flush();
            while (follow) {
                Thread.sleep(200);
                long from = next[0];
                reader.forEach(from, line -> {
                    Map<String, Object> m = line.parse();
                    if (m.get("seq") instanceof Long s && s >= next[0]) {
                        out.println(line.text());
                        next[0] = s + 1;
                    }
                    return true;
                });
                out.flush();
            }
            return WardenCommand.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  warden audit show 1234", "  warden audit show --raw 1234"}, description = "Print one entry, indented; --raw prints its recorded bytes.")
    static final class Show implements Callable<Integer> {
        @Mixin LedgerLocation where;

        @Parameters(paramLabel = "SEQ") long seq;

        @Option(names = "--raw", description = "the canonical line, exactly as hashed") boolean raw;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Optional<LedgerReader.Line> line = new LedgerReader(where.dataDir()).get(seq);
            if (line.isEmpty()) throw new WardenCommand.UsageException("no entry " + seq);
            spec.commandLine().getOut().println(raw ? line.get().text() : EntryLines.pretty(line.get().parse()));
            spec.commandLine().getOut().flush();
            return WardenCommand.OK;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  warden audit export --since 24h --format jsonl > warden-audit.jsonl", "  warden audit export --since 2026-01-31T00:00:00Z"},
            description = "Print the entries recorded since TIME, for a SIEM. TIME: an instant (2026-01-31T12:00:00Z), a date "
                    + "(2026-01-31, UTC) or an age (30m, 24h, 7d).")
    static final class Export implements Callable<Integer> {
        @Mixin LedgerLocation where;

        @Option(names = "--since", paramLabel = "TIME", description = "default: everything") String since;

        @Option(names = "--format", defaultValue = "jsonl", paramLabel = "FORMAT", description = "jsonl (the only one)") String format;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (!format.equals("jsonl")) throw new WardenCommand.UsageException("unknown format '" + format + "' (expected jsonl)");
            Instant from = since == null ? Instant.EPOCH : time(since);
            Filter f = new Filter(null, null, null, null, null, from);
            return emit(spec, where, f);
        }
    }

    @Command(name = "search", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  warden audit search --agent coding-agent --decision deny --object public.users", "  warden audit search --type approval --since 7d"}, description = "Print the entries that match every given filter (JSON Lines).")
    static final class Search implements Callable<Integer> {
        @Mixin LedgerLocation where;

        @Option(names = "--agent", paramLabel = "NAME") String agent;

        @Option(names = "--database", paramLabel = "NAME") String database;

        @Option(names = "--decision", paramLabel = "ACTION", description = "allow, approve or deny") String decision;

        @Option(names = "--object", paramLabel = "NAME", description = "a table or other object, such as public.users") String object;

        @Option(names = "--type", paramLabel = "TYPE", description = "decision, approval, outcome, policy or recovery") String type;

        @Option(names = "--since", paramLabel = "TIME") String since;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            WardenCommand.oneOf("--decision", decision, "allow", "approve", "deny");
            WardenCommand.oneOf("--type", type, "decision", "approval", "outcome", "policy", "recovery");
            return emit(spec, where, new Filter(agent, database, decision, object, type, since == null ? Instant.EPOCH : time(since)));
        }
    }

    record Filter(String agent, String database, String decision, String object, String type, Instant since) {
        boolean matches(Map<String, Object> m) {
            if (agent != null && !agent.equals(m.get("agent"))) return false;
            if (database != null && !database.equals(m.get("database"))) return false;
            if (decision != null && !decision.equals(m.get("decision"))) return false;
            if (type != null && !type.equals(m.get("type"))) return false;
            if (object != null && !touches(m, object)) return false;
            if (since != Instant.EPOCH) {
                try {
                    if (Instant.parse((String) m.get("time")).isBefore(since)) return false;
                } catch (RuntimeException e) {
                    return false;
                }
            }
            return true;
        }

        private static boolean touches(Map<String, Object> m, String object) {
            if (!(m.get("classification") instanceof Map<?, ?> c) || !(c.get("statements") instanceof List<?> ss)) return false;
            for (Object s : ss) {
                if (!(s instanceof Map<?, ?> sm) || !(sm.get("objects") instanceof List<?> os)) continue;
                for (Object o : os) {
                    if (o instanceof Map<?, ?> om && om.get("name") instanceof String name
                            && (name.equals(object) || name.endsWith("." + object))) return true;
                }
            }
            return false;
        }
    }

    private static int emit(CommandSpec spec, LedgerLocation where, Filter f) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        new LedgerReader(where.dataDir()).forEach(0, line -> {
            Map<String, Object> m;
            try {
                m = line.parse();
            } catch (IOException e) {
                spec.commandLine().getErr().println("warning: " + line.segment().getFileName() + " line " + line.lineNo()
                        + " is not an entry (run warden audit verify)");
                return true;
            }
            if (f.matches(m)) out.println(line.text());
            return true;
        });
        out.flush();
        return WardenCommand.OK;
    }

    static Instant time(String s) {
        String v = s.trim();
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            // not an instant
        }
        try {
            return LocalDate.parse(v).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            // not a date
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(s|m|h|d)").matcher(v);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return Instant.now().minus(d);
        }
        throw new WardenCommand.UsageException("--since: expected an instant (2026-01-31T12:00:00Z), a date (2026-01-31) or an age (24h), got '" + s + "'");
    }
}
