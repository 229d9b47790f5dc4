package dev.warden.postgres.classify;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * Two carriers of PostgreSQL's grammar: the first (native, fast) always, the second only when the first reports a
 * syntax error, so a statement the older grammar does not know still gets a tree. The second is created on first
 * use (the WebAssembly carrier takes seconds to start) and not at all when nothing needs it.
 */
public final class FallbackParser implements SqlParser {
    private final SqlParser first;
    private final Supplier<? extends SqlParser> second;
    private volatile SqlParser secondParser;

    public FallbackParser(SqlParser first, Supplier<? extends SqlParser> second) {
        this.first = Objects.requireNonNull(first);
        this.second = Objects.requireNonNull(second);
    }

    public FallbackParser(SqlParser first, SqlParser second) {
        this(first, () -> second);
    }

    /** The carrier tried first. */
    public SqlParser first() {
        return first;
    }

    @Override
    public ParseResult parse(String sql) {
        ParseResult r = first.parse(sql);
        if (r instanceof Tree) return r;
        SyntaxError firstError = (SyntaxError) r;
        SqlParser s;
        try {
            s = secondParser();
        } catch (RuntimeException e) {
            return firstError;
        }
        if (s == null) return firstError;
        ParseResult r2;
        try {
            r2 = s.parse(sql);
        } catch (RuntimeException e) {
            return firstError;
        }
        if (r2 instanceof Tree) return r2;
        SyntaxError e2 = (SyntaxError) r2;
        // Neither grammar knows it: say so, with the newer grammar's position (it knows more syntax).
        return new SyntaxError(e2.message() + " (neither " + firstError.grammar() + " nor " + e2.grammar()
                + " accepts it)", e2.position() >= 0 ? e2.position() : firstError.position(), e2.grammar());
    }

    private SqlParser secondParser() {
        SqlParser s = secondParser;
        if (s == null) {
            synchronized (this) {
                s = secondParser;
                if (s == null) secondParser = s = second.get();
            }
        }
        return s;
    }
}
