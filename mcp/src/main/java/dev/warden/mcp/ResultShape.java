package dev.warden.mcp;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.engine.QueryResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a query result compactly (column names once, rows as arrays) and enforces {@code max_rows} and
 * {@code max_bytes} here as well as in the session, so a result is never larger than configured and a cut is
 * always stated, never silent.
 */
final class ResultShape {
    static final ObjectMapper JSON = new ObjectMapper();

    private ResultShape() {}

    static Map<String, Object> render(QueryResult r, int maxRows, long maxBytes) {
        List<List<String>> rows = new ArrayList<>();
        long bytes = 2;
        boolean cutByRows = false;
        boolean cutByBytes = false;
        for (List<String> row : r.rows()) {
            if (rows.size() >= maxRows) {
                cutByRows = true;
                break;
            }
            long size = jsonSize(row) + 1;
            if (bytes + size > maxBytes) {
                cutByBytes = true;
                break;
            }
            bytes += size;
            rows.add(row);
        }
        boolean truncated = r.truncated() || cutByRows || cutByBytes;
        if (r.truncated() && !cutByRows && !cutByBytes) {
            // The session stopped reading: say which cap it most likely was.
            if (r.rows().size() >= maxRows) cutByRows = true;
            else cutByBytes = true;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "ok");
        m.put("command", r.commandTag());
        m.put("columns", r.columns());
        m.put("rows", rows);
        m.put("row_count", rows.size());
        m.put("truncated", truncated);
        if (truncated) {
            String why = cutByRows ? "max_rows (" + maxRows + ")" : "max_bytes (" + maxBytes + " bytes)";
            long total = Math.max(r.rowCount(), r.rows().size());
            String of = total > rows.size() && !r.truncated() ? " of " + total : "";
            m.put("truncation", "the result was cut at " + why + ": only the first " + rows.size() + " rows" + of
                    + " are shown; the rest were not returned. Narrow the query (WHERE, LIMIT, fewer columns) to see them.");
        }
        return m;
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long jsonSize(List<String> row) {
        return json(row).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
}
