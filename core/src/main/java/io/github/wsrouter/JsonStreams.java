package io.github.wsrouter;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link DirectedJsonRouter}'s streams with history, over the relay's {@link Relay.History}: each
 * user's own stream ({@code user:<name>}) and the everyone stream. A message is appended to its
 * stream and reaches its recipients through the history's receiver, on every node, in offset
 * order, with {@code "offset"} as its last field.
 *
 * <p>Each connection has a cursor per stream: the offset of the last entry it was sent. While a
 * connection opens (and replays what it missed), entries for it wait in its cursor; then the replay
 * is sent, then what waited, skipping what the replay already had. So a connection sees each entry
 * once and in order whether it came from the replay or live, on one node or several.
 */
final class JsonStreams implements Relay.History.Receiver {

    private static final String USER = "user";
    private static final String EVERYONE = "everyone";
    private static final String USER_PREFIX = "user:";

    private final Gson gson;
    private final ConnectionGroups users;
    private final boolean withEveryone;
    private final Map<Connection, Reader> readers = new ConcurrentHashMap<>();
    private volatile Relay.History history;

    JsonStreams(Gson gson, ConnectionGroups users, boolean withEveryone) {
        this.gson = gson;
        this.users = users;
        this.withEveryone = withEveryone;
    }

    /** Takes the route's history from its relay (the first mount's). */
    void mount(RouteContext route, int maxMessages, java.time.Duration maxAge) {
        if (history != null) {
            return;
        }
        Relay.History h = route.relay().history(route.route(), maxMessages, maxAge, this);
        if (h == null) {
            throw new IllegalArgumentException("DirectedJsonRouter with history(...) cannot be mounted on "
                    + route.route() + ": its relay (" + route.relay() + ") keeps no history, so a user who "
                    + "reconnects to another server would find none. Use a relay that keeps history "
                    + "(Relay.local() on one server, wsrouter-redis across servers), or no history");
        }
        history = h;
    }

    /**
     * Opens the connection's streams: {@code register} makes it a recipient at once, and entries
     * for it wait in its cursors until it was told where each stream stands ({@code {"streams":
     * ...}}) and was sent what its {@code resume} query parameter asks for.
     */
    void open(Connection connection, String user, Runnable register) {
        Relay.History h = history;
        Reader reader = new Reader(connection, user);
        readers.put(connection, reader);
        register.run();
        CompletionStage<Relay.History.Position> own = h.open(USER_PREFIX + user);
        CompletionStage<Relay.History.Position> all =
                withEveryone ? h.open(EVERYONE) : CompletableFuture.completedFuture(null);
        own.thenCombine(all, (ownPosition, allPosition) -> {
                    JsonObject streams = new JsonObject();
                    streams.add(USER, position(ownPosition));
                    if (allPosition != null) {
                        streams.add(EVERYONE, position(allPosition));
                    }
                    JsonObject info = new JsonObject();
                    info.add("streams", streams);
                    synchronized (reader) {
                        if (!reader.user.restarted) {
                            reader.user.last = ownPosition.offset();
                        }
                        if (allPosition != null && !reader.everyone.restarted) {
                            reader.everyone.last = allPosition.offset();
                        }
                        connection.sendText(gson.toJson(info));
                    }
                    return null;
                })
                .thenCompose(nothing -> resume(reader))
                .whenComplete((nothing, failure) -> {
                    if (failure != null) {
                        connection.close(CloseStatus.INTERNAL_ERROR.withReason("history unavailable"));
                    }
                    reader.live();
                });
    }

    /**
     * Appends the message (an object with its recipient and sender) to its stream.
     *
     * @return its offset, or 0 when the recipient's stream is unknown (never read, or not for
     *     longer than the age bound); failed when the history cannot be reached
     */
    CompletionStage<Long> deliver(boolean toEveryone, String recipient, JsonObject object) {
        object.remove(DirectedJsonRouter.OFFSET);
        return history.append(toEveryone ? EVERYONE : USER_PREFIX + recipient, gson.toJson(object), !toEveryone);
    }

    /** The connection that {@link #open} opened closed. */
    void closed(Connection connection) {
        Reader reader = readers.remove(connection);
        if (reader != null) {
            history.close(USER_PREFIX + reader.user.userName);
            if (withEveryone) {
                history.close(EVERYONE);
            }
        }
    }

    /** An entry of a stream this node reads: to the stream's connections here. */
    @Override
    public void onEntry(String stream, long offset, String text) {
        String rendered = withOffset(text, offset);
        forEachReader(stream, (reader, cursor) -> reader.offer(cursor, offset, rendered));
    }

    /** Each reader of the stream on this node, with its cursor in it. */
    private void forEachReader(String stream, java.util.function.BiConsumer<Reader, Cursor> action) {
        boolean toEveryone = stream.equals(EVERYONE);
        Iterable<Connection> recipients =
                toEveryone ? users.members() : users.members(stream.substring(USER_PREFIX.length()));
        for (Connection connection : recipients) {
            Reader reader = readers.get(connection);
            if (reader != null) {
                action.accept(reader, toEveryone ? reader.everyone : reader.user);
            }
        }
    }

    /**
     * Entries of a stream were lost to this node: its readers here are told {@code {"gap":
     * {"stream": ..., "reason": ..., "position": ...}}} and go on from the position.
     */
    @Override
    public void onGap(String stream, String reason, Relay.History.Position position) {
        boolean toEveryone = stream.equals(EVERYONE);
        JsonObject gap = new JsonObject();
        gap.addProperty("stream", toEveryone ? EVERYONE : USER);
        gap.addProperty("reason", reason);
        gap.add("position", position(position));
        JsonObject notice = new JsonObject();
        notice.add("gap", gap);
        String text = gson.toJson(notice);
        forEachReader(stream, (reader, cursor) -> reader.gap(cursor, position.offset(), text));
    }

    /** The text (a JSON object) with {@code "offset"} as its last field. */
    private static String withOffset(String text, long offset) {
        return new StringBuilder(text.length() + 32)
                .append(text, 0, text.length() - 1)
                .append(",\"offset\":")
                .append(offset)
                .append('}')
                .toString();
    }

    private JsonObject position(Relay.History.Position position) {
        JsonObject json = new JsonObject();
        json.addProperty("epoch", position.epoch());
        json.addProperty("offset", position.offset());
        return json;
    }

    /**
     * Replays what the connection missed of each stream its {@code resume} query parameter names
     * ({@code user:<epoch>:<offset>}, {@code everyone:<epoch>:<offset>}, comma-separated), each
     * followed by {@code {"recovered": true, "stream": ...}}, or {@code {"recovered": false,
     * "stream": ..., "reason": ..., "position": ...}} where history does not reach back.
     */
    private CompletionStage<Void> resume(Reader reader) {
        String resume = reader.connection.queryParameter("resume");
        CompletionStage<Void> done = CompletableFuture.completedFuture(null);
        if (resume == null || resume.isEmpty()) {
            return done;
        }
        for (String part : resume.split(",")) {
            String[] fields = part.split(":", -1);
            String name = fields[0];
            Cursor cursor =
                    name.equals(USER) ? reader.user : name.equals(EVERYONE) && withEveryone ? reader.everyone : null;
            long offset;
            try {
                offset = fields.length == 3 ? Long.parseLong(fields[2]) : -1;
            } catch (NumberFormatException e) {
                offset = -1;
            }
            if (cursor == null || offset < 0) {
                JsonObject result = new JsonObject();
                result.addProperty("recovered", false);
                result.addProperty("stream", name);
                result.addProperty("reason", "invalid_resume");
                done = done.thenRun(() -> reader.connection.sendText(gson.toJson(result)));
                continue;
            }
            String stream = cursor == reader.user ? USER_PREFIX + reader.user.userName : EVERYONE;
            long from = offset;
            done = done.thenCompose(nothing -> history.since(stream, fields[1], from))
                    .thenAccept(replay -> reader.replayed(cursor, name, from, replay));
        }
        return done;
    }

    /** A connection's cursors. */
    private final class Reader {
        final Connection connection;
        final Cursor user;
        final Cursor everyone;

        Reader(Connection connection, String userName) {
            this.connection = connection;
            this.user = new Cursor(userName);
            this.everyone = new Cursor(null);
        }

        /** An entry for the connection: sent if it is live and new to it, kept if it opens still. */
        synchronized void offer(Cursor cursor, long offset, String text) {
            if (cursor.waiting != null) {
                cursor.waiting.add(new Relay.History.Entry(offset, text));
            } else if (offset > cursor.last) {
                cursor.last = offset;
                connection.sendText(text);
            }
        }

        /** A gap in a stream: the notice goes out in order, and the stream goes on from the offset (of a new epoch, maybe). */
        synchronized void gap(Cursor cursor, long offset, String notice) {
            if (cursor.waiting != null) {
                cursor.waiting.clear(); // of the epoch before: what follows is counted from the offset
            }
            cursor.last = offset;
            cursor.restarted = true;
            connection.sendText(notice);
        }

        /** What the connection missed of a stream, then whether it was all. */
        synchronized void replayed(Cursor cursor, String name, long from, Relay.History.Replay replay) {
            JsonObject result = new JsonObject();
            result.addProperty("recovered", replay.failure() == null);
            result.addProperty("stream", name);
            if (replay.failure() == null) {
                cursor.last = from; // the client has everything up to its offset: the rest is replayed
                for (Relay.History.Entry entry : replay.entries()) {
                    if (entry.offset() > cursor.last) {
                        cursor.last = entry.offset();
                        connection.sendText(withOffset(entry.text(), entry.offset()));
                    }
                }
            } else {
                result.addProperty("reason", replay.failure());
                result.add("position", position(replay.position()));
            }
            connection.sendText(gson.toJson(result));
        }

        /** The opening is over: what waited is sent (what is new to the connection), then entries go out as they come. */
        synchronized void live() {
            for (Cursor cursor : new Cursor[] {user, everyone}) {
                ArrayDeque<Relay.History.Entry> waited = cursor.waiting;
                cursor.waiting = null;
                for (Relay.History.Entry entry : waited) {
                    if (entry.offset() > cursor.last) {
                        cursor.last = entry.offset();
                        connection.sendText(entry.text());
                    }
                }
            }
        }
    }

    /** Where a connection stands in one stream. Guarded by its reader. */
    private static final class Cursor {
        final String userName;
        long last;
        /** A gap set {@link #last}: the position the stream was opened at is of the time before. */
        boolean restarted;

        ArrayDeque<Relay.History.Entry> waiting = new ArrayDeque<>();

        Cursor(String userName) {
            this.userName = userName;
        }
    }
}
