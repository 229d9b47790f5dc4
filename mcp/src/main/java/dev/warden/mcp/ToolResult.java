package dev.warden.mcp;

import java.util.Map;

/**
 * What a tool answers: a text for the model, the same facts as structured content, and whether it is a tool error.
 */
record ToolResult(String text, Map<String, Object> structured, boolean error) {
    static ToolResult ok(String text, Map<String, Object> structured) {
        return new ToolResult(text, structured, false);
    }

    static ToolResult error(String text, Map<String, Object> structured) {
        return new ToolResult(text, structured, true);
    }

    static ToolResult error(String text) {
        return new ToolResult(text, Map.of("status", "error", "message", text), true);
    }
}
