package io.github.wsrouter;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.time.Duration;

/**
 * {@link DirectedJsonRouter}'s message ids and acknowledgements: which ids are valid, which
 * messages are acknowledged, the acknowledgement's JSON, and the ids of acknowledged messages seen
 * recently (so that a message sent again is acknowledged, not delivered twice).
 */
final class Acknowledgements {

    static final String ID = DirectedJsonRouter.ID;
    static final String ACK = DirectedJsonRouter.ACK;
    private static final BigDecimal MAX_SAFE_INTEGER = BigDecimal.valueOf((1L << 53) - 1);

    private final boolean always;
    /** Ids seen recently per user; null when repeated ids are not looked for. */
    private final RecentIds recent;

    private final Gson gson;

    Acknowledgements(boolean always, int idsPerUser, Duration window, Gson gson) {
        this.always = always;
        this.recent = idsPerUser == 0 ? null : new RecentIds(idsPerUser, window);
        this.gson = gson;
    }

    /** A string of 1 to {@link DirectedJsonRouter#MAX_ID_LENGTH} characters, or an integer JavaScript can hold. */
    static boolean validId(JsonElement id) {
        if (!id.isJsonPrimitive()) {
            return false;
        }
        JsonPrimitive value = id.getAsJsonPrimitive();
        if (value.isString()) {
            int length = value.getAsString().length();
            return length >= 1 && length <= DirectedJsonRouter.MAX_ID_LENGTH;
        }
        if (value.isNumber()) {
            BigDecimal number = value.getAsBigDecimal();
            return number.stripTrailingZeros().scale() <= 0 && number.abs().compareTo(MAX_SAFE_INTEGER) <= 0;
        }
        return false;
    }

    /** Whether a message with this id and this {@code "ack"} field (checked to be a boolean) is acknowledged. */
    boolean wanted(JsonElement id, JsonElement askAck) {
        return id != null && (always || (askAck != null && askAck.getAsBoolean()));
    }

    /** The key under which an acknowledged message's id is remembered; null if none is. */
    String key(JsonElement id, boolean acknowledged) {
        return acknowledged && recent != null ? id.toString() : null;
    }

    /** Remembers the id; {@code false} if the user sent it within the window already. */
    boolean firstTime(String user, String key) {
        return key == null || recent.firstTime(user, key);
    }

    /** Forgets the id of a message that reached nobody, so that sending it again tries again. */
    void forget(String user, String key) {
        if (key != null) {
            recent.forget(user, key);
        }
    }

    /** {@code {"ack": id, "duplicate": true}}. */
    String duplicate(JsonElement id) {
        JsonObject again = new JsonObject();
        again.add(ACK, id);
        again.addProperty("duplicate", true);
        return gson.toJson(again);
    }

    /**
     * {@code {"ack": id, "delivered": n, "nodes": m, "offset": k}}: {@code nodes} only where known
     * (null leaves it out), {@code offset} only where kept (0 leaves it out), and {@code
     * "relay_failed": true} if it did.
     */
    String ack(JsonElement id, int delivered, Integer nodes, long offset, boolean relayFailed) {
        JsonObject answer = new JsonObject();
        answer.add(ACK, id);
        answer.addProperty("delivered", delivered);
        if (nodes != null) {
            answer.addProperty("nodes", nodes);
        }
        if (offset > 0) {
            answer.addProperty(DirectedJsonRouter.OFFSET, offset);
        }
        if (relayFailed) {
            answer.addProperty("relay_failed", true);
        }
        return gson.toJson(answer);
    }
}
