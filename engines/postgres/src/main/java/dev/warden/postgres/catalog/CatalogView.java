package dev.warden.postgres.catalog;

import dev.warden.postgres.catalog.CatalogSnapshot.Relation;
import java.util.List;
import java.util.Optional;

/** What {@link PostgresCatalog#pin()} hands one classification: a loaded snapshot, or the offline table and why. */
sealed interface CatalogView extends SchemaInfo {
    record Live(CatalogSnapshot snap) implements CatalogView {
        @Override
        public Optional<String> relation(List<String> searchPath, String schema, String name) {
            return snap.relation(searchPath, schema, name).map(Relation::qualifiedName);
        }

        @Override
        public Optional<List<String>> columns(String qualifiedRelation) {
            return snap.relation(qualifiedRelation).map(Relation::columns);
        }

        @Override
        public List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount) {
            return snap.candidates(searchPath, schema, name, argCount).stream().map(CatalogSnapshot.Function::info).toList();
        }

        /**
         * Every operator the symbol may reach is PostgreSQL's own or an extension's, and its function is not volatile
         * (see {@link CatalogSnapshot.Operator#provenPure()}). A symbol no operator has is not proven either.
         */
        @Override
        public boolean builtInOperator(List<String> searchPath, String schema, String symbol) {
            List<CatalogSnapshot.Operator> ops = symbolOnly(snap.operatorCandidates(searchPath, schema, symbol));
            return !ops.isEmpty() && ops.stream().allMatch(CatalogSnapshot.Operator::provenPure);
        }

        /** PostgreSQL's text and record type OIDs. */
        private static final String TEXT_TEXT = "25,25", RECORD_RECORD = "2249,2249";

        /**
         * The candidates a symbol may reach when no operand is of a type the statement is known to use. An operator
         * {@link CatalogSnapshot.Operator#bound bound} to its operand types is chosen only for operands of those
         * types (which bring it themselves: {@link ImplicitCode.TypeCode#use()}) or for operands that convert to them
         * without a cast in the text: two untyped literals (or parameters), which PostgreSQL resolves to a candidate
         * of the string category when there is one (text = text), and, for a composite type, a {@code record}, which
         * meets an exact match first when the symbol has a record operator (record = record; an untyped literal next
         * to a record is taken as a record). Where the symbol lacks those, the operator stays a candidate.
         */
        private static List<CatalogSnapshot.Operator> symbolOnly(List<CatalogSnapshot.Operator> ops) {
            boolean strings = false, records = false;
            for (CatalogSnapshot.Operator o : ops) {
                if (!o.builtIn()) continue;
                if (o.signature().equals(TEXT_TEXT)) strings = true;
                if (o.signature().equals(RECORD_RECORD)) records = true;
            }
            if (!strings) return ops;
            boolean recordsToo = records;
            return ops.stream().filter(o -> switch (o.bound()) {
                case CatalogSnapshot.Operator.BOUND -> false;
                case CatalogSnapshot.Operator.BOUND_COMPOSITE -> !recordsToo;
                default -> true;
            }).toList();
        }

        @Override
        public boolean readRunsUserCode(String qualifiedRelation) {
            return snap.relation(qualifiedRelation).map(Relation::runsUserCode).orElse(false);
        }

        @Override
        public boolean castRunsUserCode(String typeName) {
            return snap.userCastTargets().contains(typeName);
        }

        @Override
        public RelationReach reach() {
            return snap.reach();
        }

        @Override
        public ImplicitCode implicitCode() {
            return snap.implicitCode();
        }

        @Override
        public boolean eventTriggers() {
            return snap.eventTriggers();
        }

        @Override
        public SchemaInfo actingAs(String role) {
            return role == null || role.equals(snap.user()) ? this : new Live(snap.actingAs(role));
        }

        @Override
        public java.util.Set<String> roleSchemas() {
            return snap.roleSchemas();
        }

        @Override
        public String creationSchema(List<String> searchPath) {
            return snap.creationSchema(searchPath);
        }

        @Override
        public boolean resolvedByUnreadPrivileges(List<String> searchPath, String name) {
            return snap.resolvedByUnreadPrivileges(searchPath, name);
        }

        @Override
        public boolean live() {
            return true;
        }
    }

    /**
     * The offline table's answers while the live catalog cannot be read. They are what the table knows, not guesses
     * about user objects; {@link #unavailable()} tells the classifier not to prove what would depend on those.
     */
    record Unavailable(SchemaInfo offline, String why, RelationReach reach) implements CatalogView {
        Unavailable(SchemaInfo offline, String why) {
            this(offline, why, RelationReach.NONE);
        }

        @Override
        public Optional<String> relation(List<String> searchPath, String schema, String name) {
            return offline.relation(searchPath, schema, name);
        }

        @Override
        public Optional<List<String>> columns(String qualifiedRelation) {
            return offline.columns(qualifiedRelation);
        }

        @Override
        public List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount) {
            return offline.functions(searchPath, schema, name, argCount);
        }

        @Override
        public boolean builtInOperator(List<String> searchPath, String schema, String symbol) {
            return offline.builtInOperator(searchPath, schema, symbol);
        }

        @Override
        public boolean live() {
            return false;
        }

        @Override
        public Optional<String> unavailable() {
            return Optional.of(why);
        }
    }
}
