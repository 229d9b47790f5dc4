package dev.warden.core.policy;

import java.util.regex.Pattern;

/** A name pattern: {@code *} matches any run of characters (dots included), {@code ?} one character. */
public record Glob(String pattern, Pattern regex) {
    public static Glob of(String pattern) {
        StringBuilder re = new StringBuilder();
        // By code point: a character outside the BMP (an emoji in a name) is one character, not two halves.
        pattern.codePoints().forEach(c -> {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(Character.toString(c)));
            }
        });
        return new Glob(pattern, Pattern.compile(re.toString(), Pattern.DOTALL));
    }

    public boolean matches(String name) {
        return regex.matcher(name).matches();
    }

    /** Whether this column glob matches some column {@code table.c} of the table (for a column list of {@code *}). */
    public boolean mayMatchColumnOf(String table) {
        var m = regex.matcher(table + ".");
        return m.matches() || m.hitEnd();
    }

    @Override
    public String toString() {
        return pattern;
    }
}
