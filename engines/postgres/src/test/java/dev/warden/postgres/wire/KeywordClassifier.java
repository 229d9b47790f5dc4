package dev.warden.postgres.wire;

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
 * A deliberately small classifier for the front-end tests, so they can tell reads from writes before the libpg_query
 * classifier is on the class path. It is not a model of the real one: it only labels the statements these tests send.
 */
final class KeywordClassifier implements Classifier {
    private static final Pattern TARGET = Pattern.compile("\\b(from|into|update|join|table|copy)\\s+(?:if\\s+exists\\s+)?\"?([a-z_][a-z0-9_.]*)", Pattern.CASE_INSENSITIVE);

    @Override
    public Classification classify(String text, ClassifyContext context) {
        List<Statement> out = new ArrayList<>();
        for (String part : text.split(";")) {
            if (part.isBlank()) continue;
            out.add(statement(part.strip(), context));
        }
        if (out.isEmpty()) out.add(Statement.unknown(text, "empty"));
        return Classification.of(out);
    }

    private Statement statement(String s, ClassifyContext ctx) {
        String lower = s.toLowerCase(Locale.ROOT).replaceAll("/\\*.*?\\*/", " ").replaceAll("--[^\\n]*", " ").strip();
        String first = lower.split("[\\s(]+", 2)[0];
        boolean hiddenWrite = lower.matches("(?s).*\\b(insert|update|delete)\\b.*");
        Kind kind = switch (first) {
            case "select", "with", "values", "show", "table" -> hiddenWrite ? Kind.WRITE : Kind.READ;
            case "insert", "update", "delete", "merge" -> Kind.WRITE;
            case "copy" -> lower.contains(" from ") ? Kind.WRITE : Kind.READ;
            case "create", "alter", "drop", "truncate" -> Kind.DDL;
            case "begin", "start", "commit", "rollback", "end", "savepoint", "release", "abort" -> Kind.TCL;
            case "set", "reset", "discard", "prepare", "deallocate" -> Kind.SESSION;
            case "execute" -> {
                String name = lower.split("[\\s(]+")[1];
                Classification c = ctx.prepared().get(name);
                yield c == null ? Kind.UNKNOWN : c.kind();
            }
            default -> Kind.UNKNOWN;
        };
        if (kind == Kind.UNKNOWN) return Statement.unknown(s, "not a statement this test classifier knows");
        List<ObjectAccess> objects = new ArrayList<>();
        Matcher m = TARGET.matcher(lower);
        while (m.find()) {
            String name = m.group(2);
            if (!name.contains(".")) name = "public." + name;
            if (name.equals("public.stdin") || name.equals("public.stdout")) continue;
            Access a = switch (kind) {
                case DDL -> Access.DDL;
                case WRITE -> m.group(1).equalsIgnoreCase("join") ? Access.READ : Access.WRITE;
                default -> Access.READ;
            };
            objects.add(ObjectAccess.of(name, a));
        }
        return new Statement(kind, s, first.toUpperCase(Locale.ROOT), objects, List.of(), Set.of(), List.of("keyword test classifier"));
    }
}
