package dev.warden.postgres.wire;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.QueryResult;
import dev.warden.core.engine.UpstreamSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An upstream session for front ends that are not the wire protocol (the MCP server): the simple query protocol,
 * the exact text in one Query message, an optional read-only transaction around it, the statement timeout and the
 * search path its texts are classified under set at startup, and caps on what is kept of the result (the rest is
 * read and dropped).
 */
public final class PgUpstreamSession implements UpstreamSession {
    private final UpstreamConnection conn;
    private final FrameReader reader;
    private char status = 'I';

    private PgUpstreamSession(UpstreamConnection conn) {
        this.conn = conn;
        this.reader = new FrameReader(conn.in(), 64 << 20);
    }

    public static PgUpstreamSession open(DatabaseConfig db) throws IOException {
        Map<String, String> settings = Map.of(
                "client_encoding", "UTF8",
                "application_name", "warden",
                "statement_timeout", Long.toString(db.statementTimeout().toMillis()),
                // Its texts are classified under the default path: they run under it too, not under a role's or the
                // database's own default (an unqualified name was judged in one schema and read in another). It is
                // the session's reset value as well, so DISCARD ALL between calls returns to it.
                "search_path", dev.warden.postgres.catalog.SearchPath.render(
                        dev.warden.core.engine.ClassifyContext.DEFAULT_SEARCH_PATH),
                // And as the configured user, not as a role a role's or database's default sets ("$user" follows it).
                "role", "none");
        return new PgUpstreamSession(UpstreamConnection.open(db.upstream(), settings, Duration.ofSeconds(10)));
    }

    @Override
    public QueryResult run(String exactText, boolean readOnly, int maxRows, long maxBytes) throws IOException, UpstreamException {
        if (readOnly) {
            if (status != 'I') simple("ROLLBACK", 0, 0);
            simple("START TRANSACTION READ ONLY", 0, 0);
            try {
                return simple(exactText, maxRows, maxBytes);
            } finally {
                // A read never needs its transaction; ending it also ends anything the text left open.
                simple("ROLLBACK", 0, 0);
            }
        }
        return simple(exactText, maxRows, maxBytes);
    }

    @Override
    public void reset() throws IOException, UpstreamException {
        if (status != 'I') simple("ROLLBACK", 0, 0);
        simple("DISCARD ALL", 0, 0);
    }

    private QueryResult simple(String text, int maxRows, long maxBytes) throws IOException, UpstreamException {
        PgWriter w = new PgWriter();
        new QueryMessage.Query(text).write(w);
        w.writeTo(conn.out());
        conn.out().flush();
        List<String> columns = List.of();
        List<List<String>> rows = new ArrayList<>();
        String tag = "";
        long rowCount = 0;
        long bytes = 0;
        boolean truncated = false;
        Notice error = null;
        while (true) {
            Frame f = reader.read();
            switch (f.type()) {
                case 'T' -> {
                    PgReader r = f.reader();
                    int n = r.count(19);
                    List<String> cols = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        cols.add(r.cstring());
                        r.bytes(18);
                    }
                    columns = cols;
                    rows = new ArrayList<>();
                    rowCount = 0;
                    truncated = false;
                    bytes = 0;
                }
                case 'D' -> {
                    rowCount++;
                    if (rows.size() >= maxRows || bytes + f.body().length > maxBytes) {
                        truncated = true;
                        continue;
                    }
                    bytes += f.body().length;
                    PgReader r = f.reader();
                    int n = r.count(4);
                    List<String> row = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        int len = r.int32();
                        row.add(len < 0 ? null : new String(r.bytes(len), StandardCharsets.UTF_8));
                    }
                    rows.add(row);
                }
                case 'C' -> tag = SessionMessage.CommandComplete.read(f).tag();
                case 'E' -> error = Notice.read(f);
                case 'Z' -> {
                    status = SessionMessage.ReadyForQuery.read(f).status();
                    if (error != null) throw new UpstreamException(error.code(), error.message());
                    return new QueryResult(columns, rows, tag, rowCount, truncated);
                }
                case 'G' -> {
                    PgWriter fail = new PgWriter();
                    fail.begin('f').cstring("COPY FROM STDIN is not available here").end();
                    fail.writeTo(conn.out());
                    conn.out().flush();
                }
                case 'H', 'd', 'c', 'I', 'N', 'S', 'A', 'n', 't', '1', '2', '3', 's' -> { }
                default -> throw new ProtocolException("unexpected upstream message '" + (char) f.type() + "'");
            }
        }
    }

    @Override
    public void close() {
        conn.close();
    }
}
