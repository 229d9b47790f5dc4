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

        /**
         * Why, once the server reports this, it reads the client's text differently from Warden's parser (which reads
         * it as UTF-8, with standard conforming strings), or {@code null}. Code Warden cannot see into (approved by a
         * person) may change either setting; the server reports both whenever they change.
         */
        public String readsDifferently() {
            boolean differs = switch (name.toLowerCase(java.util.Locale.ROOT)) {
                case "standard_conforming_strings" -> !value.equalsIgnoreCase("on");
                // The two Warden's classifier lets SET choose (SQL_ASCII passes bytes as they are).
                case "client_encoding" -> !value.equalsIgnoreCase("UTF8") && !value.equalsIgnoreCase("SQL_ASCII");
                default -> false;
            };
            return differs ? name + " = " + value : null;
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

        /**
         * Rows returned or affected: the last number of the tag ({@code INSERT 0 5}, {@code UPDATE 3}), or -1
         * ({@code BEGIN}). Read from the message's bytes {@code [from, to)} up to the tag's terminating zero, without
         * making a string: this runs for every statement.
         */
        public static long rows(byte[] b, int from, int to) {
            int end = from;
            while (end < to && b[end] != 0) end++;
            int start = end;
            while (start > from && b[start - 1] >= '0' && b[start - 1] <= '9') start--;
            if (start == end || start == from || b[start - 1] != ' ' || end - start > 18) return -1;
            long n = 0;
            for (int i = start; i < end; i++) n = n * 10 + (b[i] - '0');
            return n;
        }

        public void write(PgWriter w) {
            w.begin('C').cstring(tag).end();
        }
    }
}
