package dev.warden.mcp.standin;

import dev.warden.core.Access;
import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.core.engine.Classifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TEST STAND-IN until the PostgreSQL classifier (issue 4) is in main: labels plain statements by their first word and
 * the first table named. It is not a classifier for production and exists only so the MCP front end can be tested
 * end to end through the real gate; anything it does not recognise is {@code unknown}, as the real one would do.
 */
public final class KeywordClassifier implements Classifier {
    private static final Pattern TABLE = Pattern.compile("(?i)\\b(?:from|into|update|table|join)\\s+([a-z_][a-z0-9_.]*)");

    @Override
    public Classification classify(String text, ClassifyContext context) {
        List<Statement> out = new ArrayList<>();
        for (String part : text.split(";")) {
            String s = part.strip();
            if (s.isEmpty()) continue;
            out.add(statement(s));
        }
        return out.isEmpty() ? Classification.unknown(text, "no statement") : Classification.of(out);
    }

    private static Statement statement(String s) {
        String first = s.split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
        String rest = s.length() > first.length() ? s.substring(first.length()).strip() : "";
        if (first.equals("EXPLAIN")) {
            if (rest.toUpperCase(Locale.ROOT).startsWith("ANALYZE") || rest.startsWith("(")) {
                return Statement.unknown(s, "EXPLAIN with options is not labelled by the stand-in");
            }
            Statement inner = statement(rest);
            return new Statement(inner.kind() == Kind.UNKNOWN ? Kind.UNKNOWN : Kind.READ, s, "EXPLAIN",
                    inner.objects().stream().map(o -> ObjectAccess.of(o.name(), Access.READ)).toList(),
                    List.of(), Set.of(), List.of("plans without running"));
        }
        Kind kind;
        Access access;
        switch (first) {
            case "SELECT" -> { kind = Kind.READ; access = Access.READ; }
            case "INSERT", "UPDATE", "DELETE" -> { kind = Kind.WRITE; access = Access.WRITE; }
            case "CREATE", "DROP", "ALTER", "TRUNCATE" -> { kind = Kind.DDL; access = Access.DDL; }
            case "BEGIN", "COMMIT", "ROLLBACK" -> { return new Statement(Kind.TCL, s, first, List.of(), List.of(), Set.of(), List.of()); }
            default -> { return Statement.unknown(s, "the stand-in classifier does not know " + first); }
        }
        List<ObjectAccess> objects = new ArrayList<>();
        Matcher m = TABLE.matcher(s);
        if (m.find()) {
            String name = m.group(1).toLowerCase(Locale.ROOT);
            objects.add(ObjectAccess.of(name.contains(".") ? name : "public." + name, access));
        }
        return new Statement(kind, s, first, objects, List.of(), Set.of(), List.of());
    }
}
