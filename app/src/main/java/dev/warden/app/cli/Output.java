package dev.warden.app.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.warden.core.Classification;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Statement;
import java.io.PrintWriter;
import java.util.List;
import java.util.stream.Collectors;

/** How the command line prints: one JSON document, or readable text. */
final class Output {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Output() {}

    static void json(PrintWriter out, Object value) {
        try {
            out.println(JSON.writeValueAsString(value));
            out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void classification(PrintWriter out, Classification c) {
        out.println("kind: " + c.kind().label());
        List<Statement> statements = c.statements();
        for (int i = 0; i < statements.size(); i++) {
            Statement s = statements.get(i);
            out.println("statement " + (i + 1) + ": " + s.kind().label() + (s.command().isEmpty() ? "" : " (" + s.command() + ")"));
            if (statements.size() > 1) out.println("  text: " + s.text().strip());
            if (!s.objects().isEmpty()) {
                out.println("  objects: " + s.objects().stream().map(Output::object).collect(Collectors.joining(", ")));
            }
            if (!s.functions().isEmpty()) out.println("  functions: " + String.join(", ", s.functions()));
            if (!s.flags().isEmpty()) out.println("  flags: " + String.join(", ", s.flags()));
            if (!s.unproven().isEmpty()) {
                out.println("  unproven functions: " + String.join(", ", s.unproven()) + " (kind if a rule declares them readers: "
                        + s.kindIfProven().label() + ")");
            }
            for (String r : s.reasons()) out.println("  reason: " + r);
        }
        if (!c.tags().isEmpty()) out.println("tags: " + String.join(", ", c.tags()));
        out.println("estimated rows: " + (c.estimatedRows() < 0 ? "not available" : c.estimatedRows()));
        out.println("enrichment: " + c.enrichment());
        out.flush();
    }

    private static String object(ObjectAccess o) {
        return o.name() + " (" + o.access().label() + (o.columns().isEmpty() ? "" : ": " + String.join(", ", o.columns())) + ")";
    }
}
