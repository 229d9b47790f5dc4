package dev.warden.postgres;

import dev.warden.core.Classification;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.engine.Catalog;
import dev.warden.core.engine.Classifier;
import dev.warden.core.engine.DoctorCheck;
import dev.warden.core.engine.Engine;
import dev.warden.core.engine.FrontEnd;
import dev.warden.core.engine.FrontEndContext;
import dev.warden.core.engine.UpstreamSession;
import dev.warden.postgres.wire.PgFrontEnd;
import dev.warden.postgres.wire.PgUpstreamSession;
import dev.warden.postgres.wire.TlsMaterial;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** PostgreSQL: classification with PostgreSQL's own grammar, the v3 wire front end, the live catalog. */
public final class PostgresEngine implements Engine {
    @Override
    public String name() {
        return "postgres";
    }

    @Override
    public Classifier classifier(Catalog catalog) {
        // Replaced by the libpg_query classifier (issue 4). Until then nothing can be positively labelled.
        return (text, ctx) -> Classification.unknown(text, "the PostgreSQL classifier is not available yet");
    }

    @Override
    public Catalog catalog(DatabaseConfig database, Map<String, List<String>> tags) {
        return Catalog.NONE;
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
        return List.of();
    }
}
