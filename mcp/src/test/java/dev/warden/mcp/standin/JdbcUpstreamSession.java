package dev.warden.mcp.standin;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.QueryResult;
import dev.warden.core.engine.UpstreamSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * TEST STAND-IN until {@code PostgresEngine.connect} (the wire issue) is in main: an upstream session over pgjdbc in
 * simple-query mode with escape processing off, so the text goes to the server as one Query message. The real
 * session speaks the v3 protocol itself.
 */
public final class JdbcUpstreamSession implements UpstreamSession {
    private final Connection c;

    public JdbcUpstreamSession(DatabaseConfig db) throws IOException {
        Properties p = new Properties();
        p.setProperty("user", db.upstream().user());
        if (db.upstream().password() != null) p.setProperty("password", db.upstream().password().value());
        p.setProperty("preferQueryMode", "simple");
        p.setProperty("options", "-c statement_timeout=" + db.statementTimeout().toMillis());
        try {
            c = DriverManager.getConnection("jdbc:postgresql://" + db.upstream().host() + ":" + db.upstream().port() + "/"
                    + db.upstream().database(), p);
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public QueryResult run(String exactText, boolean readOnly, int maxRows, long maxBytes) throws IOException, UpstreamException {
        try (Statement s = c.createStatement()) {
            s.setEscapeProcessing(false);
            if (readOnly) s.execute("BEGIN READ ONLY");
            List<String> columns = List.of();
            List<List<String>> rows = new ArrayList<>();
            long count = 0;
            boolean truncated = false;
            boolean isResult = s.execute(exactText);
            while (true) {
                if (isResult) {
                    try (ResultSet rs = s.getResultSet()) {
                        ResultSetMetaData md = rs.getMetaData();
                        columns = new ArrayList<>();
                        for (int i = 1; i <= md.getColumnCount(); i++) columns.add(md.getColumnLabel(i));
                        rows = new ArrayList<>();
                        count = 0;
                        truncated = false;
                        long bytes = 0;
                        while (rs.next()) {
                            count++;
                            if (truncated) continue;
                            List<String> row = new ArrayList<>();
                            for (int i = 1; i <= md.getColumnCount(); i++) {
                                String v = rs.getString(i);
                                row.add(v);
                                bytes += v == null ? 4 : v.getBytes(StandardCharsets.UTF_8).length;
                            }
                            if (rows.size() >= maxRows || bytes > maxBytes) truncated = true;
                            else rows.add(row);
                        }
                    }
                } else if (s.getUpdateCount() >= 0) {
                    count = s.getUpdateCount();
                    columns = List.of();
                    rows = new ArrayList<>();
                } else {
                    break;
                }
                isResult = s.getMoreResults();
            }
            if (readOnly) s.execute("COMMIT");
            return new QueryResult(columns, rows, "", count, truncated);
        } catch (SQLException e) {
            if (closed()) throw new IOException(e.getMessage(), e);
            throw new UpstreamException(e.getSQLState(), e.getMessage());
        }
    }

    private boolean closed() {
        try {
            return c.isClosed() || !c.isValid(2);
        } catch (SQLException e) {
            return true;
        }
    }

    @Override
    public void reset() throws IOException, UpstreamException {
        try (Statement s = c.createStatement()) {
            s.execute("ROLLBACK");
            s.execute("DISCARD ALL");
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            c.close();
        } catch (SQLException ignored) {
            // Closing anyway.
        }
    }
}
