package dev.warden.postgres.classify;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.Classification;
import dev.warden.core.Statement;
import dev.warden.core.engine.Classifier;
import dev.warden.core.engine.ClassifyContext;
import dev.warden.postgres.LiveShop;
import dev.warden.postgres.PostgresEngine;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RedTeamParseTest {
    static LiveShop shop;

    @BeforeAll
    static void start() throws Exception {
        shop = LiveShop.start("""
                CREATE TABLE public.secret (id int);
                INSERT INTO public.secret VALUES (1), (2);
                CREATE TABLE public."secre!0074" (id int);
                INSERT INTO public."secre!0074" VALUES (1), (2);
                """);
        shop.openCatalog(Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (shop != null) shop.close();
    }

    static long count(String table) throws SQLException {
        return shop.longValue("SELECT count(*) FROM " + table);
    }

    static Classification c(String sql) {
        return shop.classify(sql);
    }

    static void show(String sql) {
        Classification cl = c(sql);
        StringBuilder sb = new StringBuilder("PROBE ").append(sql.replace("\n", "\\n")).append("\n");
        for (Statement s : cl.statements()) sb.append("   -> ").append(s.kind()).append(' ').append(s.command())
                .append(' ').append(s.objects()).append(' ').append(s.flags()).append(' ').append(s.reasons()).append('\n');
        System.out.print(sb);
    }

    /**
     * Shape cache: the UESCAPE character of a U&"..." identifier is a string constant, so ShapeKey blanks it, and
     * the tree (a RangeVar) is literal-free. A text whose escape makes the identifier "secret" shares the key of one
     * whose escape leaves it "secre!0074", and gets that text's cached objects.
     */
    @Test
    void uescapeOfIdentifierIsBlankedByTheShapeCache() throws Exception {
        Classifier fresh = new PostgresEngine().classifier(shop.catalog());
        String harmless = "DELETE FROM U&\"secre!0074\" UESCAPE '#' WHERE id = 1";
        String hidden = "DELETE FROM U&\"secre!0074\" UESCAPE '!' WHERE id = 1";
        // Alone (no cache entry), Warden reads the hidden text right: a write on public.secret.
        assertThat(new PostgresEngine().classifier(shop.catalog()).classify(hidden, ClassifyContext.defaults())
                .statements().getFirst().objects().toString()).contains("public.secret,");
        // After the harmless text, the same classifier answers from the shape cache.
        fresh.classify(harmless, ClassifyContext.defaults());
        Statement s = fresh.classify(hidden, ClassifyContext.defaults()).statements().getFirst();
        // The server: the hidden text deletes from public.secret.
        long before = count("public.secret");
        shop.app(hidden);
        assertThat(count("public.secret")).isEqualTo(before - 1);
        assertThat(s.objects().toString()).as(s.objects().toString()).contains("name=public.secret,");
    }

    /**
     * ALTER DATABASE … SET standard_conforming_strings = off is judged plain DDL (README: such settings are
     * unknown), and the front end never looks at the server's standard_conforming_strings of a new session: every
     * later session of that database reads backslashes in '' strings as escapes, Warden does not.
     */
    @Test
    void databaseDefaultStandardConformingStringsOff() throws Exception {
        shop.admin("CREATE DATABASE shop2 OWNER app");
        try (Connection c = shop.connect("app", "shop2"); var st = c.createStatement()) {
            st.execute("CREATE TABLE public.secret (id int); INSERT INTO public.secret VALUES (1), (2)");
        }
        String alter = "ALTER DATABASE shop2 SET standard_conforming_strings = off";
        Statement a = c(alter).statements().getFirst();
        try (Connection c = shop.connect("app", "shop2"); var st = c.createStatement()) {
            st.execute(alter);
        }
        String text = "SELECT '\\' AS a, ' ; DELETE FROM public.secret; --'";
        Classification w = c(text);
        System.out.println("PROBE warden reads " + text + " as " + w.statements().size() + " statement(s): "
                + w.statements().getFirst().kind() + " " + w.statements().getFirst().objects());
        try (Connection c = shop.connect("app", "shop2"); var st = c.createStatement()) {
            st.execute(text);
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM public.secret")) {
                rs.next();
                assertThat(rs.getLong(1)).as("the server ran the DELETE").isZero();
            }
        }
        assertThat(w.statements()).hasSize(1);
        assertThat(a.kind()).as(alter + " is judged " + a.kind()).isEqualTo(dev.warden.core.Kind.UNKNOWN);
    }
}
