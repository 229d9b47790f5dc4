package dev.warden.core.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.warden.core.Access;
import dev.warden.core.Action;
import dev.warden.core.ApprovalSpec;
import dev.warden.core.Classification;
import dev.warden.core.Decision;
import dev.warden.core.Flag;
import dev.warden.core.Kind;
import dev.warden.core.ObjectAccess;
import dev.warden.core.Operation;
import dev.warden.core.Outcome;
import dev.warden.core.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The direct writer gives exactly the bytes of the generic path (through maps), which the verifier re-creates. */
class EntryWriterTest {

    private static void same(Entry e, boolean redactAll) {
        Redactor r = new Redactor(redactAll);
        FileLedger.Prepared generic = FileLedger.Prepared.of(e.type(), EntryBody.of(e, r));
        EntryWriter w = new EntryWriter(r);
        for (int i = 0; i < 2; i++) { // the second time from the statements cache
            FileLedger.Prepared direct = w.prepare(e);
            assertEquals(new String(generic.bytes(), java.nio.charset.StandardCharsets.UTF_8),
                    new String(direct.bytes(), java.nio.charset.StandardCharsets.UTF_8));
            assertArrayEquals(generic.bytes(), direct.bytes());
            assertEquals(generic.cut1(), direct.cut1());
            assertEquals(generic.cut2(), direct.cut2());
            byte[] time = "2026-01-01T00:00:00.000001Z".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            assertArrayEquals(generic.line(12345, time), direct.line(12345, time));
        }
    }

    private static List<Entry> entries() {
        List<Entry> out = new ArrayList<>();
        out.add(Entries.read(7));
        out.add(Entries.decision("a", "DELETE FROM t WHERE name = 'x'", Action.DENY, "public.t"));
        Statement s1 = new Statement(Kind.WRITE, "UPDATE \"ü\" SET x = 'pässwörd\n\t\"q\"' -- secret", "UPDATE",
                List.of(new ObjectAccess("public.ü", Access.WRITE, List.of("x")), new ObjectAccess("public.b", Access.READ, List.of())),
                List.of("pg_catalog.lower"), Set.of("no_where", Flag.PRIVILEGE), List.of("why \u0001 not"),
                List.of("public.f"), Kind.READ);
        Statement s2 = Statement.unknown("SELECT password FROM users", "cannot classify");
        Classification c = new Classification(List.of(s1, s2), Set.of("pii", "secret", "finance"), 1234, "catalog; notes");
        List<String> params = Arrays.asList("1", null, "o'brien \"x\"", "\\x00ff");
        Operation op = new Operation("agent-ü", "db", "postgres", "UPDATE \"ü\" SET x = 'pässwörd' WHERE password = 'hunter2'",
                params, "the reason: \"because\"\n", "sess-9", "[::1]:5432", null);
        out.add(new Entry.DecisionEntry(op, c, new Decision(Action.APPROVE, "risky", List.of("a", "b"),
                ApprovalSpec.DEFAULT), null, "req-1"));
        Operation noParams = new Operation("x", "db", "postgres", "SELECT 1", List.of(), null, null, null, null);
        out.add(new Entry.DecisionEntry(noParams, Classification.of(List.of(s2)), Decision.deny(null, "default deny"), "p", null));
        out.add(new Entry.OutcomeEntry(3, Outcome.ok(1, 120)));
        out.add(new Entry.OutcomeEntry(4, new Outcome("error", -1, "ERROR: \"x\" does not exist\n", 9)));
        out.add(new Entry.OutcomeEntry(5, new Outcome(null, 0, null, 0)));
        return out;
    }

    @Test
    void decisionAndOutcomeBytesMatchTheGenericPath() {
        for (Entry e : entries()) {
            same(e, false);
            same(e, true);
        }
    }

    @Test
    void otherEntriesGoTheGenericWay() {
        assertNull(new EntryWriter(new Redactor(false)).prepare(new Entry.PolicyEntry("p.yaml", "h", 2)));
    }
}
