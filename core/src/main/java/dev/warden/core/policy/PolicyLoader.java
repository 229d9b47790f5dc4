package dev.warden.core.policy;

import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Kind;
import dev.warden.core.engine.Engines;
import dev.warden.core.yaml.ConfigException;
import dev.warden.core.yaml.YamlNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads a policy file strictly: every error names the file, the line and the key. */
public final class PolicyLoader {
    private static final List<String> TOP_KEYS = List.of("rules");
    private static final List<String> RULE_KEYS = List.of("name", "match", "action", "reason", "approval");
    private static final List<String> MATCH_KEYS = List.of("agent", "database", "engine", "kind", "objects",
            "columns", "functions", "flags", "tags", "rows_over");
    private static final List<String> APPROVAL_KEYS = List.of("mode", "approvers", "timeout", "valid_for");

    private PolicyLoader() {}

    public static Policy load(Path file) throws ConfigException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file, 0, "", "the policy file does not exist");
        } catch (IOException e) {
            throw new ConfigException(file, 0, "", "cannot read the policy: " + e.getMessage());
        }
        return parse(file, bytes);
    }

    public static Policy parse(Path file, byte[] bytes) throws ConfigException {
        YamlNode root = YamlNode.parse(file, YamlNode.utf8(file, bytes));
        Map<String, YamlNode> top = root.map(TOP_KEYS);
        YamlNode rulesNode = top.get("rules");
        if (rulesNode == null) throw root.error("missing key 'rules'");
        List<YamlNode> ruleNodes = rulesNode.isNull() ? List.of() : rulesNode.list();
        if (ruleNodes.isEmpty()) throw rulesNode.error("the rule list is empty (with no rules everything is denied; say so with a deny rule)");
        List<Rule> rules = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (YamlNode n : ruleNodes) {
            Rule r = rule(n);
            if (!names.add(r.name())) throw n.map(RULE_KEYS).get("name").error("duplicate rule name '" + r.name() + "'");
            rules.add(r);
        }
        return new Policy(file.toString(), sha256(bytes), rules);
    }

    private static Rule rule(YamlNode n) throws ConfigException {
        Map<String, YamlNode> m = n.map(RULE_KEYS);
        String name = required(n, m, "name").string().trim();
        if (name.isEmpty()) throw m.get("name").error("the rule name is empty");
        YamlNode actionNode = required(n, m, "action");
        Action action = switch (actionNode.string()) {
            case "allow" -> Action.ALLOW;
            case "approve" -> Action.APPROVE;
            case "deny" -> Action.DENY;
            default -> throw actionNode.error("unknown action '" + actionNode.string() + "' (expected allow, approve or deny)");
        };
        Match match = m.containsKey("match") ? match(m.get("match")) : Match.ANY;
        String reason = m.containsKey("reason") ? m.get("reason").string() : null;
        ApprovalSpec approval = null;
        if (m.containsKey("approval")) {
            if (action != Action.APPROVE) throw m.get("approval").error("'approval' only applies to rules with action: approve");
            approval = approval(m.get("approval"));
        } else if (action == Action.APPROVE) {
            approval = ApprovalSpec.DEFAULT;
        }
        return new Rule(name, match, action, reason, approval, n.line());
    }

    private static YamlNode required(YamlNode parent, Map<String, YamlNode> m, String key) throws ConfigException {
        YamlNode v = m.get(key);
        if (v == null) throw parent.error("missing key '" + key + "'");
        return v;
    }

    private static Match match(YamlNode n) throws ConfigException {
        if (n.isNull()) return Match.ANY;
        Map<String, YamlNode> m = n.map(MATCH_KEYS);
        Set<Kind> kinds = EnumSet.noneOf(Kind.class);
        if (m.containsKey("kind")) {
            nonEmpty(m.get("kind"));
            for (YamlNode k : m.get("kind").oneOrList()) {
                try {
                    kinds.add(Kind.parse(k.string()));
                } catch (IllegalArgumentException e) {
                    throw k.error("unknown kind '" + k.string() + "' (expected read, write, ddl, dcl, tcl, session, admin or unknown)");
                }
            }
        }
        List<Glob> engines = globs(m.get("engine"));
        for (Glob g : engines) {
            if (!g.pattern().contains("*") && !g.pattern().contains("?") && !Engines.KNOWN.contains(g.pattern())) {
                throw m.get("engine").error("unknown engine '" + g.pattern() + "' (expected one of " + Engines.KNOWN + ")");
            }
        }
        if (m.containsKey("flags")) {
            for (String f : nonEmpty(m.get("flags"))) {
                if (!dev.warden.core.Flag.ALL.contains(f)) {
                    throw m.get("flags").error("unknown flag '" + f + "' (expected one of " + dev.warden.core.Flag.ALL + ")");
                }
            }
        }
        Long rowsOver = null;
        if (m.containsKey("rows_over")) {
            rowsOver = m.get("rows_over").integer();
            if (rowsOver < 0) throw m.get("rows_over").error("must not be negative");
        }
        return new Match(globs(m.get("agent")), globs(m.get("database")), engines, kinds, globs(m.get("objects")),
                globs(m.get("columns")), globs(m.get("functions")), words(m.get("flags")), words(m.get("tags")), rowsOver);
    }

    private static List<Glob> globs(YamlNode n) throws ConfigException {
        if (n == null) return List.of();
        List<Glob> out = new ArrayList<>();
        for (String s : nonEmpty(n)) out.add(Glob.of(s));
        return out;
    }

    private static Set<String> words(YamlNode n) throws ConfigException {
        return n == null ? Set.of() : new LinkedHashSet<>(nonEmpty(n));
    }

    private static List<String> nonEmpty(YamlNode n) throws ConfigException {
        List<String> values = n.strings();
        if (values.isEmpty()) throw n.error("the list is empty (leave the key out to match anything)");
        for (String v : values) if (v.isBlank()) throw n.error("empty value");
        return values;
    }

    private static ApprovalSpec approval(YamlNode n) throws ConfigException {
        Map<String, YamlNode> m = n.map(APPROVAL_KEYS);
        ApprovalSpec d = ApprovalSpec.DEFAULT;
        ApprovalSpec.Mode mode = d.mode();
        if (m.containsKey("mode")) {
            mode = switch (m.get("mode").string()) {
                case "hold" -> ApprovalSpec.Mode.HOLD;
                case "ticket" -> ApprovalSpec.Mode.TICKET;
                default -> throw m.get("mode").error("unknown mode '" + m.get("mode").string() + "' (expected hold or ticket)");
            };
        }
        int approvers = d.approvers();
        if (m.containsKey("approvers")) {
            long a = m.get("approvers").integer();
            if (a != 1 && a != 2) throw m.get("approvers").error("must be 1 or 2");
            approvers = (int) a;
        }
        Duration timeout = m.containsKey("timeout") ? positive(m.get("timeout")) : d.timeout();
        Duration validFor = m.containsKey("valid_for") ? positive(m.get("valid_for")) : d.validFor();
        return new ApprovalSpec(mode, approvers, timeout, validFor);
    }

    private static Duration positive(YamlNode n) throws ConfigException {
        Duration d = n.duration();
        if (d.isZero()) throw n.error("must be longer than zero");
        return d;
    }

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
