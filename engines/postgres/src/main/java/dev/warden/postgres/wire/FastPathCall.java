package dev.warden.postgres.wire;

import dev.warden.core.Classification;
import dev.warden.core.Flag;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import dev.warden.core.engine.Catalog;
import dev.warden.postgres.catalog.CatalogSnapshot;
import dev.warden.postgres.catalog.PostgresCatalog;
import dev.warden.postgres.classify.FunctionRules;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The legacy FunctionCall message carries no SQL, only a function OID and arguments. It is judged as a call of that
 * function, resolved through the live catalog: a read only when the function is PostgreSQL's own, not on the
 * side-effect list, and not volatile (or on the harmless-volatile list), exactly as the classifier judges a call in
 * SQL. Anything else, including an OID the catalog cannot resolve, is {@code unknown}.
 */
public final class FastPathCall {
    private FastPathCall() {}

    public static Classification classify(int oid, Catalog catalog) {
        Optional<CatalogSnapshot.Function> f = catalog instanceof PostgresCatalog live
                ? live.snapshot().flatMap(s -> s.function(Integer.toUnsignedLong(oid))) : Optional.empty();
        String name = f.map(fn -> fn.schema() + "." + fn.name()).orElse("oid:" + Integer.toUnsignedLong(oid));
        String text = "-- fast-path FunctionCall of function " + name + " (OID " + Integer.toUnsignedLong(oid) + ")";
        if (f.isPresent() && provenRead(f.get())) {
            return Classification.of(List.of(new Statement(Kind.READ, text, "FUNCTION CALL", List.of(), List.of(name),
                    Set.of(), List.of("a fast-path call of " + name + ", a built-in proven to be read-only"))));
        }
        String why = f.isEmpty()
                ? "a fast-path FunctionCall of OID " + Integer.toUnsignedLong(oid) + ", which the catalog cannot resolve: it cannot be proven a read"
                : "a fast-path call of " + name + ", which is not a built-in proven to be read-only";
        return Classification.of(List.of(new Statement(Kind.UNKNOWN, text, "FUNCTION CALL", List.of(), List.of(name),
                Set.of(Flag.SERVER_SIDE_CODE), List.of(why), List.of(name), Kind.READ)));
    }

    private static boolean provenRead(CatalogSnapshot.Function f) {
        return f.builtIn() && FunctionRules.sideEffect(f.name(), true).isEmpty()
                && (f.volatility() == 'i' || f.volatility() == 's' || FunctionRules.harmlessVolatile(f.name()));
    }
}
