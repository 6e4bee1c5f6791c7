package io.github.wsrouter.internal;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;
import java.util.Map;

/**
 * Writes a JSON tree the routers send, as {@link Gson#toJson(JsonElement)} would, without Gson's
 * writer for the common message.
 *
 * <p>Gson writes a tree through a {@code StringWriter} and a {@code JsonWriter} (its buffers and
 * stacks), one type adapter call per element. Here a tree of objects, arrays, strings, booleans
 * and nulls is written straight into a {@code StringBuilder}, escaped the way Gson escapes when
 * HTML escaping is off: the quotation mark and the backslash, the control characters (short
 * forms for tab, backspace, newline, carriage return and form feed, a six-character escape for
 * the others), and the line and paragraph separators (U+2028, U+2029). Anything else goes to
 * Gson: a number (Gson decides how each number type is written), a Gson that escapes HTML or
 * leaves out null members, a tree nested deeper than {@value #MAX_DEPTH}.
 * {@code JsonTextTest} holds the two to the same text.
 */
public final class JsonText {

    /** Deeper trees are Gson's to write: the quick path recurses. */
    static final int MAX_DEPTH = 256;

    private static final String[] REPLACEMENTS = new String[128];

    static {
        for (int c = 0; c < 0x20; c++) {
            REPLACEMENTS[c] = String.format("\\u%04x", c);
        }
        REPLACEMENTS['"'] = "\\\"";
        REPLACEMENTS['\\'] = "\\\\";
        REPLACEMENTS['\t'] = "\\t";
        REPLACEMENTS['\b'] = "\\b";
        REPLACEMENTS['\n'] = "\\n";
        REPLACEMENTS['\r'] = "\\r";
        REPLACEMENTS['\f'] = "\\f";
    }

    private JsonText() {}

    /** The text {@code gson.toJson(element)} gives. */
    public static String write(Gson gson, JsonElement element) {
        if (gson.htmlSafe() || !gson.serializeNulls()) {
            return gson.toJson(element);
        }
        StringBuilder out = new StringBuilder(128);
        return append(out, element, 0) ? out.toString() : gson.toJson(element);
    }

    /** Appends the element; {@code false} if it holds something left to Gson (the text is then not used). */
    private static boolean append(StringBuilder out, JsonElement element, int depth) {
        if (depth > MAX_DEPTH) {
            return false;
        }
        if (element.isJsonObject()) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, JsonElement> member :
                    element.getAsJsonObject().entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                string(out, member.getKey());
                out.append(':');
                if (!append(out, member.getValue(), depth + 1)) {
                    return false;
                }
            }
            out.append('}');
        } else if (element.isJsonArray()) {
            out.append('[');
            boolean first = true;
            for (JsonElement item : element.getAsJsonArray()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                if (!append(out, item, depth + 1)) {
                    return false;
                }
            }
            out.append(']');
        } else if (element.isJsonNull()) {
            out.append("null");
        } else {
            JsonPrimitive primitive = element.getAsJsonPrimitive();
            if (primitive.isString()) {
                string(out, primitive.getAsString());
            } else if (primitive.isBoolean()) {
                out.append(primitive.getAsBoolean());
            } else {
                return false; // a number
            }
        }
        return true;
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        int length = s.length();
        int last = 0;
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            String replacement;
            if (c < 128) {
                replacement = REPLACEMENTS[c];
                if (replacement == null) {
                    continue;
                }
            } else if (c == '\u2028') {
                replacement = "\\u2028";
            } else if (c == '\u2029') {
                replacement = "\\u2029";
            } else {
                continue;
            }
            out.append(s, last, i).append(replacement);
            last = i + 1;
        }
        out.append(s, last, length).append('"');
    }
}
