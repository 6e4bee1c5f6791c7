package io.github.wsrouter.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.util.regex.Pattern;

/**
 * The JSON the routers read: strict (no lenient syntax), objects without duplicate member names,
 * nested at most {@value #MAX_NESTING} levels; and what is wrong with a text that is not, in words
 * of our own.
 */
public final class StrictJson {

    /** How deep a message may nest objects and arrays. */
    public static final int MAX_NESTING = 64;

    private StrictJson() {}

    /**
     * Parses strict JSON; returns {@code null} for valid JSON that is not an object. A duplicate
     * member name is refused: parsers disagree on which value wins, so it could address one
     * recipient to one reader and another to the next.
     */
    public static JsonObject parseObject(String text) throws IOException {
        JsonObject quick = new Quick(text).document();
        return quick != null ? quick : parseWithGson(text);
    }

    /** {@link #parseObject} by Gson's strict reader alone: what the quick path must agree with. */
    static JsonObject parseWithGson(String text) throws IOException {
        JsonReader reader = new JsonReader(new StringReader(text));
        reader.setStrictness(Strictness.STRICT);
        reader.setNestingLimit(MAX_NESTING);
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            JsonParser.parseReader(reader); // still reports malformed JSON as such
            return null;
        }
        JsonElement element = read(reader);
        if (reader.peek() != JsonToken.END_DOCUMENT) {
            throw new JsonParseException("unexpected data after the JSON value");
        }
        return element.getAsJsonObject();
    }

    private static JsonElement read(JsonReader reader) throws IOException {
        switch (reader.peek()) {
            case BEGIN_OBJECT -> {
                JsonObject object = new JsonObject();
                reader.beginObject();
                while (reader.hasNext()) {
                    String name = reader.nextName();
                    if (object.has(name)) {
                        throw new JsonParseException("duplicate member '" + name + "'");
                    }
                    object.add(name, read(reader));
                }
                reader.endObject();
                return object;
            }
            case BEGIN_ARRAY -> {
                JsonArray array = new JsonArray();
                reader.beginArray();
                while (reader.hasNext()) {
                    array.add(read(reader));
                }
                reader.endArray();
                return array;
            }
            default -> {
                return JsonParser.parseReader(reader);
            }
        }
    }

    /**
     * The common case without Gson's reader, which allocates about 2.5 KiB per message (a 1,024-char
     * buffer and its stacks) whatever the message's size: an object of strings without escapes,
     * {@code true}, {@code false}, {@code null}, arrays and nested objects, nested at most {@value
     * #MAX_NESTING} levels, with JSON's four whitespace characters. It builds the same tree as
     * Gson's strict reader. Anything else (a number, an escape, a control character, a lone
     * surrogate, a duplicate member, a syntax error, another value at the top) gives up with {@code
     * null}, and Gson's reader parses the text or says what is wrong with it, as before; such a
     * text is scanned twice, the quick path's part up to where it gave up.
     */
    private static final class Quick {
        private final String text;
        private int pos;
        private int depth;

        Quick(String text) {
            this.text = text;
        }

        /** The object, or null to leave the text to Gson. */
        JsonObject document() {
            skipWhitespace();
            if (pos >= text.length() || text.charAt(pos) != '{') {
                return null;
            }
            JsonObject object = object();
            if (object == null) {
                return null;
            }
            skipWhitespace();
            return pos == text.length() ? object : null;
        }

        /** Member after member until the closing brace; null to give up. */
        private JsonObject object() {
            JsonObject object = new JsonObject();
            for (int state = open('}'); state != CLOSED; state = next('}')) {
                if (state == GIVE_UP || peek() != '"') {
                    return null;
                }
                String name = string();
                if (name == null || object.has(name)) {
                    return null;
                }
                skipWhitespace();
                if (peek() != ':') {
                    return null;
                }
                pos++;
                JsonElement value = value();
                if (value == null) {
                    return null;
                }
                object.add(name, value);
            }
            return object;
        }

        /** Element after element until the closing bracket; null to give up. */
        private JsonArray array() {
            JsonArray array = new JsonArray();
            for (int state = open(']'); state != CLOSED; state = next(']')) {
                JsonElement value = state == GIVE_UP ? null : value();
                if (value == null) {
                    return null;
                }
                array.add(value);
            }
            return array;
        }

        private static final int MORE = 0;
        private static final int CLOSED = 1;
        private static final int GIVE_UP = 2;

        /** Past the opening character: {@code CLOSED} if empty, {@code MORE}, or {@code GIVE_UP} too deep. */
        private int open(char close) {
            if (++depth > MAX_NESTING) {
                return GIVE_UP;
            }
            pos++;
            skipWhitespace();
            return peek() == close ? closed() : MORE;
        }

        /** After a member or element: {@code MORE} past a comma, {@code CLOSED}, or {@code GIVE_UP}. */
        private int next(char close) {
            skipWhitespace();
            char next = peek();
            if (next == close) {
                return closed();
            }
            if (next != ',') {
                return GIVE_UP;
            }
            pos++;
            skipWhitespace();
            return MORE;
        }

        private int closed() {
            pos++;
            depth--;
            return CLOSED;
        }

        /** A value after optional whitespace, or null to give up. */
        private JsonElement value() {
            skipWhitespace();
            switch (peek()) {
                case '"' -> {
                    String string = string();
                    return string == null ? null : new JsonPrimitive(string);
                }
                case '{' -> {
                    return object();
                }
                case '[' -> {
                    return array();
                }
                case 't' -> {
                    return literal("true") ? new JsonPrimitive(true) : null;
                }
                case 'f' -> {
                    return literal("false") ? new JsonPrimitive(false) : null;
                }
                case 'n' -> {
                    return literal("null") ? JsonNull.INSTANCE : null;
                }
                default -> {
                    return null; // a number, or not JSON: Gson's reader decides
                }
            }
        }

        private boolean literal(String word) {
            if (!text.startsWith(word, pos)) {
                return false;
            }
            pos += word.length();
            return true;
        }

        /** A string without escapes or control characters, the quotes consumed; else null. */
        private String string() {
            int start = ++pos;
            for (int i = start; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '"') {
                    pos = i + 1;
                    return text.substring(start, i);
                }
                if (c == '\\' || c < 0x20) {
                    return null;
                }
                if (Character.isSurrogate(c)) { // Gson's strict reader refuses a lone one
                    if (!Character.isHighSurrogate(c)
                            || i + 1 >= text.length()
                            || !Character.isLowSurrogate(text.charAt(i + 1))) {
                        return null;
                    }
                    i++;
                }
            }
            return null; // not closed
        }

        private char peek() {
            return pos < text.length() ? text.charAt(pos) : 0;
        }

        private void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                    return;
                }
                pos++;
            }
        }
    }

    private static final Pattern POSITION = Pattern.compile("line (\\d+) column (\\d+)");

    /**
     * What is wrong with the JSON, in words for the client's developer, with the line and column
     * where the parser stopped: nothing of the parser library's own vocabulary (its class names,
     * its settings, its links) reaches the client.
     */
    public static String describe(Throwable e) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage())
                    .append('\n')
                    .append(t.getClass().getSimpleName())
                    .append('\n');
        }
        String text = all.toString();
        String what;
        if (text.contains("duplicate member")) {
            what = e.getMessage();
        } else if (text.contains("unexpected data after the JSON value")) {
            what = "unexpected text after the JSON value";
        } else if (text.contains("Nesting limit") || text.contains("nesting limit")) {
            what = "nested deeper than " + MAX_NESTING + " levels";
        } else if (text.contains("Unterminated string")) {
            what = "a string is not closed";
        } else if (text.contains("Unterminated object")
                || text.contains("Unterminated array")
                || text.contains("End of input")
                || text.contains("EOFException")) {
            what = "the text ends before the JSON value does";
        } else if (text.contains("Expected name")) {
            what = "expected a member name in double quotes";
        } else if (text.contains("Expected ':'")) {
            what = "expected ':' after a member name";
        } else if (text.contains("Expected value")) {
            what = "expected a value";
        } else {
            what =
                    "not strict JSON (unquoted names or text, single quotes, comments and trailing commas are not allowed)";
        }
        java.util.regex.Matcher position = POSITION.matcher(text);
        return position.find() ? what + " at line " + position.group(1) + ", column " + position.group(2) : what;
    }
}
