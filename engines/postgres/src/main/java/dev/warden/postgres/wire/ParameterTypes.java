package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import dev.warden.core.engine.Catalog;
import dev.warden.postgres.catalog.ImplicitCode;
import dev.warden.postgres.catalog.ImplicitCode.Call;
import dev.warden.postgres.catalog.PostgresCatalog;
import dev.warden.postgres.catalog.SchemaInfo;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The parameter types a client declares in a Parse message. At Bind the server makes each value of its declared
 * type, whatever the text does with it: the type's input (or receive) function runs and, for a domain, its CHECK
 * constraints. When that is user code, {@code SELECT $1} is no longer the read its text says, so the statement gets
 * those functions as unproven, named as the classifier names them.
 */
final class ParameterTypes {
    private ParameterTypes() {}

    /** Whether judging the types may have to wait for the catalog to load. */
    static boolean mayWait(int[] types, Catalog catalog) {
        return declared(types) && catalog instanceof PostgresCatalog live && !live.fresh();
    }

    static Classification judge(Classification c, int[] types, Catalog catalog) {
        return judge(c, types, catalog, null);
    }

    /**
     * @param schemaDoubt why the session's catalog cannot be trusted now ({@link
     *                    dev.warden.core.engine.ClassifyContext#schemaDoubt()}): its types may have changed unseen
     */
    static Classification judge(Classification c, int[] types, Catalog catalog, String schemaDoubt) {
        if (!declared(types)) return c;
        SchemaInfo view = catalog instanceof PostgresCatalog live ? live.pin() : null;
        if (view != null && schemaDoubt != null) view = SchemaInfo.doubted(schemaDoubt, dev.warden.postgres.catalog.RelationReach.NONE);
        if (view == null || view.unavailable().isPresent()) {
            // No snapshot, no user types known: a type that is not PostgreSQL's own may be a domain with a CHECK.
            for (int t : types) {
                if (Integer.toUnsignedLong(t) >= FIRST_NORMAL_OID) {
                    String why = view == null ? "no live catalog" : view.unavailable().get();
                    return unreadable(c, "a parameter is declared of type OID " + Integer.toUnsignedString(t)
                            + ", which is not PostgreSQL's own, and Warden cannot read what making a value of it runs ("
                            + why + ")");
                }
            }
            return c;
        }
        ImplicitCode code = view.implicitCode();
        if (code.typesByOid().isEmpty()) return c;
        Set<Call> calls = new LinkedHashSet<>();
        for (int t : types) {
            ImplicitCode.TypeCode tc = code.typesByOid().get(Integer.toUnsignedLong(t));
            if (tc == null) continue;
            calls.addAll(tc.make());
            calls.addAll(tc.use());
        }
        if (calls.isEmpty()) return c;
        List<Statement> out = new ArrayList<>(c.statements().size());
        for (Statement s : c.statements()) out.add(withCalls(s, calls));
        return Classification.of(out);
    }

    /** PostgreSQL's FirstNormalObjectId: OIDs below it are initdb's own objects, at and past it anyone's. */
    private static final long FIRST_NORMAL_OID = 16384;

    private static Classification unreadable(Classification c, String reason) {
        List<Statement> out = new ArrayList<>(c.statements().size());
        for (Statement s : c.statements()) {
            List<String> reasons = new ArrayList<>();
            reasons.add(reason);
            reasons.addAll(s.reasons());
            out.add(new Statement(Kind.UNKNOWN, s.text(), s.command(), s.objects(), s.functions(), s.flags(), reasons));
        }
        return Classification.of(out);
    }

    private static boolean declared(int[] types) {
        if (types == null) return false;
        for (int t : types) if (t != 0) return true;
        return false;
    }

    private static Statement withCalls(Statement s, Set<Call> calls) {
        Set<String> functions = new LinkedHashSet<>(s.functions());
        Set<String> unproven = new LinkedHashSet<>(s.unproven());
        List<String> reasons = new ArrayList<>();
        for (Call c : calls) {
            functions.add(c.function());
            if (unproven.add(c.function())) {
                reasons.add("a parameter's declared type runs " + c.function() + " (" + c.origin()
                        + ") when the value is bound: user code that is not proven to be read-only");
            }
        }
        reasons.addAll(s.reasons());
        // Unknown for lack of proof keeps the kind it would have; unknown for what it is stays so.
        Kind ifProven = s.kind() == Kind.UNKNOWN ? s.kindIfProven() : s.kind();
        return new Statement(Kind.UNKNOWN, s.text(), s.command(), s.objects(), List.copyOf(functions), s.flags(),
                reasons, List.copyOf(unproven), ifProven);
    }
}
