package dev.warden.core.approval;

/**
 * The agent's stated reason, from a leading SQL comment {@code /* reason: ... *}{@code /}. Every front end uses this
 * one rule. The result is untrusted text: shown to approvers, never used in a decision.
 */
public final class StatedReason {
    /** Longer reasons are cut, so a page of text cannot push the statement off an approver's screen. */
    public static final int MAX_LENGTH = 500;

    private StatedReason() {}

    /** The reason from a comment at the very start of the text (after whitespace), or the empty string. */
    public static String parse(String text) {
        if (text == null) return "";
        int i = 0;
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) i++;
        if (!text.startsWith("/*", i)) return "";
        int end = text.indexOf("*/", i + 2);
        if (end < 0) return "";
        String body = text.substring(i + 2, end).strip();
        if (!body.regionMatches(true, 0, "reason:", 0, 7)) return "";
        return clean(body.substring(7));
    }

    /** Strips control characters and cuts to {@link #MAX_LENGTH}: the same cleaning for MCP's {@code reason} argument. */
    public static String clean(String reason) {
        if (reason == null) return "";
        StringBuilder b = new StringBuilder();
        reason.strip().codePoints().forEach(cp -> {
            if (Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT) {
                b.append(' ');
            } else {
                b.appendCodePoint(cp);
            }
        });
        String s = b.toString().replaceAll(" {2,}", " ").strip();
        return s.length() > MAX_LENGTH ? s.substring(0, MAX_LENGTH) + "…" : s;
    }
}
