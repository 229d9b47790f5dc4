package dev.warden.postgres.catalog;

import java.util.List;
import java.util.Map;

/**
 * Code PostgreSQL runs for a statement that never names it, where that code is not PostgreSQL's own and proven pure:
 * a domain's CHECK or default, a type's input, output, type-modifier or subscripting function, the operator class
 * that sorts or hashes a type, an implicit or assignment cast, and, on writes, triggers, column defaults and generated
 * columns, CHECK constraints and index expressions. Read once per catalog generation ({@link ImplicitCodeLoader});
 * only what runs such code is kept, so a database without any holds empty maps.
 *
 * @param types      type name ({@code pg_type.typname}, any schema, arrays included) to what making and using a
 *                   value of that type runs: what a cast to it or a column definition list naming it may reach
 * @param typesByOid the same by type OID: the parameter types a client declares in a Parse message
 * @param columns    {@code schema.name} to column to what its type runs
 * @param scans      {@code schema.name} to what reading it may run without a view, rule or policy: the operator
 *                   classes of its indexes (an index scan compares with them)
 * @param writes     {@code schema.name} to what writing rows of it runs, by event
 * @param typeInputs what any value made from text or JSON into a type the statement does not name may run
 *                   ({@code json_populate_record(t, …)}, {@code domain_in}): the {@code make} of every type
 */
public record ImplicitCode(Map<String, TypeCode> types, Map<Long, TypeCode> typesByOid, Map<String, Map<String, TypeCode>> columns,
                           Map<String, List<Call>> scans, Map<String, List<WriteCall>> writes, List<Call> typeInputs) {
    public static final ImplicitCode NONE = new ImplicitCode(Map.of(), Map.of(), Map.of(), Map.of(), Map.of(), List.of());

    /** Write events, as the bits of {@code pg_trigger.tgtype}. */
    public static final int INSERT = 4, DELETE = 8, UPDATE = 16, TRUNCATE = 32;
    public static final int ROW_CHANGES = INSERT | DELETE | UPDATE;
    public static final int ALL = ROW_CHANGES | TRUNCATE;

    public ImplicitCode {
        types = Map.copyOf(types);
        typesByOid = Map.copyOf(typesByOid);
        columns = Map.copyOf(columns);
        scans = Map.copyOf(scans);
        writes = Map.copyOf(writes);
        typeInputs = List.copyOf(typeInputs);
    }

    public boolean isEmpty() {
        return types.isEmpty() && columns.isEmpty() && scans.isEmpty() && writes.isEmpty();
    }

    /**
     * One function (or operator) run implicitly.
     *
     * @param function {@code schema.name}, or {@code operator schema.symbol}, as the classifier names calls
     * @param builtIn  PostgreSQL's own function with a side effect (such as {@code nextval} in a domain's CHECK):
     *                 judged by its effect rather than as unproven code
     * @param origin   what runs it, for the reason ({@code trigger audit on public.orders})
     */
    public record Call(String function, boolean builtIn, String origin) {}

    /**
     * @param make what runs when a value of the type is made: input and type-modifier input functions, a domain's
     *             CHECK constraints and default, casts that PostgreSQL applies on its own to reach the type
     * @param use  what runs when a value of the type is used: output, send and subscripting functions, the default
     *             btree and hash operator classes (ORDER BY, DISTINCT, GROUP BY, UNION, joins), implicit casts
     *             from it
     */
    public record TypeCode(List<Call> make, List<Call> use) {
        public static final TypeCode NONE = new TypeCode(List.of(), List.of());

        public TypeCode {
            make = List.copyOf(make);
            use = List.copyOf(use);
        }

        public boolean isEmpty() {
            return make.isEmpty() && use.isEmpty();
        }
    }

    /** @param events the write events it runs for ({@link #INSERT}, {@link #UPDATE}, …) */
    public record WriteCall(int events, Call call) {}
}
