package dev.warden.postgres;

import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Classifier;
import dev.warden.core.engine.DoctorCheck;
import dev.warden.core.engine.Engine;
import dev.warden.core.engine.FrontEnd;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.engine.UpstreamSession;
import dev.warden.postgres.catalog.BuiltinCatalog;
import dev.warden.postgres.catalog.PostgresCatalog;
import dev.warden.postgres.catalog.SchemaInfo;
import dev.warden.postgres.classify.NativePgQuery;
import dev.warden.postgres.classify.PostgresClassifier;
import dev.warden.postgres.classify.SqlParser;
import dev.warden.postgres.classify.WasmPgQuery;
import dev.warden.postgres.wire.PgFrontEnd;
import dev.warden.postgres.wire.PgUpstreamSession;
import dev.warden.postgres.wire.TlsMaterial;
import java.io.IOException;
import java.util.function.Supplier;
import java.util.List;
import java.util.Map;

/** PostgreSQL: classification with PostgreSQL's own grammar, the v3 wire front end, the live catalog. */
public final class PostgresEngine implements Engine {
    /**
     * The second grammar carrier, asked only when the native grammar reports a syntax error: the WebAssembly build of
     * libpg_query with the PostgreSQL 18 grammar, one pool per process, loaded on first use. Null: the native grammar
     * alone.
     */
    private static volatile Supplier<? extends SqlParser> secondParser = WasmPgQuery::shared;

    /** Installs the second grammar carrier for classifiers created from now on. */
    public static void secondParser(Supplier<? extends SqlParser> second) {
        secondParser = second;
    }

    @Override
    public String name() {
        return "postgres";
    }

    @Override
    public Classifier classifier(Catalog catalog) {
        // A live catalog that knows names and functions decides; otherwise the offline table of built-ins.
        SchemaInfo schema = catalog instanceof SchemaInfo live ? live : BuiltinCatalog.INSTANCE;
        return PostgresClassifier.create(schema, secondParser);
    }

    @Override
    public Catalog catalog(DatabaseConfig database, Map<String, List<String>> tags) {
        // Until the live catalog has loaded (or while it cannot be reached), names go to the offline table.
        return new PostgresCatalog(database, tags, BuiltinCatalog.INSTANCE, PostgresCatalog.Options.DEFAULTS);
    }

    @Override
    public FrontEnd frontEnd(FrontEndContext context) {
        try {
            javax.net.ssl.SSLContext ssl = context.databases().isEmpty() ? null
                    : TlsMaterial.context(context.databases().getFirst().listener().tls(), context.config().dataDir());
            return new PgFrontEnd(context, ssl, line -> System.err.println(line));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public UpstreamSession connect(DatabaseConfig database) throws IOException {
        return PgUpstreamSession.open(database);
    }

    @Override
    public List<DoctorCheck> doctor(DatabaseConfig database) {
        return List.of(new DoctorCheck() {
            @Override
            public String name() {
                return "PostgreSQL grammar (libpg_query) is installed";
            }

            @Override
            public Result run() {
                return NativePgQuery.loadError()
                        .map(e -> new Result(Status.FAIL, e + "; until then every PostgreSQL statement is classified unknown and denied"))
                        .orElseGet(() -> new Result(Status.OK, "libpg_query " + "(PostgreSQL 15 grammar) loaded"));
            }
        });
    }
}
