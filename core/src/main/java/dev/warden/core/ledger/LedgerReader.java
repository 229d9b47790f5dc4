package dev.warden.core.ledger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads entries from the segment files without any lock: the writer only appends whole lines, so a reader sees a
 * prefix of the log (an incomplete last line is skipped). Reading never holds up the writer.
 */
public final class LedgerReader {
    private final LedgerDir dir;

    public LedgerReader(Path dataDir) {
        this.dir = LedgerDir.of(dataDir);
    }

    public LedgerDir dir() {
        return dir;
    }

    /** One recorded line: its bytes (without the newline) and where it was. */
    public record Line(Path segment, int lineNo, byte[] bytes) {
        public Map<String, Object> parse() throws IOException {
            return EntryLines.parse(bytes);
        }

        public String text() {
            return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    public interface Visitor {
        /** Return false to stop. */
        boolean line(Line line) throws IOException;
    }

    /** Visits every complete line from the segment that holds {@code fromSeq} on. */
    public void forEach(long fromSeq, Visitor v) throws IOException {
        List<Path> segments = dir.segments();
        int first = 0;
        for (int i = 0; i < segments.size(); i++) {
            if (LedgerDir.firstSeq(segments.get(i)) <= fromSeq) first = i;
        }
        for (int i = first; i < segments.size(); i++) {
            if (!visitSegment(segments.get(i), v)) return;
        }
    }

    static boolean visitSegment(Path segment, Visitor v) throws IOException {
        byte[] data = Files.readAllBytes(segment);
        int start = 0;
        int lineNo = 1;
        for (int i = 0; i < data.length; i++) {
            if (data[i] != '\n') continue;
            if (!v.line(new Line(segment, lineNo++, Arrays.copyOfRange(data, start, i)))) return false;
            start = i + 1;
        }
        return true;
    }

    /** The entry with this seq, as recorded. */
    public Optional<Line> get(long seq) throws IOException {
        Line[] found = new Line[1];
        forEach(seq, line -> {
            Map<String, Object> m;
            try {
                m = line.parse();
            } catch (IOException e) {
                return true;
            }
            if (m.get("seq") instanceof Long s && s == seq) {
                found[0] = line;
                return false;
            }
            return !(m.get("seq") instanceof Long s && s > seq);
        });
        return Optional.ofNullable(found[0]);
    }
}
