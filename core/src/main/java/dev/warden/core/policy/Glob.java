package dev.warden.core.policy;

import java.util.regex.Pattern;

/** A name pattern: {@code *} matches any run of characters (dots included), {@code ?} one character. */
public record Glob(String pattern, Pattern regex) {
    public static Glob of(String pattern) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return new Glob(pattern, Pattern.compile(re.toString(), Pattern.DOTALL));
    }

    public boolean matches(String name) {
        return regex.matcher(name).matches();
    }

    @Override
    public String toString() {
        return pattern;
    }
}
