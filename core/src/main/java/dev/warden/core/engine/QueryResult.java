package dev.warden.core.engine;

import java.util.List;

/**
 * The result of running a text through an {@link UpstreamSession}: the last statement's columns and rows (values
 * as text, {@code null} for NULL), its command tag, and whether rows were left out because of a cap.
 */
public record QueryResult(List<String> columns, List<List<String>> rows, String commandTag, long rowCount,
                          boolean truncated) {
}
