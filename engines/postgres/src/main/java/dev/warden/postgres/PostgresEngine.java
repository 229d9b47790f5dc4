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
import dev.warden.postgres.catalog.NoSchema;
import dev.warden.postgres.catalog.PostgresCatalog;
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
        // Until the live catalog has loaded (or while it cannot be reached), names go to the offline table.
        return new PostgresCatalog(database, tags, NoSchema.INSTANCE, PostgresCatalog.Options.DEFAULTS);
    }

    @Override
    public FrontEnd frontEnd(FrontEndContext context) {
        throw new UnsupportedOperationException("the PostgreSQL wire front end has not landed yet");
    }

    @Override
    public UpstreamSession connect(DatabaseConfig database) throws IOException {
        throw new IOException("the PostgreSQL upstream session has not landed yet");
    }

    @Override
    public List<DoctorCheck> doctor(DatabaseConfig database) {
        return List.of();
    }
}
