package io.github.wsrouter.internal;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
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
