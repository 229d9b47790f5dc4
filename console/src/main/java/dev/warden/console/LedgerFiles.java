package dev.warden.console;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvals;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The audit browser's view of the ledger: reads the canonical JSON lines in {@code <data_dir>/ledger/*.jsonl}
 * (segments in name order), filters, and returns the newest matches first. Read-only; a line that does not parse is
 * reported as such rather than skipped silently, because the auditor should see it.
 */
final class LedgerFiles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.util.regex.Pattern SEGMENT = java.util.regex.Pattern.compile("\\d{20}\\.jsonl");

    record Filter(String agent, String database, String decision, String object, String type, Instant from, Instant to,
                  int limit) {
        static Filter of(Map<String, String> q) {
            int limit = 200;
            if (q.containsKey("limit")) {
                try {
                    limit = Math.clamp(Integer.parseInt(q.get("limit")), 1, 2000);
                } catch (NumberFormatException e) {
                    throw new HttpError(400, "limit must be a number");
                }
            }
            return new Filter(blank(q.get("agent")), blank(q.get("database")), blank(q.get("decision")),
                    blank(q.get("object")), blank(q.get("type")), time(q.get("from")), time(q.get("to")), limit);
        }

        private static String blank(String s) {
            return s == null || s.isBlank() ? null : s.strip();
        }

        private static Instant time(String s) {
            if (s == null || s.isBlank()) return null;
            try {
                return Instant.parse(s.strip());
            } catch (DateTimeParseException e) {
                try {
                    return java.time.LocalDateTime.parse(s.strip()).toInstant(java.time.ZoneOffset.UTC);
                } catch (DateTimeParseException e2) {
                    throw new HttpError(400, "times are ISO-8601, such as 2026-01-31T12:00:00Z");
                }
            }
        }
    }

    private final Path dir;
    private final Approvals approvals;

    LedgerFiles(Path dataDir, Approvals approvals) {
        this.dir = dataDir.resolve("ledger");
        this.approvals = approvals;
    }

    List<Map<String, Object>> read(Filter f) throws IOException {
        Deque<Map<String, Object>> newest = new ArrayDeque<>();
        if (!Files.isDirectory(dir)) return List.of();
        List<Path> segments;
        try (Stream<Path> s = Files.list(dir)) {
            // Only well-named segments (20-digit first seq): any other *.jsonl file is not part of the ledger.
            segments = s.filter(p -> SEGMENT.matcher(p.getFileName().toString()).matches()).sorted().toList();
        }
        for (Path seg : segments) {
            try (BufferedReader r = Files.newBufferedReader(seg, StandardCharsets.UTF_8)) {
                String line;
                long n = 0;
                while ((line = r.readLine()) != null) {
                    n++;
                    if (line.isBlank()) continue;
                    Map<String, Object> e;
                    try {
                        e = JSON.readValue(line, new TypeReference<Map<String, Object>>() {});
                    } catch (IOException bad) {
                        e = Map.of("type", "unreadable", "segment", seg.getFileName().toString(), "line", n);
                    }
                    if (matches(e, f)) {
                        newest.addLast(e);
                        if (newest.size() > f.limit()) newest.removeFirst();
                    }
                }
            }
        }
        List<Map<String, Object>> out = new ArrayList<>(newest);
        java.util.Collections.reverse(out);
        return out;
    }

    @SuppressWarnings("unchecked")
    private boolean matches(Map<String, Object> e, Filter f) {
        if (f.type() != null && !f.type().equals(e.get("type"))) return false;
        if (f.from() != null || f.to() != null) {
            Instant t = instant(e.get("time"));
            if (t == null) return false;
            if (f.from() != null && t.isBefore(f.from())) return false;
            if (f.to() != null && t.isAfter(f.to())) return false;
        }
        Map<String, Object> op = e.get("operation") instanceof Map<?, ?> m ? (Map<String, Object>) m : e;
        String agent = str(op.get("agent"));
        String database = str(op.get("database"));
        if ((agent == null || database == null) && e.get("request_id") instanceof String rid) {
            // Approval entries name the request; the request knows its agent and database.
            ApprovalRequest r = approvals == null ? null : approvals.get(rid).orElse(null);
            if (r != null) {
                agent = r.operation().agent();
                database = r.operation().database();
            } else if (rid.startsWith("agent:")) {
                agent = rid.substring(6);
            }
        }
        if (f.agent() != null && !f.agent().equals(agent)) return false;
        if (f.database() != null && !f.database().equals(database)) return false;
        if (f.decision() != null) {
            Object d = e.get("decision");
            String action = d instanceof Map<?, ?> dm ? str(dm.get("decision")) : str(d);
            String verdict = str(e.get("verdict"));
            if (!f.decision().equalsIgnoreCase(String.valueOf(action)) && !f.decision().equalsIgnoreCase(String.valueOf(verdict))) {
                return false;
            }
        }
        if (f.object() != null) {
            String needle = f.object().toLowerCase(Locale.ROOT);
            String hay = String.valueOf(e.get("classification")).toLowerCase(Locale.ROOT) + " "
                    + String.valueOf(op.get("statement")).toLowerCase(Locale.ROOT);
            if (!hay.contains(needle)) return false;
        }
        return true;
    }

    private static String str(Object o) {
        return o instanceof String s ? s : null;
    }

    private static Instant instant(Object o) {
        if (o instanceof String s) {
            try {
                return Instant.parse(s);
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        if (o instanceof Number n) return Instant.ofEpochMilli(n.longValue());
        return null;
    }
}
