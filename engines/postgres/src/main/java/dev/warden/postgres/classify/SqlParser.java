package dev.warden.postgres.classify;

/**
 * PostgreSQL's own grammar behind one small interface: text in, a parse tree (libpg_query's JSON) or a syntax
 * error with its position out. Implementations never throw for bad input.
 */
public interface SqlParser {
    ParseResult parse(String sql);

    /** What a parse produced. */
    sealed interface ParseResult permits Tree, SyntaxError {}

    /**
     * A parse tree in libpg_query's JSON form ({@code {"version":…,"stmts":[…]}}).
     *
     * @param grammar which grammar accepted it, such as {@code "pg15-native"} or {@code "pg18-wasm"}
     */
    record Tree(String json, String grammar) implements ParseResult {}

    /**
     * The text is not valid in this grammar.
     *
     * @param position 0-based character offset of the error in the text, or -1 when not known
     */
    record SyntaxError(String message, int position, String grammar) implements ParseResult {}
}
