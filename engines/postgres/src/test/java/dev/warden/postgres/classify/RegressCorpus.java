package dev.warden.postgres.classify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * PostgreSQL's own regression-test statements ({@code shared/corpus/postgres-regress/statements.tsv}, beside the
 * repository), read in place. See that folder's README for the columns and the escaping.
 */
final class RegressCorpus {

    /** Files that test features no released PostgreSQL has (the corpus is from the development branch). */
    static final Set<String> UNRELEASED_FEATURE_FILES = Set.of(
            "for_portion_of.sql", "graph_table.sql", "graph_table_rls.sql", "create_property_graph.sql",
            "partition_split.sql", "partition_merge.sql");

    static final String RELATIVE = "shared/corpus/postgres-regress/statements.tsv";

    record Statement(String file, int n, String valid, String sql) {
        boolean releasedFeature() {
            return !UNRELEASED_FEATURE_FILES.contains(file);
        }
    }

    private RegressCorpus() {}

    /**
     * The corpus file: {@code -Dwarden.corpus=…} if given, else {@value #RELATIVE} in the nearest directory above
     * the working directory that has it (the repository's parent, both in a worktree and in CI's clone).
     */
    static Path locate() {
        String override = System.getProperty("warden.corpus");
        if (override != null && !override.isBlank()) {
            return Path.of(override);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve(RELATIVE);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("the regression corpus (" + RELATIVE + ") is not in any directory above "
                + Path.of("").toAbsolutePath() + "; point -Dwarden.corpus at statements.tsv");
    }

    static List<Statement> read(Path tsv) throws IOException {
        List<Statement> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(tsv, StandardCharsets.UTF_8);
        for (int i = 1; i < lines.size(); i++) { // line 0 is the header
            String line = lines.get(i);
            if (line.isEmpty()) {
                continue;
            }
            String[] f = line.split("\t", 4);
            if (f.length != 4) {
                throw new IllegalStateException(tsv + ":" + (i + 1) + ": expected 4 tab-separated columns");
            }
            out.add(new Statement(f[0], Integer.parseInt(f[1]), f[2], unescape(f[3])));
        }
        return out;
    }

    /** Backslash → {@code \\}, newline → {@code \n}, tab → {@code \t}, CR → {@code \r}, undone. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char next = s.charAt(++i);
                b.append(switch (next) {
                    case 'n' -> '\n';
                    case 't' -> '\t';
                    case 'r' -> '\r';
                    case '\\' -> '\\';
                    default -> throw new IllegalArgumentException("unknown escape \\" + next);
                });
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
