package io.github.wsrouter;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import io.github.wsrouter.internal.Checks;
import io.github.wsrouter.internal.JsonText;
import io.github.wsrouter.internal.StrictJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

// Longer than 400 lines: the javadoc below is the wire format's specification (about 75 lines) and
// the Builder, each option with its contract, is about 151; the router's own code is under 400.
// Parsing is in internal.StrictJson, ids and acknowledgements in Acknowledgements, history in
// JsonStreams.
/**
 * User-to-user messages as JSON: the seed's point to point, done right.
 *
 * <h2>Wire format</h2>
 * Each connection belongs to a user, by default the {@code username} path parameter of a route
 * like {@code /ws/{username}/}. A user sends a JSON object naming the recipient:
 * <pre>
 * alice → {"to_user": "bob", "message": "hi"}
 * bob   ← {"to_user": "bob", "message": "hi", "from": "alice"}
 * </pre>
 * The recipient receives the object as sent plus {@code "from"}, set by the server: a {@code from}
 * sent by the client is replaced, so nobody can speak as someone else. {@code message} may be any
 * JSON value. The object goes to every open connection of the recipient (two tabs, two copies)
 * and to nobody else. With {@link Builder#everyone(String)} set, say to {@code "*"}, a message
 * to that address goes to every connection of the route, the sender's included.
 *
 * <h2>Errors</h2>
 * Errors go back to the sender only, as one JSON object; the connection stays open:
 * <pre>
 * {"error": "invalid_json",       "detail": "..."}                   text that is not a JSON object
 * {"error": "missing_field",      "field": "to_user", "detail": "..."} to_user absent or not a string,
 *                                                                     or message absent
 * {"error": "unknown_recipient",  "to_user": "bob", "detail": "..."}  bob has no open connection
 * {"error": "unsupported_binary", "detail": "..."}                   a binary message
 * {"error": "relay_unavailable",  "to_user": "bob", "detail": "..."}  bob is not on this node and the
 *                                                                     other nodes cannot be reached
 * {"error": "rate_limited",       "detail": "..."}                   over the route's {@link RateLimit}
 *                                                                     ({@link RateLimit.Exceeded#REPLY}): dropped
 * </pre>
 * These codes are a public contract; {@code detail} is for people and may change.
 *
 * <h2>Rooms (optional)</h2>
 * With {@link Builder#rooms} on, a connection also joins and leaves chat rooms by message, and posts
 * to them with its verified user as the sender:
 * <pre>
 * alice → {"join": "lobby"}                           alice ← {"joined": "lobby"}
 * alice → {"to_room": "lobby", "message": "hi"}       every member ← {"room": "lobby", "from": "alice", "message": "hi"}
 * alice → {"leave": "lobby"}                          alice ← {"left": "lobby"}
 * </pre>
 * A room message reaches every connection in the room on every server, the sender's included, as a
 * new object: {@code room}, {@code from} (the server's), {@code message} and the sender's {@code
 * id}, nothing else the client sent. A {@link RoomPolicy} decides who may join and post; the
 * errors are {@code forbidden}, {@code not_in_room} (posting to or leaving a room the connection
 * is not in), {@code invalid_room} and {@code too_many_rooms}, each with {@code room}. {@link
 * Builder#roomParameter} names a path parameter whose room a connection joins as it opens. Rooms
 * keep no history; a connection leaves its rooms when it closes.
 *
 * <p>Rooms have presence: a user is a member of a room while at least one of their connections on
 * any server is in it (two tabs count once). The join answer carries the members on every server,
 * sorted, and the room's members are told of joins and leaves in windows of 100 ms:
 * <pre>
 * alice ← {"joined": "lobby", "members": ["alice", "bob"]}
 * bob   ← {"presence": "join",  "room": "lobby", "user": "carol"}       one change in the window
 * bob   ← {"presence": "leave", "room": "lobby", "user": "carol"}
 * bob   ← {"presence": "changes", "room": "lobby", "joined": ["dave"], "left": ["carol"]}   several
 * </pre>
 * A room that {@link Builder#countsOnly} names shows a count, not names: {@code {"joined": "lobby",
 * "count": 2}} and {@code {"presence": "count", "room": "lobby", "count": 3}}. A single {@code
 * join} or {@code leave} does not go to the user it is about. {@link #roomMembers} answers for
 * every server. Across servers room presence is kept by the relay's {@link Relay#presence} (the
 * route's one, shared with the users', in groups {@code room:<room>}); with a relay that keeps
 * none, it is this server's.
 *
 * <h2>Presence (optional)</h2>
 * With {@link Builder#presence(boolean)} on, the router tells who is online:
 * <pre>
 * alice ← {"presence": "online", "users": ["alice", "bob"]}   to a connection that opens: everyone online, sorted
 * bob   ← {"presence": "join",   "user": "alice"}              to the others, when a user's first connection opens
 * bob   ← {"presence": "leave",  "user": "alice"}              to the others, when a user's last connection closes
 * </pre>
 * A user with several connections joins once and leaves once. Presence objects never carry
 * {@code from} or {@code error}, so clients tell them apart by the {@code presence} field.
 *
 * <h2>Identity</h2>
 * At the handshake, a path user name must match {@link Builder#userNamePattern} (400 otherwise),
 * and equal the identity a {@link HandshakeHook} authenticated, if any (403 otherwise): with a hook
 * that checks tokens, nobody can connect as somebody else. The user is then that identity, or the
 * path parameter. {@link Builder#sameUser} decides what a second connection of a user does.
 *
 * <p>The router accepts the handshake {@linkplain HandshakeDecision#acceptAs as that user}, so the
 * user is the connection's read-only {@link Connection#identity()}: set before it opens, the same
 * for every router, and never changed. A handshake that yields no user (the {@linkplain
 * Builder#identity identity function} returns {@code null} or a blank string) is refused with 401,
 * one whose user is the {@linkplain Builder#everyone everyone} address with 400. To bind identity
 * to your own authentication instead of the URL, set {@link Builder#identity(Function)}: {@code
 * identity(HandshakeRequest::identity)} takes the user a {@link HandshakeHook} authenticated.
 *
 * <p>Mounted on a route whose template lacks the user parameter (and with no identity function),
 * the router refuses to mount: the server's {@code build()} throws {@link IllegalArgumentException}.
 *
 * <h2>Several nodes</h2>
 * With a distributed {@link Relay} (given to the server), a user's connections may be spread
 * over several nodes. A node is subscribed to a user's {@linkplain Relay.Topic#user topic} while
 * it holds at least one of that user's connections. A message to a user is delivered to the
 * recipient's connections on this node at once and published once to the user's topic, which
 * every other node holding the user delivers to its own connections; a message to the everyone
 * address goes the same way through the {@linkplain Relay.Topic#route() route} topic. {@code
 * unknown_recipient} stays exact: when this node holds none of the recipient's connections the
 * router waits for the relay's count of subscribed nodes, and answers the error when it is zero,
 * after the messages the sender sent before (the answer then comes asynchronously). When the relay
 * cannot publish and this node does not hold the recipient, the sender gets
 * {@code {"error": "relay_unavailable", "to_user": ..., "detail": ...}}. Across nodes delivery is
 * at most once and in each sender's order; nothing is kept for users who are offline.
 *
 * <h2>Gaps</h2>
 * Across nodes nothing is lost silently. When the relay may have missed messages from other
 * nodes (its link to Redis dropped, or this node fell behind), every connection that could have
 * been a recipient is told, in order with its messages:
 * <pre>
 * bob ← {"gap": {"stream": "user", "reason": "subscription_lost"}}          no history: lost
 * bob ← {"gap": {"stream": "everyone", "reason": "history_gone",
 *                "position": {"epoch": "5f3a...", "offset": 2817}}}         history: lost up to position
 * </pre>
 * With {@link Builder#history history} the node first reads what it missed back from the stream
 * and sends it in order, late but complete: no notice. A notice comes only when that cannot be
 * done: {@code epoch_changed} (the store lost the stream: the new epoch starts at the position),
 * {@code history_gone} (more was missed than the history keeps) or {@code history_unavailable}.
 * Without history the reasons are {@code subscription_lost} and {@code overflow}. The position is
 * where the stream goes on; a client that resumes later resumes from there.
 *
 * <p>Presence spans every node where the relay keeps presence ({@link Relay#presence}:
 * wsrouter-redis does): {@code online} lists the users of every node, {@code join} comes when a
 * user's first connection anywhere opens and {@code leave} when the last one everywhere closes (or
 * its node stops or dies), and {@link #onlineUsers()} and {@link #isOnline} answer for every node
 * from this node's view. While the store cannot be reached, {@code online} carries {@code "stale":
 * true}. With a relay that keeps none, presence is this node's. Node-local whatever the relay:
 * {@link #connectionCount()} and the {@link Builder#sameUser} policies.
 */
public final class DirectedJsonRouter implements MessageRouter {

    /** 4001: refused because the user is already connected ({@link SameUser#REFUSE_NEWER}). */
    public static final CloseStatus ALREADY_CONNECTED = CloseStatus.of(4001, "already connected");

    /** 4002: closed because the same user connected again ({@link SameUser#REPLACE_OLDER}). */
    public static final CloseStatus REPLACED = CloseStatus.of(4002, "replaced by a newer connection");

    /** The default user names: 1 to 64 letters, digits, {@code .}, {@code _} or {@code -}. */
    public static final Pattern DEFAULT_USER_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** The field of a client's message id, echoed in its acknowledgement and in every error it causes. */
    public static final String ID = "id";

    /** The field that asks for an acknowledgement ({@code "ack": true}), and that carries one back. */
    public static final String ACK = "ack";

    /** The field of a message's position in its stream, on a route that keeps history. */
    public static final String OFFSET = "offset";

    /** The longest message id, in characters. */
    public static final int MAX_ID_LENGTH = 64;

    /**
     * Who may join which room, and post to it ({@link Builder#rooms}). Called on the thread of the
     * message (or of the handshake, for a room named in the path): must not block.
     */
    @FunctionalInterface
    public interface RoomPolicy {

        /** Anybody may join any room and post to the rooms they are in. */
        RoomPolicy OPEN = (user, room, action) -> true;

        /** What a user asks to do in a room. */
        enum Action {
            /** Join the room (by message, or by opening a connection on a path that names it). */
            JOIN,
            /** Post a message to a room the user is in. */
            POST
        }

        /** Whether the (verified) user may do it; {@code false} answers {@code forbidden}. */
        boolean allows(String user, String room, Action action);
    }

    /** What happens when a user who is connected connects again. */
    public enum SameUser {
        /** Both connections are the user's and both receive (two tabs). The default. */
        ALLOW,
        /** The older connections are closed with {@link #REPLACED 4002}. */
        REPLACE_OLDER,
        /** The newer connection is refused: 409 at the handshake, or closed with {@link #ALREADY_CONNECTED 4001}. */
        REFUSE_NEWER
    }

    private final Gson gson =
            new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
    private final Function<HandshakeRequest, String> identity;
    private final String userParameter;
    private final Pattern userNamePattern;
    private final SameUser sameUser;
    private final String toField;
    private final String messageField;
    private final String fromField;
    private final String everyone;
    private final boolean presence;
    private final Acknowledgements acks;
    /** The streams' recent messages; null when the route keeps no history. */
    private final JsonStreams history;

    private final int historyMessages;
    private final Duration historyAge;
    /** The route's chat rooms; null when it has none. */
    private final JsonRooms rooms;

    private final String roomParameter;

    private final ConnectionGroups users = ConnectionGroups.byUser();
    /** Presence on every node, where the relay keeps it ({@link Relay#presence}); null: this node's. */
    private volatile Relay.Presence cluster;
    /** Orders presence changes with their announcements; sends do not block, so it is held briefly. */
    private final Object presenceLock = new Object();

    private DirectedJsonRouter(Builder builder) {
        this.userParameter = builder.userParameter;
        this.userNamePattern = builder.userNamePattern;
        this.sameUser = builder.sameUser;
        this.identity = builder.identity;
        this.toField = builder.toField;
        this.messageField = builder.messageField;
        this.fromField = builder.fromField;
        this.everyone = builder.everyone;
        this.presence = builder.presence;
        this.acks = new Acknowledgements(builder.acks, builder.dedupeIds, builder.dedupeWindow, gson);
        this.historyMessages = builder.historyMessages;
        this.historyAge = builder.historyAge;
        this.history = historyMessages == 0 ? null : new JsonStreams(gson, users, everyone != null);
        users.whenMissed(this::missed);
        this.roomParameter = builder.roomParameter;
        this.rooms = builder.roomPolicy == null
                ? null
                : new JsonRooms(
                        gson,
                        builder.roomPolicy,
                        DEFAULT_USER_NAME,
                        builder.maxRooms,
                        messageField,
                        fromField,
                        acks,
                        this::sendError,
                        builder.countsOnly);
    }

    /**
     * Messages from other nodes to a topic may be lost ({@link Relay.Receiver#onGap}): the
     * connection is told {@code {"gap": {"stream": "user"|"everyone", "reason": ...}}}. With
     * history the streams repair what they can and tell the rest themselves.
     */
    private void missed(Connection connection, Relay.Topic topic, String reason) {
        boolean toEveryone = topic.kind() == Relay.Topic.Kind.ROUTE;
        if (history != null || (toEveryone && everyone == null)) {
            return;
        }
        JsonObject gap = new JsonObject();
        gap.addProperty("stream", toEveryone ? "everyone" : "user");
        gap.addProperty("reason", reason);
        JsonObject notice = new JsonObject();
        notice.add("gap", gap);
        connection.sendText(gson.toJson(notice));
    }

    /** A router with the defaults: user from {@code username}, fields {@code to_user}, {@code message}, {@code from}. */
    public static DirectedJsonRouter create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Decides the connection's user and accepts {@linkplain HandshakeDecision#acceptAs as that
     * user}. Refuses, before the upgrade: a path user name that does not match the user-name
     * pattern (400); one that differs from the identity a {@link HandshakeHook} authenticated
     * (403); no user at all (401); the everyone address as a user (400); a user already connected
     * under {@link SameUser#REFUSE_NEWER} (409).
     */
    @Override
    public HandshakeDecision onHandshake(HandshakeRequest request) {
        String user;
        if (identity != null) {
            user = identity.apply(request);
        } else {
            String pathUser = request.pathParameters().get(userParameter);
            if (pathUser != null && !userNamePattern.matcher(pathUser).matches()) {
                return HandshakeDecision.reject(400, "invalid user name: expected " + userNamePattern.pattern());
            }
            String authenticated = request.identity();
            if (authenticated != null && pathUser != null && !authenticated.equals(pathUser)) {
                return HandshakeDecision.reject(403, "the user name in the path is not the authenticated user");
            }
            user = authenticated != null ? authenticated : pathUser;
        }
        if (user == null || user.isBlank()) {
            return HandshakeDecision.reject(401, "no user identity");
        }
        if (user.equals(everyone)) {
            return HandshakeDecision.reject(400, "reserved user name");
        }
        if (sameUser == SameUser.REFUSE_NEWER && users.contains(user)) {
            return HandshakeDecision.reject(409, "user " + user + " is already connected");
        }
        if (roomParameter != null) {
            String refusal = rooms.refusal(user, request.pathParameters().get(roomParameter));
            if (refusal != null) {
                return HandshakeDecision.reject(refusal.startsWith("invalid") ? 400 : 403, refusal);
            }
        }
        return HandshakeDecision.acceptAs(user);
    }

    /**
     * Checks the route and opens the relay channel of the first route it is mounted on; further
     * routes share it.
     *
     * @throws IllegalArgumentException if the route's template lacks the user parameter and no
     *     identity function is set: no connection could have a user
     */
    @Override
    public void onMount(RouteContext route) {
        if (identity == null && !route.hasParameter(userParameter)) {
            java.util.List<String> names = route.template().parameterNames();
            throw new IllegalArgumentException("DirectedJsonRouter cannot be mounted on " + route.route()
                    + ": it takes each connection's user from the path parameter {" + userParameter
                    + "}, which the template lacks. Mount it on a template with {" + userParameter + "}"
                    + (names.isEmpty() ? "" : ", call userParameter(\"" + names.get(0) + "\")")
                    + ", or set identity(...) to take the user from elsewhere, such as "
                    + "identity(HandshakeRequest::identity) for the user a HandshakeHook authenticated");
        }
        if (roomParameter != null && !route.hasParameter(roomParameter)) {
            throw new IllegalArgumentException("DirectedJsonRouter with roomParameter(\"" + roomParameter
                    + "\") cannot be mounted on " + route.route() + ": the template has no {" + roomParameter
                    + "}. Mount it on a template with {" + roomParameter + "}, or leave out roomParameter and "
                    + "let connections join rooms by message");
        }
        if (history != null) {
            history.mount(route, historyMessages, historyAge);
        }
        users.mount(route);
        if (rooms != null) {
            rooms.mount(route);
        }
        ClusterPresence receiver = new ClusterPresence();
        if (presence && cluster == null) {
            cluster = route.relay().presence(route.route(), receiver);
        }
        if (rooms != null && !rooms.hasPresence()) {
            // the route's one presence: the users' if presence is on, else asked for the rooms
            Relay.Presence shared = presence ? cluster : route.relay().presence(route.route(), receiver);
            rooms.usePresence(shared != null ? shared : new io.github.wsrouter.internal.LocalPresence(receiver));
        }
    }

    @Override
    public void onOpen(Connection connection) {
        String user = connection.identity();
        if (user == null || user.isBlank() || user.equals(everyone)) {
            // only a transport that skipped onHandshake gets here
            connection.close(CloseStatus.POLICY_VIOLATION.withReason("no user identity"));
            return;
        }
        if (sameUser == SameUser.REFUSE_NEWER && users.contains(user)) {
            connection.close(ALREADY_CONNECTED); // a race the handshake check could not see
            return;
        }
        if (sameUser == SameUser.REPLACE_OLDER) {
            for (Connection older : users.members(user)) {
                older.close(REPLACED);
            }
        }
        if (roomParameter != null) {
            rooms.openIn(connection, connection.pathParameters().get(roomParameter));
        }
        if (history == null) {
            register(connection, user);
            return;
        }
        history.open(connection, user, () -> register(connection, user));
    }

    /** Makes the connection a recipient, with the presence notices if presence is on. */
    private void register(Connection connection, String user) {
        if (!presence) {
            users.add(user, connection);
            return;
        }
        // Joins and leaves change the registry and tell everyone in one step, so that every
        // connection sees them in one order: its "online" list, then the joins and leaves after it.
        Relay.Presence everywhere = cluster;
        synchronized (presenceLock) {
            boolean joined = users.add(user, connection);
            if (joined && everywhere != null) {
                everywhere.add(Relay.Presence.USERS, user); // the join is told when every node hears it
            }
            JsonObject online = new JsonObject();
            online.addProperty("presence", "online");
            JsonArray names = new JsonArray();
            onlineUsers().forEach(names::add);
            online.add("users", names);
            if (everywhere != null && everywhere.stale()) {
                online.addProperty("stale", true);
            }
            connection.sendText(gson.toJson(online));
            if (joined && everywhere == null) {
                announce("join", user, connection);
            }
        }
    }

    @Override
    public void onText(Connection connection, String text) {
        if (!users.contains(connection)) {
            return; // refused at open; its close is under way
        }
        String from = connection.identity();
        JsonObject object;
        try {
            object = StrictJson.parseObject(text);
        } catch (JsonParseException | IOException e) {
            sendError(connection, "invalid_json", "message is not valid JSON: " + StrictJson.describe(e), null, null);
            return;
        }
        if (object == null) {
            sendError(connection, "invalid_json", "message must be a JSON object", null, null);
            return;
        }
        JsonElement id = object.get(ID);
        if (id != null && !Acknowledgements.validId(id)) {
            sendError(
                    connection, "invalid_id", "field 'id' must be a string of 1 to 64 characters or an integer", null);
            return;
        }
        JsonElement askAck = object.remove(ACK);
        if (askAck != null
                && !(askAck.isJsonPrimitive() && askAck.getAsJsonPrimitive().isBoolean())) {
            sendError(connection, "invalid_field", "field 'ack' must be true or false", "field", ACK, id);
            return;
        }
        if (id == null && askAck != null && askAck.getAsBoolean()) {
            sendError(connection, "missing_field", "an acknowledgement needs an 'id'", "field", ID, null);
            return;
        }
        boolean ack = acks.wanted(id, askAck);
        if (rooms != null && JsonRooms.isRoomOperation(object)) {
            rooms.handle(connection, from, object, id, ack);
            return;
        }
        JsonElement to = object.get(toField);
        if (to == null || !to.isJsonPrimitive() || !to.getAsJsonPrimitive().isString()) {
            sendError(
                    connection,
                    "missing_field",
                    "field '" + toField + "' must be the recipient's user name",
                    "field",
                    toField,
                    id);
            return;
        }
        if (!object.has(messageField)) {
            sendError(
                    connection, "missing_field", "field '" + messageField + "' is required", "field", messageField, id);
            return;
        }
        String key = acks.key(id, ack);
        if (!acks.firstTime(from, key)) {
            connection.sendText(acks.duplicate(id));
            return; // sent before: delivered then, or under way
        }
        String recipient = to.getAsString();
        boolean toEveryone = everyone != null && everyone.equals(recipient);
        object.remove(fromField);
        object.addProperty(fromField, from);
        if (history != null) {
            boolean acknowledge = ack;
            java.util.concurrent.CompletableFuture<Long> kept =
                    history.deliver(toEveryone, recipient, object).toCompletableFuture();
            if (!acknowledge && kept.isDone() && !kept.isCompletedExceptionally() && kept.join() > 0) {
                return; // kept and delivered already (a history in memory): nothing to answer
            }
            kept.whenComplete((offset, failure) -> {
                if (failure != null || offset == 0) {
                    acks.forget(from, key); // not kept: the same id may try again
                    undelivered(
                            connection, recipient, id, failure, "the history that keeps messages cannot be reached");
                } else if (acknowledge) {
                    int here = toEveryone ? users.size() : users.size(recipient);
                    connection.sendText(acks.ack(id, here, null, offset, false));
                }
            });
            return;
        }
        String stamped = JsonText.write(gson, object);
        ConnectionGroups.Delivery delivery =
                toEveryone ? users.broadcast(stamped) : users.broadcastTo(recipient, stamped);
        boolean here = delivery.local() > 0 || toEveryone;
        if (here && !ack) {
            return;
        }
        boolean acknowledge = ack;
        // Nobody here: the relay's count of subscribed nodes tells whether anybody has the user.
        // On a single node the stage is already complete and the answer is sent before returning.
        delivery.nodes().whenComplete((nodes, failure) -> {
            if (!here && (failure != null || nodes == 0)) {
                acks.forget(from, key); // not delivered: the same id may try again
                undelivered(
                        connection,
                        recipient,
                        id,
                        failure,
                        "user '" + recipient
                                + "' is not connected to this server and the other servers cannot be reached");
            } else if (acknowledge) {
                connection.sendText(acks.ack(id, delivery.local(), failure == null ? nodes : 0, 0, failure != null));
            }
        });
    }

    /** Tells the sender its message reached nobody: {@code relay_unavailable} if the relay failed, else {@code unknown_recipient}. */
    private void undelivered(
            Connection connection, String recipient, JsonElement id, Throwable failure, String unreachable) {
        if (failure != null) {
            sendError(connection, "relay_unavailable", unreachable, toField, recipient, id);
        } else {
            sendError(
                    connection,
                    "unknown_recipient",
                    "no user '" + recipient + "' is connected",
                    toField,
                    recipient,
                    id);
        }
    }

    /** Answers {@code {"error":"rate_limited","detail":"..."}}; the connection stays open. */
    @Override
    public void onRateLimited(Connection connection, RateLimit limit) {
        sendError(
                connection,
                "rate_limited",
                "more than " + limit.perSecond() + " messages a second; this one was dropped",
                null,
                null);
    }

    @Override
    public void onBinary(Connection connection, ByteBuffer data) {
        sendError(connection, "unsupported_binary", "this route accepts JSON text messages only", null, null);
    }

    @Override
    public void onClose(Connection connection, CloseStatus status) {
        String name = connection.identity();
        if (name == null) {
            return;
        }
        if (history != null) {
            history.closed(connection);
        }
        if (rooms != null) {
            rooms.closed(connection, name); // its rooms' groups forget it after this
        }
        if (!presence) {
            users.remove(name, connection);
        } else {
            Relay.Presence everywhere = cluster;
            synchronized (presenceLock) {
                if (users.remove(name, connection)) {
                    if (everywhere != null) {
                        everywhere.remove(Relay.Presence.USERS, name); // told when every node hears it
                    } else {
                        announce("leave", name, connection);
                    }
                }
            }
        }
        users.remove(connection);
    }

    /** Tells every connection but the subject's that a user joined or left. */
    private void announce(String event, String user, Connection subject) {
        JsonObject notice = new JsonObject();
        notice.addProperty("presence", event);
        notice.addProperty("user", user);
        String text = gson.toJson(notice);
        for (Connection other : users.members()) {
            if (other != subject) {
                other.sendText(text);
            }
        }
    }

    /**
     * The users with at least one open connection, sorted: a snapshot. On every node where the
     * relay keeps presence ({@link Relay#presence}, wsrouter-redis), as this node last knew it.
     */
    public Set<String> onlineUsers() {
        Relay.Presence everywhere = cluster;
        if (everywhere == null) {
            return new java.util.TreeSet<>(users.groups());
        }
        java.util.TreeSet<String> all = new java.util.TreeSet<>(everywhere.members(Relay.Presence.USERS));
        all.addAll(users.groups());
        return all;
    }

    /** Whether the user has at least one open connection: on any node where the relay keeps presence. */
    public boolean isOnline(String user) {
        Relay.Presence everywhere = cluster;
        return users.contains(user)
                || (everywhere != null
                        && everywhere.members(Relay.Presence.USERS).contains(user));
    }

    /**
     * The users in a room on every node, sorted: a snapshot, as this node knows them (its own
     * connections' at once; other nodes' where the relay keeps presence, {@link Relay#presence}).
     * Empty without {@link Builder#rooms rooms}.
     */
    public Set<String> roomMembers(String room) {
        Objects.requireNonNull(room, "room");
        return rooms == null ? new java.util.TreeSet<>() : rooms.roomMembers(room);
    }

    /** How long joins and leaves across nodes are gathered before this node's connections are told. */
    static final long PRESENCE_WINDOW_MILLIS = 100;

    /**
     * Joins and leaves on every node, told to this node's connections in windows of {@link
     * #PRESENCE_WINDOW_MILLIS}: one change in a window is a {@code join} or {@code leave} as on
     * one node; more are one {@code {"presence": "changes", "joined": [...], "left": [...]}} (a user
     * who came and went within the window is in neither). So a thousand joins in a second are ten
     * objects per connection, not a thousand.
     */
    private final class ClusterPresence implements Relay.Presence.Receiver {
        /** What this node's connections were told last: the users online then. Guarded by presenceLock. */
        private final java.util.Set<String> told = new java.util.HashSet<>();

        private boolean scheduled;

        @Override
        public void onJoin(String group, String member) {
            changed(group);
        }

        @Override
        public void onLeave(String group, String member) {
            changed(group);
        }

        private void changed(String group) {
            if (!group.equals(Relay.Presence.USERS)) {
                if (rooms != null) {
                    rooms.changed(group);
                }
                return;
            }
            synchronized (presenceLock) {
                if (!scheduled) {
                    scheduled = true;
                    io.github.wsrouter.internal.Timer.after(PRESENCE_WINDOW_MILLIS, this::flush);
                }
            }
        }

        private void flush() {
            Relay.Presence everywhere = cluster;
            synchronized (presenceLock) {
                scheduled = false;
                java.util.Set<String> now = new java.util.TreeSet<>(everywhere.members(Relay.Presence.USERS));
                now.addAll(users.groups());
                PresenceWindow.tell(gson, null, told, now, users.members());
                told.clear();
                told.addAll(now);
            }
        }
    }

    /** The number of open connections over all users. */
    public int connectionCount() {
        return users.size();
    }

    private void sendError(Connection connection, String code, String detail, String field, String value) {
        sendError(connection, code, detail, field, value, null);
    }

    private void sendError(Connection connection, String code, String detail, JsonElement id) {
        sendError(connection, code, detail, null, null, id);
    }

    /** Sends {@code {"error": code, "id": id, field: value, "detail": detail}}, without the absent ones. */
    private void sendError(
            Connection connection, String code, String detail, String field, String value, JsonElement id) {
        JsonObject error = new JsonObject();
        error.addProperty("error", code);
        if (id != null) {
            error.add(ID, id);
        }
        if (field != null) {
            error.addProperty(field, value);
        }
        error.addProperty("detail", detail);
        connection.sendError(gson.toJson(error));
    }

    /** Options of a {@link DirectedJsonRouter}. */
    public static final class Builder {
        private String userParameter = "username";
        private Function<HandshakeRequest, String> identity;
        private String toField = "to_user";
        private String messageField = "message";
        private String fromField = "from";
        private String everyone;
        private boolean presence;
        private Pattern userNamePattern = DEFAULT_USER_NAME;
        private SameUser sameUser = SameUser.ALLOW;
        private boolean acks;
        private int dedupeIds = 1000;
        private Duration dedupeWindow = Duration.ofMinutes(2);
        private int historyMessages;
        private Duration historyAge = Duration.ofMinutes(5);
        private RoomPolicy roomPolicy;
        private String roomParameter;
        private int maxRooms = 100;
        private java.util.function.Predicate<String> countsOnly = room -> false;

        private Builder() {}

        /**
         * Whether every message with an {@code "id"} is acknowledged once routed, with {@code
         * {"ack": id, "delivered": n, "nodes": m}}: {@code n} connections on this server, {@code m}
         * other servers subscribed to the recipient (0 on one server). Default {@code false}; a
         * client can still ask for one per message with {@code "ack": true}.
         */
        public Builder acks(boolean enabled) {
            this.acks = enabled;
            return this;
        }

        /**
         * Keeps the recent messages of each user's stream (and of the {@linkplain #everyone
         * everyone} stream), at most {@code maxMessages} each and none older than {@code maxAge},
         * so that a client that reconnects resumes where it stopped; default off ({@code 0}). Every
         * message then carries its {@code "offset"} in its stream; a connection learns each
         * stream's epoch and offset when it opens, and resumes with the query parameter {@code
         * resume=user:<epoch>:<offset>,everyone:<epoch>:<offset>}. Messages to a user who is away
         * are kept (and acknowledged) for {@code maxAge} after their last connection closed. The
         * history is kept by the route's relay ({@link Relay#history}): {@link Relay#local()} keeps
         * it in this server's memory (a restart changes the epoch), {@code wsrouter-redis} in Redis
         * Streams that every server sees; the router refuses a relay that keeps none.
         */
        public Builder history(int maxMessages, Duration maxAge) {
            this.historyMessages = (int) Checks.atLeast("history messages", maxMessages, 0);
            this.historyAge = Checks.positive("history age", maxAge);
            return this;
        }

        /**
         * How long, and for how many ids per user, the id of an acknowledged message is remembered:
         * an acknowledged message sent again under an id its user sent within the window is
         * acknowledged again ({@code "duplicate": true}) but not delivered twice. Messages that ask
         * for no acknowledgement are never held back, whatever their {@code "id"}. Default 1,000 ids and 2 minutes; {@code 0} ids looks for
         * no repeats. An id whose message reached nobody ({@code unknown_recipient}) is forgotten,
         * so that sending it again tries again. Repeats are looked for on this server only.
         */
        public Builder dedupe(int idsPerUser, Duration window) {
            this.dedupeIds = (int) Checks.atLeast("dedupe ids", idsPerUser, 0);
            this.dedupeWindow = Checks.positive("dedupe window", window);
            return this;
        }

        /**
         * The user names accepted in the path; default {@link #DEFAULT_USER_NAME}. Others are
         * refused with 400 before the upgrade.
         */
        public Builder userNamePattern(Pattern pattern) {
            this.userNamePattern = Objects.requireNonNull(pattern, "pattern");
            return this;
        }

        /** What happens when a connected user connects again; default {@link SameUser#ALLOW}. */
        public Builder sameUser(SameUser policy) {
            this.sameUser = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** Whether to send presence objects ({@code online}, {@code join}, {@code leave}); default {@code false}. */
        public Builder presence(boolean enabled) {
            this.presence = enabled;
            return this;
        }

        /** The path parameter that names the connection's user; default {@code username}. */
        public Builder userParameter(String name) {
            this.userParameter = requireName(name, "user parameter");
            return this;
        }

        /**
         * Derives the user of a connection from its handshake, replacing {@link
         * #userParameter(String)} and the path checks: for example {@code
         * HandshakeRequest::identity} for the user a {@link HandshakeHook} authenticated, or {@code
         * r -> r.header("X-User")} behind a proxy that authenticates. Called once per handshake;
         * {@code null} or blank refuses the handshake with 401.
         */
        public Builder identity(Function<HandshakeRequest, String> identity) {
            this.identity = Objects.requireNonNull(identity, "identity");
            return this;
        }

        /** The field that names the recipient; default {@code to_user}. */
        public Builder toField(String name) {
            this.toField = requireName(name, "recipient field");
            return this;
        }

        /** The field that carries the message; default {@code message}. */
        public Builder messageField(String name) {
            this.messageField = requireName(name, "message field");
            return this;
        }

        /** The field the server stamps with the sender; default {@code from}. */
        public Builder fromField(String name) {
            this.fromField = requireName(name, "sender field");
            return this;
        }

        /**
         * A recipient address that means every connection of the route, such as {@code "*"};
         * default none. Choose a string no user name can be.
         */
        public Builder everyone(String address) {
            this.everyone = requireName(address, "everyone address");
            return this;
        }

        /**
         * Chat rooms on this route, with the sender stamped by the server: {@code {"join": room}}
         * and {@code {"leave": room}} answered {@code {"joined": room}} and {@code {"left": room}};
         * {@code {"to_room": room, "message": ...}} reaches every connection in the room on every
         * server as {@code {"room": room, "from": <user>, "message": ...}}, the sender's own
         * included. The policy decides who may join and post ({@code forbidden} otherwise); posting
         * to a room the connection is not in answers {@code not_in_room}. Room names are those of
         * {@link #DEFAULT_USER_NAME} ({@code invalid_room} otherwise). Default: no rooms, and
         * such messages are answered as any message without {@code to_user}.
         */
        public Builder rooms(RoomPolicy policy) {
            this.roomPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * A path parameter that names a room each connection joins as it opens, such as {@code
         * room} on {@code /chat/{room}/{username}/}; the handshake is refused with 400 for an
         * invalid room name and 403 when the {@linkplain #rooms policy} refuses. Turns rooms on
         * ({@link RoomPolicy#OPEN} unless {@link #rooms} says otherwise).
         */
        public Builder roomParameter(String name) {
            this.roomParameter = requireName(name, "room parameter");
            if (roomPolicy == null) {
                roomPolicy = RoomPolicy.OPEN;
            }
            return this;
        }

        /**
         * The rooms whose members see how many they are, not who: their join answer is {@code
         * {"joined": room, "count": n}} and their presence notices {@code {"presence": "count",
         * "room": room, "count": n}}. Default none.
         */
        public Builder countsOnly(java.util.function.Predicate<String> rooms) {
            this.countsOnly = Objects.requireNonNull(rooms, "rooms");
            return this;
        }

        /** The most rooms one connection is in at once; default 100. Over it, {@code too_many_rooms}. */
        public Builder maxRooms(int max) {
            this.maxRooms = (int) Checks.atLeast("max rooms", max, 1);
            return this;
        }

        public DirectedJsonRouter build() {
            return new DirectedJsonRouter(this);
        }

        private static String requireName(String value, String what) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(what + " must not be blank");
            }
            return value;
        }
    }
}
