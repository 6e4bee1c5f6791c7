package io.github.wsrouter;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.github.wsrouter.DirectedJsonRouter.RoomPolicy;
import io.github.wsrouter.internal.JsonText;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;
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
 *
 * <p>Room presence: a user is a member of a room while one of their connections anywhere is in it.
 * This node says which users it holds in which room to the route's one {@link Relay.Presence}
 * (group {@code room:<room>}; a {@link io.github.wsrouter.internal.LocalPresence} on one node),
 * answers a join with the room's members (or their count) and tells the room's members here of
 * the changes in windows of {@link DirectedJsonRouter#PRESENCE_WINDOW_MILLIS}.
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
    private final Predicate<String> countsOnly;

    /** The presence groups of rooms: {@code room:<room>}. */
    static final String GROUP_PREFIX = "room:";

    /** The route's presence, shared with the users' ({@link #usePresence}); null until mounted. */
    private volatile Relay.Presence presence;
    /** Guards the maps below, and orders the bookkeeping with the notices. */
    private final Object lock = new Object();
    /** Room → user → this node's connections of the user in the room. */
    private final Map<String, Map<String, Integer>> held = new HashMap<>();
    /** Connection → the rooms it is counted in. */
    private final Map<Connection, Set<String>> counted = new HashMap<>();
    /** Room → the members this node's connections in it were told of last (or answered with). */
    private final Map<String, Set<String>> told = new HashMap<>();
    /** Rooms with changes not told yet. */
    private final Set<String> dirty = new HashSet<>();

    private boolean scheduled;

    JsonRooms(
            Gson gson,
            RoomPolicy policy,
            Pattern names,
            int maxRooms,
            String messageField,
            String fromField,
            Acknowledgements acks,
            Errors errors,
            Predicate<String> countsOnly) {
        this.gson = gson;
        this.policy = policy;
        this.names = names;
        this.maxRooms = maxRooms;
        this.messageField = messageField;
        this.fromField = fromField;
        this.acks = acks;
        this.errors = errors;
        this.countsOnly = countsOnly;
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
        track(connection, connection.identity(), room);
    }

    /** Whether the route's presence was set ({@link #usePresence}). */
    boolean hasPresence() {
        return presence != null;
    }

    /** The route's one presence, whose {@code room:} groups are the rooms'. Set once, when mounted. */
    void usePresence(Relay.Presence presence) {
        this.presence = presence;
    }

    /** The users in the room on every node, as this node knows them (its own at once), sorted. */
    SortedSet<String> roomMembers(String room) {
        Relay.Presence everywhere = presence;
        return everywhere == null ? new TreeSet<>() : everywhere.members(GROUP_PREFIX + room);
    }

    /** A connection in the room now: its user becomes a member with its first connection here. */
    private void track(Connection connection, String user, String room) {
        Relay.Presence everywhere = presence;
        if (everywhere == null || user == null) {
            return;
        }
        synchronized (lock) {
            if (!counted.computeIfAbsent(connection, c -> new HashSet<>(2)).add(room)) {
                return;
            }
            if (held.computeIfAbsent(room, r -> new HashMap<>()).merge(user, 1, Integer::sum) == 1) {
                everywhere.add(GROUP_PREFIX + room, user); // told to the others in the next window
            }
            // the first member here is answered with the members as they are now, itself included
            told.computeIfAbsent(room, r -> {
                Set<String> known = new HashSet<>(everywhere.members(GROUP_PREFIX + r));
                known.add(user);
                return known;
            });
        }
    }

    /** The connection is in the room no more: its user leaves with its last connection here. */
    private void untrack(Connection connection, String user, String room) {
        Relay.Presence everywhere = presence;
        if (everywhere == null || user == null) {
            return;
        }
        synchronized (lock) {
            Set<String> in = counted.get(connection);
            if (in == null || !in.remove(room)) {
                return;
            }
            if (in.isEmpty()) {
                counted.remove(connection);
            }
            release(everywhere, user, room);
        }
    }

    /** Under the lock: one connection of the user here left the room. */
    private void release(Relay.Presence everywhere, String user, String room) {
        Map<String, Integer> users = held.get(room);
        if (users == null) {
            return;
        }
        Integer left = users.computeIfPresent(user, (u, n) -> n == 1 ? null : n - 1);
        if (left == null) {
            if (users.isEmpty()) {
                held.remove(room);
            }
            everywhere.remove(GROUP_PREFIX + room, user);
        }
    }

    /** A connection closed (before its groups forget it): it leaves every room it was in. */
    void closed(Connection connection, String user) {
        Relay.Presence everywhere = presence;
        if (everywhere == null) {
            return;
        }
        synchronized (lock) {
            Set<String> in = counted.remove(connection);
            if (in != null) {
                for (String room : in) {
                    release(everywhere, user, room);
                }
            }
        }
    }

    /** The presence heard a join or a leave in a group: a room's, if it starts with {@code room:}. */
    void changed(String group) {
        if (!group.startsWith(GROUP_PREFIX)) {
            return;
        }
        synchronized (lock) {
            dirty.add(group.substring(GROUP_PREFIX.length()));
            if (!scheduled) {
                scheduled = true;
                io.github.wsrouter.internal.Timer.after(DirectedJsonRouter.PRESENCE_WINDOW_MILLIS, this::flush);
            }
        }
    }

    /** Tells the members here of each changed room what changed since they were told last. */
    private void flush() {
        Relay.Presence everywhere = presence;
        synchronized (lock) {
            scheduled = false;
            for (String room : dirty) {
                Set<String> now = everywhere.members(GROUP_PREFIX + room);
                java.util.Collection<Connection> here = groups.members(room);
                Set<String> before = told.get(room);
                if (here.isEmpty() && !held.containsKey(room)) {
                    told.remove(room); // nobody here to tell: what they know is read again at a join
                    continue;
                }
                if (before == null) {
                    before = new HashSet<>();
                }
                told.put(room, new HashSet<>(now));
                tell(room, before, now, here);
            }
            dirty.clear();
        }
    }

    /** Under the lock: one room's changes to its members here. */
    private void tell(String room, Set<String> before, Set<String> now, java.util.Collection<Connection> here) {
        JsonObject notice = new JsonObject();
        if (countsOnly.test(room)) {
            if (before.size() == now.size()) {
                return;
            }
            notice.addProperty("presence", "count");
            notice.addProperty(ROOM, room);
            notice.addProperty("count", now.size());
            send(notice, here, null);
            return;
        }
        PresenceWindow.tell(gson, room, before, now, here);
    }

    private void send(JsonObject notice, java.util.Collection<Connection> here, String except) {
        String text = gson.toJson(notice);
        for (Connection member : here) {
            if (except == null || !except.equals(member.identity())) {
                member.sendText(text);
            }
        }
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
        track(connection, user, room);
        // answered once other servers' messages to the room reach this one (their relay confirmed
        // it), or after a bound when the relay cannot confirm now (its backend is away)
        // and once this node has read who is in the room on the others (its first member here)
        Relay.Presence everywhere = presence;
        java.util.concurrent.CompletableFuture<Void> read = everywhere == null
                ? java.util.concurrent.CompletableFuture.completedFuture(null)
                : everywhere.read(GROUP_PREFIX + room).toCompletableFuture();
        groups.ready(room)
                .toCompletableFuture()
                .thenCombine(read, (a, b) -> (Void) null)
                .completeOnTimeout(null, JOIN_WAIT_SECONDS, java.util.concurrent.TimeUnit.SECONDS)
                .whenComplete((ok, failure) -> connection.sendText(joined(room, id)));
    }

    /** The longest a join waits for the relay to confirm the room before it is answered anyway. */
    static final long JOIN_WAIT_SECONDS = 2;

    private void leave(Connection connection, String room, JsonElement id) {
        if (!groups.members(room).contains(connection)) {
            errors.send(connection, "not_in_room", "you are not in this room", ROOM, room, id);
            return;
        }
        groups.remove(room, connection);
        untrack(connection, connection.identity(), room);
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
        ConnectionGroups.Delivery delivery = groups.broadcastTo(room, JsonText.write(gson, stamped));
        if (ack) {
            delivery.nodes()
                    .whenComplete((nodes, failure) -> connection.sendText(
                            acks.ack(id, delivery.local(), failure == null ? nodes : 0, 0, failure != null)));
        }
    }

    /** {@code {"joined": room, "members": [...]}}, or {@code "count": n} for a counts-only room. */
    private String joined(String room, JsonElement id) {
        JsonObject answer = new JsonObject();
        answer.addProperty("joined", room);
        if (presence != null) {
            SortedSet<String> members = roomMembers(room);
            if (countsOnly.test(room)) {
                answer.addProperty("count", members.size());
            } else {
                JsonArray names = new JsonArray();
                members.forEach(names::add);
                answer.add("members", names);
            }
        }
        if (id != null) {
            answer.add(DirectedJsonRouter.ID, id);
        }
        return gson.toJson(answer);
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
