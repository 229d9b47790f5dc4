package dev.warden.postgres.wire;

import java.util.LinkedHashMap;
import java.util.Map;

/** ErrorResponse ('E') or NoticeResponse ('N'): typed fields, of which severity, code and message always come. */
public record Notice(char type, Map<Character, String> fields) {
    public static Notice error(String severity, String code, String message) {
        Map<Character, String> f = new LinkedHashMap<>();
        f.put('S', severity);
        f.put('V', severity);
        f.put('C', code);
        f.put('M', message);
        return new Notice('E', f);
    }

    public static Notice notice(String message) {
        Map<Character, String> f = new LinkedHashMap<>();
        f.put('S', "NOTICE");
        f.put('V', "NOTICE");
        f.put('C', "00000");
        f.put('M', message);
        return new Notice('N', f);
    }

    public static Notice read(Frame f) throws ProtocolException {
        PgReader r = f.reader();
        Map<Character, String> m = new LinkedHashMap<>();
        while (true) {
            int t = r.byte1();
            if (t == 0) break;
            m.put((char) t, r.cstring());
        }
        return new Notice((char) f.type(), m);
    }

    public String code() {
        return fields.getOrDefault('C', "");
    }

    public String message() {
        return fields.getOrDefault('M', "");
    }

    public String severity() {
        return fields.getOrDefault('V', fields.getOrDefault('S', ""));
    }

    public PgWriter write(PgWriter w) {
        w.begin(type);
        fields.forEach((k, v) -> w.byte1(k).cstring(v));
        return w.byte1(0).end();
    }

    public byte[] bytes() {
        return write(new PgWriter()).toByteArray();
    }
}
