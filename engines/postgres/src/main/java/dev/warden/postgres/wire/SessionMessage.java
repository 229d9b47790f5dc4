package dev.warden.postgres.wire;

/** Server messages of session setup and turn-taking. */
public sealed interface SessionMessage {
    record ParameterStatus(String name, String value) implements SessionMessage {
        public static ParameterStatus read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            return new ParameterStatus(r.cstring(), r.cstring());
        }

        public void write(PgWriter w) {
            w.begin('S').cstring(name).cstring(value).end();
        }
    }

    record BackendKeyData(int processId, int secretKey) implements SessionMessage {
        public static BackendKeyData read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            return new BackendKeyData(r.int32(), r.int32());
        }

        public void write(PgWriter w) {
            w.begin('K').int32(processId).int32(secretKey).end();
        }
    }

    /** Status: 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block. */
    record ReadyForQuery(char status) implements SessionMessage {
        public static ReadyForQuery read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            char s = (char) r.byte1();
            r.expectEnd();
            return new ReadyForQuery(s);
        }

        public void write(PgWriter w) {
            w.begin('Z').byte1(status).end();
        }
    }

    record CommandComplete(String tag) implements SessionMessage {
        public static CommandComplete read(Frame f) throws ProtocolException {
            return new CommandComplete(f.reader().cstring());
        }

        /** Rows returned or affected: the last number of the tag (INSERT 0 5, UPDATE 3, SELECT 7), or -1. */
        public static long rows(String tag) {
            int sp = tag.lastIndexOf(' ');
            if (sp < 0) return -1;
            try {
                return Long.parseLong(tag.substring(sp + 1));
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        public void write(PgWriter w) {
            w.begin('C').cstring(tag).end();
        }
    }
}
