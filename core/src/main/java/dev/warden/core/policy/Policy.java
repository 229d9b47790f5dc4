package dev.warden.core.policy;

import java.util.List;

/**
 * A loaded policy: its rules in file order, where it came from, and the SHA-256 (hex) of the file's exact bytes,
 * which every decision entry records.
 */
public record Policy(String source, String hash, List<Rule> rules) {
    public Policy {
        rules = List.copyOf(rules);
    }
}
