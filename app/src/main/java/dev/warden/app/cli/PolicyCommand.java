package dev.warden.app.cli;

import dev.warden.core.Action;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Operation;
import dev.warden.core.engine.Engines;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyEngine;
import dev.warden.core.policy.PolicyLoader;
import dev.warden.core.yaml.ConfigException;
import dev.warden.core.yaml.YamlNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "policy", mixinStandardHelpOptions = true, description = "Validate and test policies.",
        subcommands = {PolicyCommand.Lint.class, PolicyCommand.Test.class},
        footer = {"", "Examples:", "  warden policy lint policy.yaml", "  warden policy test policy-tests.yaml"})
final class PolicyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
    }

    @Command(name = "lint", mixinStandardHelpOptions = true,
            description = "Validate a policy file. Exit 0 when valid; otherwise print FILE:LINE: KEY: problem and exit 2.",
            footer = {"", "Example:", "  warden policy lint policy.yaml"})
    static final class Lint implements Callable<Integer> {
        @Parameters(paramLabel = "FILE")
        Path file;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws ConfigException {
            Policy p = PolicyLoader.load(file);
            spec.commandLine().getOut().println("ok: " + file + ": " + p.rules().size() + " rules, sha256 " + p.hash());
            return WardenCommand.OK;
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = {"Run test cases against a policy and report failures; exit 1 on any failure.",
                    "FILE is either a list of cases (then --policy names the policy) or a mapping with 'policy' (relative to FILE) and 'cases'.",
                    "Each case: statement, engine, optional agent, database and name, and expect: allow|approve|deny."},
            footer = {"", "Example cases file:",
                    "  policy: policy.yaml",
                    "  cases:",
                    "    - statement: SELECT * FROM orders",
                    "      engine: postgres",
                    "      expect: allow",
                    "    - statement: DROP TABLE audit_log",
                    "      engine: postgres",
                    "      expect: deny",
                    "", "Example:", "  warden policy test policy-tests.yaml"})
    static final class Test implements Callable<Integer> {
        private static final List<String> FILE_KEYS = List.of("policy", "cases");
        private static final List<String> CASE_KEYS = List.of("name", "statement", "engine", "agent", "database", "expect");

        @Parameters(paramLabel = "FILE", description = "the test cases")
        Path file;

        @Option(names = "--policy", paramLabel = "POLICY", description = "the policy to test (overrides the file's 'policy' key)")
        Path policyFile;

        @Spec
        CommandSpec spec;

        record Case(String name, String statement, String engine, String agent, String database, Action expect, int line) {}

        @Override
        public Integer call() throws ConfigException {
            YamlNode root = YamlNode.read(file);
            List<YamlNode> caseNodes;
            Path policyPath = policyFile;
            if (root.isMap()) {
                Map<String, YamlNode> m = root.map(FILE_KEYS);
                if (!m.containsKey("cases")) throw root.error("missing key 'cases'");
                caseNodes = m.get("cases").list();
                if (policyPath == null && m.containsKey("policy")) {
                    Path parent = file.toAbsolutePath().getParent();
                    policyPath = parent.resolve(m.get("policy").string());
                }
            } else {
                caseNodes = root.list();
            }
            if (policyPath == null) throw new WardenCommand.UsageException("no policy: give --policy or a 'policy' key in " + file);
            if (caseNodes.isEmpty()) throw root.error("no test cases");
            List<Case> cases = new ArrayList<>();
            for (YamlNode n : caseNodes) cases.add(readCase(n));
            Policy policy = PolicyLoader.load(policyPath);

            PrintWriter out = spec.commandLine().getOut();
            int failed = 0;
            for (Case c : cases) {
                Operation op = new Operation(c.agent, c.database, c.engine, c.statement, List.of(), null, "policy-test", "local", null);
                EngineOptions eo = new EngineOptions();
                eo.engine = c.engine;
                Classification cl = eo.classify(op, Optional.empty());
                Decision d = PolicyEngine.decide(policy, op, cl);
                boolean pass = d.action() == c.expect;
                if (!pass) failed++;
                String label = c.name != null ? c.name : oneLine(c.statement);
                out.println((pass ? "PASS " : "FAIL ") + file + ":" + c.line + ": " + label
                        + (pass ? "" : "\n     expected " + c.expect.label() + ", got " + d.action().label()
                        + " (" + (d.rule() == null ? "no rule" : "rule \"" + d.rule() + "\"") + "; kind " + cl.kind().label() + ")"
                        + (d.reasons().isEmpty() ? "" : "\n     " + d.reasons().getFirst())));
            }
            out.println((cases.size() - failed) + " passed, " + failed + " failed");
            out.flush();
            return failed == 0 ? WardenCommand.OK : WardenCommand.FAILED;
        }

        private static String oneLine(String s) {
            String t = s.strip().replaceAll("\\s+", " ");
            return t.length() > 80 ? t.substring(0, 77) + "..." : t;
        }

        private static Case readCase(YamlNode n) throws ConfigException {
            Map<String, YamlNode> m = n.map(CASE_KEYS);
            if (!m.containsKey("statement")) throw n.error("missing key 'statement'");
            if (!m.containsKey("engine")) throw n.error("missing key 'engine'");
            if (!m.containsKey("expect")) throw n.error("missing key 'expect'");
            String engine = m.get("engine").string();
            if (!Engines.KNOWN.contains(engine)) throw m.get("engine").error("unknown engine '" + engine + "'");
            Action expect = switch (m.get("expect").string()) {
                case "allow" -> Action.ALLOW;
                case "approve" -> Action.APPROVE;
                case "deny" -> Action.DENY;
                default -> throw m.get("expect").error("expected allow, approve or deny");
            };
            return new Case(m.containsKey("name") ? m.get("name").string() : null, m.get("statement").string(), engine,
                    m.containsKey("agent") ? m.get("agent").string() : "policy-test",
                    m.containsKey("database") ? m.get("database").string() : "policy-test", expect, n.line());
        }
    }
}
