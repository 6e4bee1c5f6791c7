package io.github.wsrouter;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * {@link DirectedJsonRouter}'s streams with history: a user's own stream and the everyone stream,
 * in the router's JSON. Opening a connection (it becomes a recipient under its streams' locks,
 * learns where they stand, and gets the replay it asks for), delivering a message with its offset,
 * and a connection's close.
 */
final class JsonStreams {

    static final String OFFSET = DirectedJsonRouter.OFFSET;
    private static final String USER = "user";
    private static final String EVERYONE = "everyone";
    private static final ConnectionGroups.Delivery NOBODY =
            new ConnectionGroups.Delivery(0, CompletableFuture.completedFuture(0));

    /** How a message went: its delivery, and its offset in its stream (0 if it was not kept). */
    record Delivered(ConnectionGroups.Delivery delivery, long offset) {}

    private final StreamHistory history;
    private final Gson gson;
    private final boolean withEveryone;

    JsonStreams(int maxMessages, Duration maxAge, boolean withEveryone, Gson gson) {
        this.history = new StreamHistory(maxMessages, maxAge);
        this.withEveryone = withEveryone;
        this.gson = gson;
    }

    /**
     * Makes the connection a recipient with {@code register}, under the locks of its streams and
     * after the messages it missed: no message of those streams is delivered meanwhile, so it
     * sees each once and in order. Sends {@code {"streams": ...}} (each stream's epoch and last
     * offset), then what its {@code resume} query parameter asks for.
     */
    void open(Connection connection, String user, Runnable register) {
        StreamHistory.Stream own = history.stream(userStream(user));
        StreamHistory.Stream all = withEveryone ? history.stream(EVERYONE) : null;
        synchronized (all != null ? all : own) {
            synchronized (own) {
                register.run();
                own.used(1);
                JsonObject streams = new JsonObject();
                streams.add(USER, position(own));
                if (all != null) {
                    streams.add(EVERYONE, position(all));
                }
                JsonObject info = new JsonObject();
                info.add("streams", streams);
                connection.sendText(gson.toJson(info));
                resume(connection, own, all);
            }
        }
    }

    /**
     * Keeps the message in its stream with its offset (the last field) and delivers it with
     * {@code fanout}, under the stream's lock. A message to a user whose stream is unknown (never
     * connected, or gone longer than the age bound) is neither kept nor delivered.
     */
    Delivered deliver(
            boolean toEveryone,
            String recipient,
            JsonObject object,
            Function<String, ConnectionGroups.Delivery> fanout) {
        object.remove(OFFSET);
        StreamHistory.Stream stream = history.existing(toEveryone ? EVERYONE : userStream(recipient));
        if (stream == null) {
            return new Delivered(NOBODY, 0);
        }
        synchronized (stream) {
            if (!toEveryone && !stream.known()) {
                return new Delivered(NOBODY, 0);
            }
            String text = stream.append(n -> {
                object.addProperty(OFFSET, n);
                return gson.toJson(object);
            });
            return new Delivered(fanout.apply(text), stream.head());
        }
    }

    /** A connection of the user that {@link #open} registered closed. */
    void closed(String user) {
        StreamHistory.Stream own = history.existing(userStream(user));
        if (own != null) {
            synchronized (own) {
                own.used(-1);
            }
        }
        history.sweep();
    }

    private static String userStream(String user) {
        return "user:" + user;
    }

    private JsonObject position(StreamHistory.Stream stream) {
        JsonObject position = new JsonObject();
        position.addProperty("epoch", history.epoch());
        position.addProperty("offset", stream.head());
        return position;
    }

    /**
     * Replays what the connection missed of each stream its {@code resume} query parameter names
     * ({@code user:<epoch>:<offset>}, {@code everyone:<epoch>:<offset>}, comma-separated), each
     * followed by {@code {"recovered": true, "stream": ...}}, or {@code {"recovered": false,
     * "stream": ..., "reason": ..., "position": ...}} where history does not reach back. Hold the
     * streams' locks.
     */
    private void resume(Connection connection, StreamHistory.Stream own, StreamHistory.Stream all) {
        String resume = connection.queryParameter("resume");
        if (resume == null || resume.isEmpty()) {
            return;
        }
        for (String part : resume.split(",")) {
            String[] fields = part.split(":", -1);
            String name = fields[0];
            StreamHistory.Stream stream = name.equals(USER) ? own : name.equals(EVERYONE) ? all : null;
            long offset;
            try {
                offset = fields.length == 3 ? Long.parseLong(fields[2]) : -1;
            } catch (NumberFormatException e) {
                offset = -1;
            }
            JsonObject result = new JsonObject();
            result.addProperty("recovered", false);
            result.addProperty("stream", name);
            if (stream == null || offset < 0) {
                result.addProperty("reason", "invalid_resume");
                connection.sendText(gson.toJson(result));
                continue;
            }
            StreamHistory.Replay replay = stream.since(fields[1], offset);
            for (StreamHistory.Entry entry : replay.entries()) {
                connection.sendText(entry.text());
            }
            result.addProperty("recovered", replay.recovered());
            if (!replay.recovered()) {
                result.addProperty("reason", replay.failure());
                result.add("position", position(stream));
            }
            connection.sendText(gson.toJson(result));
        }
    }
}
