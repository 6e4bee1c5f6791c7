package io.github.wsrouter;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.github.wsrouter.DirectedJsonRouter.RoomPolicy;
import java.util.regex.Pattern;

/**
 * {@link DirectedJsonRouter}'s chat rooms: joining and leaving by message, and room messages
 * stamped with the verified sender, on every node. Its own {@link ConnectionGroups}, mounted on a
 * channel of its own beside the users' ({@code <route>#rooms}), so a room called {@code bob} never
 * meets the user bob.
 *
 * <pre>
 * alice → {"join": "lobby"}                        alice ← {"joined": "lobby"}
 * alice → {"to_room": "lobby", "message": "hi"}    every member ← {"room": "lobby", "from": "alice", "message": "hi"}
 * alice → {"leave": "lobby"}                       alice ← {"left": "lobby"}
 * </pre>
 */
final class JsonRooms {

    static final String JOIN = "join";
    static final String LEAVE = "leave";
    static final String TO_ROOM = "to_room";
    static final String ROOM = "room";

    /** Sends an error object to the sender: (connection, code, detail, field, value, id). */
    interface Errors {
        void send(Connection connection, String code, String detail, String field, String value, JsonElement id);
    }

    private final Gson gson;
    private final RoomPolicy policy;
    private final Pattern names;
    private final int maxRooms;
    private final String messageField;
    private final String fromField;
    private final Acknowledgements acks;
    private final Errors errors;
    private final ConnectionGroups groups = ConnectionGroups.create();

    JsonRooms(
            Gson gson,
            RoomPolicy policy,
            Pattern names,
            int maxRooms,
            String messageField,
            String fromField,
            Acknowledgements acks,
            Errors errors) {
        this.gson = gson;
        this.policy = policy;
        this.names = names;
        this.maxRooms = maxRooms;
        this.messageField = messageField;
        this.fromField = fromField;
        this.acks = acks;
        this.errors = errors;
        groups.whenMissed(this::missed);
    }

    void mount(RouteContext route) {
        groups.mount(route, "rooms");
    }

    /** Whether the object is a room operation: it has {@code join}, {@code leave} or {@code to_room}. */
    static boolean isRoomOperation(JsonObject object) {
        return object.has(JOIN) || object.has(LEAVE) || object.has(TO_ROOM);
    }

    /** Why a connection of the user may not open in the room (its path names it), or null. */
    String refusal(String user, String room) {
        if (room == null || !names.matcher(room).matches()) {
            return "invalid room name: expected " + names.pattern();
        }
        return policy.allows(user, room, RoomPolicy.Action.JOIN) ? null : "user " + user + " may not join " + room;
    }

    /** Puts a connection that opens in its path's room. */
    void openIn(Connection connection, String room) {
        groups.add(room, connection);
    }

    /** The members of a room on this node. */
    java.util.Collection<Connection> members(String room) {
        return groups.members(room);
    }

    /** A join, a leave or a room message from a connection of the user. */
    void handle(Connection connection, String user, JsonObject object, JsonElement id, boolean ack) {
        String operation = object.has(JOIN) ? JOIN : object.has(LEAVE) ? LEAVE : TO_ROOM;
        JsonElement named = object.get(operation);
        if (named == null
                || !named.isJsonPrimitive()
                || !named.getAsJsonPrimitive().isString()) {
            errors.send(
                    connection,
                    "missing_field",
                    "field '" + operation + "' must be a room name",
                    "field",
                    operation,
                    id);
            return;
        }
        String room = named.getAsString();
        if (!names.matcher(room).matches()) {
            errors.send(connection, "invalid_room", "room names must match " + names.pattern(), ROOM, room, id);
            return;
        }
        switch (operation) {
            case JOIN -> join(connection, user, room, id);
            case LEAVE -> leave(connection, room, id);
            default -> post(connection, user, room, object, id, ack);
        }
    }

    private void join(Connection connection, String user, String room, JsonElement id) {
        if (!policy.allows(user, room, RoomPolicy.Action.JOIN)) {
            errors.send(connection, "forbidden", "you may not join this room", ROOM, room, id);
            return;
        }
        java.util.Set<String> in = groups.groupsOf(connection);
        if (!in.contains(room) && in.size() >= maxRooms) {
            errors.send(
                    connection, "too_many_rooms", "a connection is in at most " + maxRooms + " rooms", ROOM, room, id);
            return;
        }
        groups.add(room, connection);
        // answered once other servers' messages to the room reach this one (their relay confirmed
        // it), or after a bound when the relay cannot confirm now (its backend is away)
        String joined = answer("joined", room, id);
        groups.ready(room)
                .toCompletableFuture()
                .completeOnTimeout(null, JOIN_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)
                .whenComplete((ok, failure) -> connection.sendText(joined));
    }

    /** The longest a join waits for the relay to confirm the room before it is answered anyway. */
    static final long JOIN_WAIT_SECONDS = 2;

    private void leave(Connection connection, String room, JsonElement id) {
        if (!groups.members(room).contains(connection)) {
            errors.send(connection, "not_in_room", "you are not in this room", ROOM, room, id);
            return;
        }
        groups.remove(room, connection);
        connection.sendText(answer("left", room, id));
    }

    private void post(Connection connection, String user, String room, JsonObject object, JsonElement id, boolean ack) {
        if (!object.has(messageField)) {
            errors.send(
                    connection, "missing_field", "field '" + messageField + "' is required", "field", messageField, id);
            return;
        }
        if (!groups.members(room).contains(connection)) {
            errors.send(connection, "not_in_room", "join the room before posting to it", ROOM, room, id);
            return;
        }
        if (!policy.allows(user, room, RoomPolicy.Action.POST)) {
            errors.send(connection, "forbidden", "you may not post to this room", ROOM, room, id);
            return;
        }
        String key = acks.key(id, ack);
        if (!acks.firstTime(user, key)) {
            connection.sendText(acks.duplicate(id));
            return;
        }
        // a new object: nothing the client sent but the message (and its id) reaches the room
        JsonObject stamped = new JsonObject();
        stamped.addProperty(ROOM, room);
        stamped.addProperty(fromField, user);
        stamped.add(messageField, object.get(messageField));
        if (id != null) {
            stamped.add(DirectedJsonRouter.ID, id);
        }
        ConnectionGroups.Delivery delivery = groups.broadcastTo(room, gson.toJson(stamped));
        if (ack) {
            delivery.nodes()
                    .whenComplete((nodes, failure) -> connection.sendText(
                            acks.ack(id, delivery.local(), failure == null ? nodes : 0, 0, failure != null)));
        }
    }

    private String answer(String what, String room, JsonElement id) {
        JsonObject answer = new JsonObject();
        answer.addProperty(what, room);
        if (id != null) {
            answer.add(DirectedJsonRouter.ID, id);
        }
        return gson.toJson(answer);
    }

    /** Room messages from other nodes may be lost: {@code {"gap": {"room": ..., "reason": ...}}} to its members here. */
    private void missed(Connection connection, Relay.Topic topic, String reason) {
        if (topic.kind() != Relay.Topic.Kind.ROOM) {
            return; // nothing is published to the rooms channel's route topic
        }
        JsonObject gap = new JsonObject();
        gap.addProperty(ROOM, topic.key());
        gap.addProperty("reason", reason);
        JsonObject notice = new JsonObject();
        notice.add("gap", gap);
        connection.sendText(gson.toJson(notice));
    }
}
