package dev.warden.app.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code warden approvals list|show|approve|deny}: decide approval requests of a running Warden through its console API. */
@Command(name = "approvals", mixinStandardHelpOptions = true,
        description = "List, show, approve and deny approval requests of a running Warden (through its console API; "
                + "approver token from WARDEN_TOKEN or --token-file).",
        subcommands = {ApprovalsCommand.ListRequests.class, ApprovalsCommand.Show.class, ApprovalsCommand.Approve.class, ApprovalsCommand.Deny.class},
        footer = {"", "Examples:",
                "  WARDEN_TOKEN=... warden approvals list --console http://127.0.0.1:8080",
                "  warden approvals show r2k4... --config warden.yaml --json",
                "  warden approvals approve r2k4... --comment \"index is fine\" --token-file ~/.warden-token"})
final class ApprovalsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: list, show, approve or deny");
    }

    /** Runs an API action; an API error is one line on stderr and exit status 1 (2 when the token is refused). */
    static int run(CommandSpec spec, Callable<Integer> action) throws Exception {
        try {
            return action.call();
        } catch (ConsoleClient.ApiException e) {
            spec.commandLine().getErr().println("warden: " + e.getMessage());
            return e.status == 401 || e.status == 403 || e.status == 0 ? WardenCommand.USAGE : WardenCommand.FAILED;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Requests, newest first (default: pending only).",
            footer = {"", "Examples:", "  WARDEN_TOKEN=... warden approvals list --console http://127.0.0.1:8080",
                    "  warden approvals list --all --json --config warden.yaml --token-file ~/.warden-token"})
    static final class ListRequests implements Callable<Integer> {
        @Mixin ConsoleClient.Options console;
        @Option(names = "--json", description = "print a JSON array of requests") boolean json;
        @Option(names = "--all", description = "every request, not only pending ones") boolean all;
        @Option(names = "--status", paramLabel = "STATUS", description = "only this status: pending, approved, denied, expired, used") String status;
        @Spec CommandSpec spec;

        @Override
        @SuppressWarnings("unchecked")
        public Integer call() throws Exception {
            WardenCommand.oneOf("--status", status, "pending", "approved", "denied", "expired", "used");
            return run(spec, () -> {
                ConsoleClient c = console.client();
                String s = status != null ? status : all ? null : "pending";
                java.util.List<Map<String, Object>> items = (java.util.List<Map<String, Object>>) c.get("/api/requests"
                        + (s == null ? "" : "?status=" + ConsoleClient.segment(s)));
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    Output.json(out, items);
                    return WardenCommand.OK;
                }
                if (items.isEmpty()) {
                    out.println(s == null ? "no approval requests" : "no " + s + " approval requests");
                }
                for (Map<String, Object> r : items) {
                    out.printf("%s  %-8s  %s on %s  rule %s  %s%n", r.get("id"), r.get("status"), r.get("agent"), r.get("database"),
                            r.get("rule"), timeLeft(r));
                    out.println("    " + oneLine(String.valueOf(r.get("statement")), 120));
                }
                out.flush();
                return WardenCommand.OK;
            });
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One request in full.",
            footer = {"", "Example:", "  WARDEN_TOKEN=... warden approvals show r2k4... --console http://127.0.0.1:8080"})
    static final class Show implements Callable<Integer> {
        @Mixin ConsoleClient.Options console;
        @Option(names = "--json", description = "print the request as JSON") boolean json;
        @Parameters(paramLabel = "ID") String id;
        @Spec CommandSpec spec;

        @Override
        @SuppressWarnings("unchecked")
        public Integer call() throws Exception {
            return run(spec, () -> {
                Map<String, Object> r = (Map<String, Object>) console.client().get("/api/requests/" + ConsoleClient.segment(id));
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    Output.json(out, r);
                } else {
                    print(out, r);
                }
                return WardenCommand.OK;
            });
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve a request (the approver is whoever the token belongs to).",
            footer = {"", "Example:", "  WARDEN_TOKEN=... warden approvals approve r2k4... --comment \"index is fine\" --console http://127.0.0.1:8080"})
    static final class Approve implements Callable<Integer> {
        @Mixin ConsoleClient.Options console;
        @Option(names = "--comment", paramLabel = "TEXT", description = "recorded in the ledger with the decision") String comment;
        @Option(names = "--json", description = "print the updated request as JSON") boolean json;
        @Parameters(paramLabel = "ID") String id;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return decide(spec, console, id, true, comment, json);
        }
    }

    @Command(name = "deny", mixinStandardHelpOptions = true, description = "Deny a request.",
            footer = {"", "Example:", "  WARDEN_TOKEN=... warden approvals deny r2k4... --comment \"not during business hours\" --config warden.yaml"})
    static final class Deny implements Callable<Integer> {
        @Mixin ConsoleClient.Options console;
        @Option(names = "--comment", paramLabel = "TEXT", description = "recorded in the ledger and shown to the agent") String comment;
        @Option(names = "--json", description = "print the updated request as JSON") boolean json;
        @Parameters(paramLabel = "ID") String id;
        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            return decide(spec, console, id, false, comment, json);
        }
    }

    @SuppressWarnings("unchecked")
    private static int decide(CommandSpec spec, ConsoleClient.Options console, String id, boolean approve, String comment, boolean json)
            throws Exception {
        return run(spec, () -> {
            Map<String, Object> body = new LinkedHashMap<>();
            if (comment != null) body.put("comment", comment);
            Map<String, Object> r = (Map<String, Object>) console.client()
                    .post("/api/requests/" + ConsoleClient.segment(id) + (approve ? "/approve" : "/deny"), body);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                Output.json(out, r);
            } else {
                String status = String.valueOf(r.get("status"));
                if (approve && status.equals("pending")) {
                    out.println(id + ": your approval is recorded; rule \"" + r.get("rule") + "\" needs "
                            + r.get("approvals_needed") + " different approvers (" + ((List<?>) r.get("approved_by")).size() + " so far)");
                } else {
                    out.println(id + ": " + status + (approve ? " (valid until " + r.get("expires") + ", once)" : ""));
                }
                out.flush();
            }
            return WardenCommand.OK;
        });
    }

    @SuppressWarnings("unchecked")
    static void print(PrintWriter out, Map<String, Object> r) {
        out.println("id: " + r.get("id"));
        out.println("status: " + r.get("status") + ("pending".equals(r.get("status")) ? " (" + timeLeft(r) + ")" : ""));
        out.println("agent: " + r.get("agent") + (r.get("client") == null || "".equals(r.get("client")) ? "" : " from " + r.get("client")));
        out.println("database: " + r.get("database") + " (" + r.get("engine") + ")");
        Map<String, Object> a = (Map<String, Object>) r.get("approval");
        out.println("rule: " + r.get("rule") + " (" + a.get("mode") + ", " + a.get("approvers") + " approver(s))");
        Map<String, Object> c = (Map<String, Object>) r.get("classification");
        out.println("kind: " + c.get("kind") + "; estimated rows: " + (c.get("estimated_rows") == null ? "unknown" : c.get("estimated_rows"))
                + (((List<?>) c.get("tags")).isEmpty() ? "" : "; tags: " + c.get("tags")));
        if (Boolean.TRUE.equals(r.get("in_transaction"))) out.println("NOTE: held inside an open transaction; its locks are held while it waits");
        String reason = String.valueOf(r.get("reason"));
        if (!reason.isEmpty()) out.println("agent's stated reason (unverified): " + oneLine(reason, 500));
        out.println("created: " + r.get("created") + "; expires: " + r.get("expires"));
        List<?> by = (List<?>) r.get("approved_by");
        if (!by.isEmpty()) out.println("approved by: " + by);
        if (r.get("decided_by") != null) out.println("decided by: " + r.get("decided_by") + (r.get("comment") == null ? "" : ": " + r.get("comment")));
        List<?> comments = (List<?>) r.get("comments");
        if (comments != null && !comments.isEmpty()) {
            out.println("comments:");
            for (Object o : comments) {
                Map<?, ?> note = (Map<?, ?>) o;
                out.println("  " + note.get("by") + ": " + oneLine(String.valueOf(note.get("comment")), 500));
            }
        }
        out.println("statement_hash: " + r.get("statement_hash"));
        out.println("statement:");
        for (String line : String.valueOf(r.get("statement")).split("\n", -1)) out.println("  " + visible(line));
        List<?> params = (List<?>) r.get("parameters");
        if (!params.isEmpty()) {
            List<String> shown = new java.util.ArrayList<>();
            for (Object p : params) shown.add(p == null ? "NULL" : "'" + visible(String.valueOf(p)) + "'");
            out.println("parameters: " + String.join(", ", shown));
        }
        out.flush();
    }

    static String timeLeft(Map<String, Object> r) {
        if (!"pending".equals(r.get("status"))) return "";
        long s = Math.max(0, Duration.between(Instant.now(), Instant.parse(String.valueOf(r.get("expires")))).toSeconds());
        return s / 60 + "m" + String.format("%02d", s % 60) + "s left";
    }

    /**
     * What the agent wrote, with what a terminal would act on or hide (control characters such as carriage return
     * and escape, bidi overrides, zero-width characters) shown as code points: the approver reads what runs.
     */
    static String visible(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            boolean hidden = cp != '\t' && (Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT);
            if (hidden) b.append(String.format("\u27e8U+%04X\u27e9", cp));
            else b.appendCodePoint(cp);
        });
        return b.toString();
    }

    static String oneLine(String s, int max) {
        String t = s.replaceAll("\\s+", " ").strip();
        // Control characters from the agent never reach the terminal.
        t = t.codePoints().map(cp -> Character.isISOControl(cp) ? ' ' : cp)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return t.length() > max ? t.substring(0, max) + "…" : t;
    }
}
