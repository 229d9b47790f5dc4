package dev.warden.core.yaml;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

/**
 * A YAML node that knows its file, line and key path, so that every error can name all three. Reading is
 * strict: unknown keys, duplicate keys and wrong types are errors.
 */
public final class YamlNode {
    private final Path file;
    private final String key;
    private final Node node;

    private YamlNode(Path file, String key, Node node) {
        this.file = file;
        this.key = key;
        this.node = node;
    }

    public static YamlNode read(Path file) throws ConfigException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new ConfigException(file, 0, "", "cannot read: the file does not exist");
        } catch (IOException e) {
            // Some exceptions' message is only the path (AccessDeniedException): their type says what went wrong.
            throw new ConfigException(file, 0, "", "cannot read: " + e);
        }
        return parse(file, utf8(file, bytes));
    }

    /**
     * The file's text, strictly: bytes that are not UTF-8 are an error at their line, not replaced (a name or glob
     * with a replaced character would never match, and a deny rule would silently stop nothing).
     */
    public static String utf8(Path file, byte[] bytes) throws ConfigException {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(in).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            // The decoder stops at the first bad byte: its line is one more than the newlines before it.
            int line = 1;
            for (int i = 0; i < in.position() && i < bytes.length; i++) if (bytes[i] == '\n') line++;
            throw new ConfigException(file, line, "", "the file is not UTF-8 text (byte 0x"
                    + String.format("%02x", bytes[Math.min(in.position(), bytes.length - 1)] & 0xff) + ")");
        }
    }

    public static YamlNode parse(Path file, String text) throws ConfigException {
        LoadSettings settings = LoadSettings.builder().setAllowDuplicateKeys(true).setMaxAliasesForCollections(10).build();
        try {
            Optional<Node> root = new Compose(settings).composeString(text);
            if (root.isEmpty()) throw new ConfigException(file, 1, "", "the file is empty");
            return new YamlNode(file, "", root.get());
        } catch (MarkedYamlEngineException e) {
            int line = e.getProblemMark().map(m -> m.getLine() + 1).orElse(0);
            throw new ConfigException(file, line, "", "not valid YAML: " + e.getProblem());
        } catch (YamlEngineException e) {
            throw new ConfigException(file, 0, "", "not valid YAML: " + e.getMessage());
        }
    }

    public Path file() { return file; }

    /** The key path, such as {@code rules[2].match.kind}. */
    public String key() { return key; }

    /** 1-based line where this node starts. */
    public int line() {
        return node.getStartMark().map(m -> m.getLine() + 1).orElse(0);
    }

    public ConfigException error(String problem) {
        return new ConfigException(file, line(), key, problem);
    }

    public boolean isMap() { return node instanceof MappingNode; }

    public boolean isList() { return node instanceof SequenceNode; }

    public boolean isNull() {
        return node instanceof ScalarNode s && s.getTag().getValue().endsWith(":null");
    }

    /** The entries of a mapping, in order; every key must be in {@code allowed} ({@code null}: any key). */
    public Map<String, YamlNode> map(Collection<String> allowed) throws ConfigException {
        if (!(node instanceof MappingNode m)) throw error("expected a mapping");
        Map<String, YamlNode> out = new LinkedHashMap<>();
        for (NodeTuple t : m.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                throw new YamlNode(file, key, t.getKeyNode()).error("keys must be plain strings");
            }
            String name = k.getValue();
            String path = key.isEmpty() ? name : key + "." + name;
            YamlNode keyNode = new YamlNode(file, path, k);
            if (allowed != null && !allowed.contains(name)) {
                throw keyNode.error("unknown key (expected one of: " + String.join(", ", allowed) + ")");
            }
            if (out.containsKey(name)) throw keyNode.error("duplicate key");
            out.put(name, new YamlNode(file, path, t.getValueNode()));
        }
        return out;
    }

    public List<YamlNode> list() throws ConfigException {
        if (!(node instanceof SequenceNode s)) throw error("expected a list");
        List<YamlNode> out = new ArrayList<>();
        int i = 0;
        for (Node n : s.getValue()) out.add(new YamlNode(file, key + "[" + i++ + "]", n));
        return out;
    }

    /** A single value or a list of values, as a list of nodes. */
    public List<YamlNode> oneOrList() throws ConfigException {
        return isList() ? list() : List.of(this);
    }

    public String string() throws ConfigException {
        if (!(node instanceof ScalarNode s) || isNull()) throw error("expected a string");
        return s.getValue();
    }

    public List<String> strings() throws ConfigException {
        List<String> out = new ArrayList<>();
        for (YamlNode n : oneOrList()) out.add(n.string());
        return out;
    }

    public long integer() throws ConfigException {
        if (!(node instanceof ScalarNode s) || !s.getTag().getValue().endsWith(":int")) throw error("expected an integer");
        try {
            return Long.parseLong(s.getValue().replace("_", ""));
        } catch (NumberFormatException e) {
            throw error("expected an integer");
        }
    }

    public boolean bool() throws ConfigException {
        if (!(node instanceof ScalarNode s) || !s.getTag().getValue().endsWith(":bool")) throw error("expected true or false");
        return Boolean.parseBoolean(s.getValue().toLowerCase(java.util.Locale.ROOT));
    }

    /** A duration such as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}. */
    public java.time.Duration duration() throws ConfigException {
        String v = string().trim();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)(ms|s|m|h)").matcher(v);
        if (!m.matches()) throw error("expected a duration such as 500ms, 30s, 5m or 1h, got '" + v + "'");
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> java.time.Duration.ofMillis(n);
            case "s" -> java.time.Duration.ofSeconds(n);
            case "m" -> java.time.Duration.ofMinutes(n);
            default -> java.time.Duration.ofHours(n);
        };
    }
}
