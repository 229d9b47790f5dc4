package dev.warden.core.engine;

import dev.warden.core.config.DatabaseConfig;
import java.io.IOException;
import java.util.List;

/**
 * What an engine module provides. Found with {@link java.util.ServiceLoader}; adding an engine means adding a
 * module that implements this, and nothing in core changes.
 */
public interface Engine {
    /** The name used in configuration and policies, such as {@code postgres}. */
    String name();

    /** A classifier that uses the given catalog for functions, columns and names ({@link Catalog#NONE} offline). */
    Classifier classifier(Catalog catalog);

    /** A live catalog of one database over a Warden-owned connection. */
    Catalog catalog(DatabaseConfig database, java.util.Map<String, List<String>> tags);

    /** The wire-protocol front end for the databases served on one listen address. */
    FrontEnd frontEnd(FrontEndContext context);

    /** A session on the real database for front ends that are not the engine's own wire protocol. */
    UpstreamSession connect(DatabaseConfig database) throws IOException;

    /** Static checks of a configured database. */
    List<DoctorCheck> doctor(DatabaseConfig database);
}
