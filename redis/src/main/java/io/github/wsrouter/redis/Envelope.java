package io.github.wsrouter.redis;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import io.github.wsrouter.Relay.Topic;
import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.Locale;

/**
 * The message between nodes, version 1: a JSON object
 * <pre>
 * {"v": 1, "origin": "node id", "route": "/ws/{username}/", "kind": "user", "key": "bob", "text": "..."}
 * </pre>
 * with {@code "binary"} (Base64) instead of {@code "text"} for binary messages. JSON costs a few
 * dozen bytes and one escaping pass over the payload, which is mostly JSON text already; in
 * exchange any tool (and {@code redis-cli SUBSCRIBE}) can read it, and a later version can add
 * fields that this one ignores.
 */
record Envelope(String origin, String route, Topic topic, String text, ByteBuffer binary) {

    static final int VERSION = 1;

    static String encode(String origin, String route, Topic topic, String text, ByteBuffer binary) {
        JsonObject json = new JsonObject();
        json.addProperty("v", VERSION);
        json.addProperty("origin", origin);
        json.addProperty("route", route);
        json.addProperty("kind", topic.kind().name().toLowerCase(Locale.ROOT));
        json.addProperty("key", topic.key());
        if (text != null) {
            json.addProperty("text", text);
        } else {
            ByteBuffer bytes = binary.duplicate();
            byte[] copy = new byte[bytes.remaining()];
            bytes.get(copy);
            json.addProperty("binary", Base64.getEncoder().encodeToString(copy));
        }
        return json.toString();
    }

    /** The envelope, or {@code null} when this version cannot read it. */
    static Envelope decode(String json) {
        try {
            JsonObject object = ofThisVersion(json);
            if (object == null) {
                return null;
            }
            String origin = string(object, "origin");
            String route = string(object, "route");
            String kind = string(object, "kind");
            String key = string(object, "key");
            String text = string(object, "text");
            String binary = string(object, "binary");
            if (origin == null || route == null || kind == null || key == null || (text == null) == (binary == null)) {
                return null;
            }
            Topic topic = switch (kind) {
                case "route" -> Topic.route();
                case "room" -> Topic.room(key);
                case "user" -> Topic.user(key);
                default -> null;
            };
            if (topic == null) {
                return null;
            }
            ByteBuffer bytes =
                    binary == null ? null : ByteBuffer.wrap(Base64.getDecoder().decode(binary));
            return new Envelope(origin, route, topic, text, bytes);
        } catch (RuntimeException e) { // malformed JSON or Base64
            return null;
        }
    }

    /**
     * The envelope of an entry appended to a stream with history, without its closing brace: the
     * append script adds {@code ,"epoch":...,"offset":...}} once Redis numbered the entry, so
     * that the JSON (and the text's escaping) is made here, not in Redis.
     * <pre>
     * {"v": 1, "origin": "node id", "route": "/ws/{username}/", "stream": "user:bob", "text": "...", "epoch": "...", "offset": 42}
     * </pre>
     */
    static String encodeEntryHead(String origin, String route, String stream, String text) {
        JsonObject json = new JsonObject();
        json.addProperty("v", VERSION);
        json.addProperty("origin", origin);
        json.addProperty("route", route);
        json.addProperty("stream", stream);
        json.addProperty("text", text);
        String whole = json.toString();
        return whole.substring(0, whole.length() - 1);
    }

    /** An entry of a stream with history, as the append script publishes it. */
    record StreamEntry(String origin, String route, String stream, String epoch, long offset, String text) {}

    /** The entry, or {@code null} when the JSON is not an entry this version can read. */
    static StreamEntry decodeEntry(String json) {
        try {
            JsonObject object = ofThisVersion(json);
            JsonElement offset = object == null ? null : object.get("offset");
            if (!(offset instanceof JsonPrimitive p) || !p.isNumber()) {
                return null;
            }
            String origin = string(object, "origin");
            String route = string(object, "route");
            String stream = string(object, "stream");
            String epoch = string(object, "epoch");
            String text = string(object, "text");
            if (origin == null || route == null || stream == null || epoch == null || text == null) {
                return null;
            }
            return new StreamEntry(origin, route, stream, epoch, offset.getAsLong(), text);
        } catch (RuntimeException e) { // malformed JSON
            return null;
        }
    }

    /** The JSON object, if it is one and of this version ({@code "v"}); else {@code null}. Throws on malformed JSON. */
    private static JsonObject ofThisVersion(String json) {
        JsonElement parsed = JsonParser.parseString(json);
        if (!parsed.isJsonObject()) {
            return null;
        }
        JsonObject object = parsed.getAsJsonObject();
        JsonElement version = object.get("v");
        return version instanceof JsonPrimitive v && v.isNumber() && v.getAsInt() == VERSION ? object : null;
    }

    private static String string(JsonObject object, String name) {
        JsonElement element = object.get(name);
        return element instanceof JsonPrimitive p && p.isString() ? p.getAsString() : null;
    }
}
