package dev.warden.postgres.wire;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Client messages of the simple and extended query protocols and of the fast path. */
public sealed interface QueryMessage {
    /** 'Q' */
    record Query(String sql) implements QueryMessage {
        public static Query read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            String s = r.cstring();
            r.expectEnd();
            return new Query(s);
        }

        public void write(PgWriter w) {
            w.begin('Q').cstring(sql).end();
        }
    }

    /** 'P' */
    record Parse(String name, String sql, int[] parameterTypes) implements QueryMessage {
        public static Parse read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            String name = r.cstring();
            String sql = r.cstring();
            int n = r.count(4);
            int[] types = new int[n];
            for (int i = 0; i < n; i++) types[i] = r.int32();
            r.expectEnd();
            return new Parse(name, sql, types);
        }

        public void write(PgWriter w) {
            w.begin('P').cstring(name).cstring(sql).int16(parameterTypes.length);
            for (int t : parameterTypes) w.int32(t);
            w.end();
        }
    }

    /** 'B'. Values are {@code null} for SQL NULL. */
    record Bind(String portal, String statement, int[] formats, byte[][] values, int[] resultFormats) implements QueryMessage {
        public static Bind read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            String portal = r.cstring();
            String stmt = r.cstring();
            int[] formats = readFormats(r);
            byte[][] values = readValues(r, formats, "Bind");
            int nr = r.count(2);
            int[] rf = new int[nr];
            for (int i = 0; i < nr; i++) rf[i] = r.int16();
            r.expectEnd();
            return new Bind(portal, stmt, formats, values, rf);
        }

        public void write(PgWriter w) {
            w.begin('B').cstring(portal).cstring(statement).int16(formats.length);
            for (int x : formats) w.int16(x);
            w.int16(values.length);
            for (byte[] v : values) {
                if (v == null) w.int32(-1);
                else w.int32(v.length).bytes(v);
            }
            w.int16(resultFormats.length);
            for (int x : resultFormats) w.int16(x);
            w.end();
        }

        /**
         * The values as the gate sees them: text as is; binary values of the fixed-size scalar types the Parse declared
         * (integers, booleans, floats) as their text; any other binary value as {@code \x} and hex.
         */
        public List<String> rendered(int[] types) {
            return QueryMessage.rendered(formats, values, types);
        }
    }

    /** 'D': kind 'S' statement or 'P' portal. */
    record Describe(char kind, String name) implements QueryMessage {
        public static Describe read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            char k = (char) r.byte1();
            String n = r.cstring();
            r.expectEnd();
            if (k != 'S' && k != 'P') throw new ProtocolException("invalid Describe kind " + k);
            return new Describe(k, n);
        }
    }

    /** 'C': kind 'S' statement or 'P' portal. */
    record Close(char kind, String name) implements QueryMessage {
        public static Close read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            char k = (char) r.byte1();
            String n = r.cstring();
            r.expectEnd();
            if (k != 'S' && k != 'P') throw new ProtocolException("invalid Close kind " + k);
            return new Close(k, n);
        }

        public void write(PgWriter w) {
            w.begin('C').byte1(kind).cstring(name).end();
        }
    }

    /** 'E' */
    record Execute(String portal, int maxRows) implements QueryMessage {
        public static Execute read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            String p = r.cstring();
            int max = r.int32();
            r.expectEnd();
            return new Execute(p, max);
        }

        public void write(PgWriter w) {
            w.begin('E').cstring(portal).int32(maxRows).end();
        }
    }

    /** 'F': the legacy fast path; it names a function by OID and carries its arguments, no SQL. */
    record FunctionCall(int functionOid, int[] formats, byte[][] arguments, int resultFormat) implements QueryMessage {
        public static FunctionCall read(Frame f) throws ProtocolException {
            PgReader r = f.reader();
            int oid = r.int32();
            int[] formats = readFormats(r);
            byte[][] arguments = readValues(r, formats, "FunctionCall");
            int result = r.int16();
            r.expectEnd();
            return new FunctionCall(oid, formats, arguments, result);
        }

        /** The arguments as the ledger records them: text as is, binary as {@code \x} and hex. */
        public List<String> rendered() {
            return QueryMessage.rendered(formats, arguments, null);
        }
    }

    private static int[] readFormats(PgReader r) throws ProtocolException {
        int nf = r.count(2);
        int[] formats = new int[nf];
        for (int i = 0; i < nf; i++) formats[i] = r.int16();
        return formats;
    }

    /** Values of a Bind or FunctionCall: a count, then each as a length (-1 for NULL) and its bytes. */
    private static byte[][] readValues(PgReader r, int[] formats, String message) throws ProtocolException {
        int nv = r.count(4);
        byte[][] values = new byte[nv][];
        for (int i = 0; i < nv; i++) {
            int len = r.int32();
            if (len < -1) throw new ProtocolException("invalid parameter length " + len);
            values[i] = len == -1 ? null : r.bytes(len);
        }
        if (formats.length > 1 && formats.length != nv) {
            throw new ProtocolException(message + " has " + formats.length + " parameter formats for " + nv + " values");
        }
        return values;
    }

    /**
     * Values as the gate sees them: text as is; binary values of the fixed-size scalar types declared (integers,
     * booleans, floats) as their text; any other binary value as {@code \x} and hex.
     */
    private static List<String> rendered(int[] formats, byte[][] values, int[] types) {
        List<String> out = new ArrayList<>(values.length);
        for (int i = 0; i < values.length; i++) {
            byte[] v = values[i];
            int format = formats.length == 0 ? 0 : formats.length == 1 ? formats[0] : formats[i];
            if (v == null) out.add(null);
            else if (format == 0) out.add(new String(v, StandardCharsets.UTF_8));
            else out.add(binary(v, types != null && i < types.length ? types[i] : 0));
        }
        return out;
    }

    private static String binary(byte[] v, int type) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(v);
        return switch (type) {
            case 16 -> v.length == 1 ? (v[0] != 0 ? "true" : "false") : hex(v);
            case 21 -> v.length == 2 ? Short.toString(b.getShort()) : hex(v);
            case 23, 26 -> v.length == 4 ? (type == 26 ? Integer.toUnsignedString(b.getInt()) : Integer.toString(b.getInt())) : hex(v);
            case 20 -> v.length == 8 ? Long.toString(b.getLong()) : hex(v);
            case 700 -> v.length == 4 ? Float.toString(b.getFloat()) : hex(v);
            case 701 -> v.length == 8 ? Double.toString(b.getDouble()) : hex(v);
            default -> hex(v);
        };
    }

    private static String hex(byte[] v) {
        return "\\x" + HexFormat.of().formatHex(v);
    }

    static void sync(PgWriter w) {
        w.begin('S').end();
    }

    static void flush(PgWriter w) {
        w.begin('H').end();
    }
}
