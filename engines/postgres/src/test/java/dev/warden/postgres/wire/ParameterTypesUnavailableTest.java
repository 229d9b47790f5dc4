package dev.warden.postgres.wire;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Kind;
import dev.warden.core.Statement;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.HostPort;
import dev.warden.core.config.Secret;
import dev.warden.core.config.UpstreamConfig;
import dev.warden.postgres.catalog.BuiltinCatalog;
import dev.warden.postgres.catalog.PostgresCatalog;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * While the live catalog cannot be read it knows no user types, and a Parse that declared {@code $1} as a user domain
 * (an OID past PostgreSQL's own) was judged by its text alone: {@code SELECT $1::text} stayed a read, and at Bind the
 * server ran the domain's CHECK. A type Warden cannot see is not proven to run nothing.
 */
class ParameterTypesUnavailableTest {
    static final Classification READ = Classification.of(List.of(new Statement(Kind.READ, "SELECT $1::text", "SELECT",
            List.of(), List.of(), Set.of(), List.of())));

    static PostgresCatalog unreachable() {
        var cfg = new DatabaseConfig("gone", "postgres", new HostPort("127.0.0.1", 0),
                new UpstreamConfig("127.0.0.1", 1, "gone", "app", new Secret("")), Duration.ofSeconds(30));
        return new PostgresCatalog(cfg, Map.of(), BuiltinCatalog.INSTANCE, new PostgresCatalog.Options(Duration.ofHours(1),
                Duration.ofHours(1), Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofHours(1)));
    }

    @Test
    void aUserTypeDeclaredWhileTheCatalogIsUnavailableIsNotARead() {
        try (PostgresCatalog catalog = unreachable()) {
            assertThat(catalog.refresh()).isFalse();
            Classification c = ParameterTypes.judge(READ, new int[] {16_500}, catalog);
            assertThat(c.statements().getFirst().kind()).isEqualTo(Kind.UNKNOWN);
            assertThat(c.statements().getFirst().reasons().getFirst()).contains("16500");
        }
    }

    @Test
    void postgresOwnTypesStayReadsWhileTheCatalogIsUnavailable() {
        try (PostgresCatalog catalog = unreachable()) {
            assertThat(ParameterTypes.judge(READ, new int[] {25, 0, 1043}, catalog).statements().getFirst().kind())
                    .isEqualTo(Kind.READ);
        }
    }
}
