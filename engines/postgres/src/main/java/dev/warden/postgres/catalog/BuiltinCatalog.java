package dev.warden.postgres.catalog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The offline {@link SchemaInfo}: PostgreSQL's built-in functions (with volatility, SECURITY DEFINER and language),
 * the relations of {@code pg_catalog} and {@code information_schema} with their columns, and the built-in operators,
 * read from the tables that {@code scripts/gen-pg-builtins.sh} generates from real servers' catalogs. It knows
 * nothing about user objects: an unqualified relation resolves to the first real schema of the search path, a user
 * function is not known (and so not proven pure).
 */
public final class BuiltinCatalog implements SchemaInfo {
    public static final BuiltinCatalog INSTANCE = new BuiltinCatalog();
    private static final String BASE = "/dev/warden/postgres/catalog/";

    private record Fn(FunctionInfo info, int nargs, int ndefaults, boolean variadic) {}

    private final Map<String, List<Fn>> functions = new HashMap<>();
    private final Map<String, List<String>> relations = new HashMap<>();
    private final Set<String> operators = new HashSet<>();
    private final Set<String> types = new HashSet<>();

    private BuiltinCatalog() {
        for (String[] f : read("pg-functions.tsv")) {
            // schema name nargs ndefaults variadic volatility secdef language prokind extension versions
            FunctionInfo info = new FunctionInfo(f[0], f[1], f[5].charAt(0), f[6].equals("1"), f[7], f[9].equals("0"));
            functions.computeIfAbsent(f[0] + "." + f[1], k -> new ArrayList<>())
                    .add(new Fn(info, Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[4].equals("1")));
        }
        for (String[] r : read("pg-relations.tsv")) {
            relations.put(r[0] + "." + r[1], r.length > 3 && !r[3].isEmpty() ? List.of(r[3].split(",")) : List.of());
        }
        for (String[] t : read("pg-types.tsv")) types.add(t[0]);
        for (String[] o : read("pg-operators.tsv")) {
            if (!o[1].equals("v")) operators.add(o[0]);
        }
    }

    @Override
    public Optional<String> relation(List<String> searchPath, String schema, String name) {
        if (schema != null) return Optional.of(schema + "." + name);
        for (String s : effectivePath(searchPath)) {
            if (s.equals("pg_catalog") || s.equals("information_schema")) {
                if (relations.containsKey(s + "." + name)) return Optional.of(s + "." + name);
                continue;
            }
            return Optional.of(s + "." + name);
        }
        return Optional.empty();
    }

    /** True for a relation of {@code pg_catalog} or {@code information_schema}, named {@code schema.name}. */
    public boolean builtInRelation(String qualifiedName) {
        return relations.containsKey(qualifiedName);
    }

    @Override
    public Optional<List<String>> columns(String qualifiedRelation) {
        List<String> cols = relations.get(qualifiedRelation);
        return cols == null || cols.isEmpty() ? Optional.empty() : Optional.of(cols);
    }

    @Override
    public List<FunctionInfo> functions(List<String> searchPath, String schema, String name, int argCount) {
        if (schema != null) return match(functions.get(schema + "." + name), argCount);
        for (String s : effectivePath(searchPath)) {
            List<Fn> fns = functions.get(s + "." + name);
            if (fns != null) return match(fns, argCount);
        }
        return List.of();
    }

    @Override
    public boolean live() {
        return false;
    }

    @Override
    public boolean builtInOperator(List<String> searchPath, String schema, String symbol) {
        return (schema == null || schema.equals("pg_catalog")) && operators.contains(symbol);
    }

    /** True for a type of {@code pg_catalog}: {@code name(x)} with no function of that name is a cast to it. */
    public boolean builtInType(String name) {
        return types.contains(name);
    }

    /** The search path as PostgreSQL searches it: {@code pg_catalog} first unless listed, no {@code $user}/temp. */
    public static List<String> effectivePath(List<String> searchPath) {
        List<String> path = new ArrayList<>(searchPath.size() + 1);
        if (!searchPath.contains("pg_catalog")) path.add("pg_catalog");
        for (String s : searchPath) {
            if (s.equals("$user") || s.equals("pg_temp") || s.startsWith("pg_temp_") || s.isEmpty()) continue;
            path.add(s);
        }
        return path;
    }

    private static List<FunctionInfo> match(List<Fn> fns, int argCount) {
        if (fns == null) return List.of();
        List<FunctionInfo> out = new ArrayList<>();
        for (Fn f : fns) {
            boolean fits = (argCount <= f.nargs() && argCount >= f.nargs() - f.ndefaults())
                    || (f.variadic() && argCount >= f.nargs() - 1);
            if (fits) out.add(f.info());
        }
        // A call that fits no overload fails in PostgreSQL; judge it by every overload rather than by none.
        if (out.isEmpty()) for (Fn f : fns) out.add(f.info());
        return out;
    }

    private static List<String[]> read(String file) {
        List<String[]> rows = new ArrayList<>();
        try (InputStream in = BuiltinCatalog.class.getResourceAsStream(BASE + file)) {
            if (in == null) throw new IllegalStateException("missing resource " + BASE + file);
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.isEmpty() || line.startsWith("# ")) continue; // operators such as # start with #, comments with "# "
                rows.add(line.split("\t", -1));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return rows;
    }
}
