package dev.warden.mcp;

/**
 * The read-only catalog queries {@code describe} runs, per engine: tables with their columns, and indexes. They are
 * Warden's own fixed texts, not the agent's, and run in a read-only transaction.
 */
record CatalogQueries(String columns, String indexes) {
    private static final CatalogQueries POSTGRES = new CatalogQueries("""
            SELECT c.table_schema, c.table_name, t.table_type, c.column_name, c.data_type, c.is_nullable
            FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema NOT IN ('pg_catalog', 'information_schema') AND c.table_schema NOT LIKE 'pg_toast%'
            ORDER BY c.table_schema, c.table_name, c.ordinal_position""", """
            SELECT schemaname, tablename, indexname, indexdef FROM pg_catalog.pg_indexes
            WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
            ORDER BY schemaname, tablename, indexname""");

    /** Both texts as one, in the order they run: what the ledger records for a describe. */
    String text() {
        return columns + ";\n" + indexes;
    }

    static CatalogQueries forEngine(String engine) {
        return "postgres".equals(engine) ? POSTGRES : null;
    }
}
