package io.github.wsrouter;

import io.github.wsrouter.internal.ConnectionIndex;
import io.github.wsrouter.internal.LocalRelay;
import java.nio.ByteBuffer;
import java.util.Set;

/**
 * Sends every message, unchanged, to every open connection of its route: the seed's group chat.
 *
 * <pre>
 * alice → hello        alice ← hello   bob ← hello   carol ← hello
 * </pre>
 *
 * <p>By default the sender receives its own message too (as in the seed). {@link
 * Builder#excludeSender(boolean)} leaves it out. {@link Builder#roomParameter(String)} scopes the
 * broadcast by a path parameter: mounted on {@code /rooms/{room}/} with {@code
 * roomParameter("room")}, a message sent on {@code /rooms/blue/} reaches only the connections of
 * {@code /rooms/blue/}.
 *
 * <p>The scope is the router instance: mount one instance per route (mounting the same instance
 * on two routes makes them one audience). A connection leaves the audience when it closes;
 * sends to a connection that closes meanwhile fail quietly on that connection alone. Text is
 * sent as the same {@code String} to every recipient, binary as read-only views of one buffer.
 *
 * <h2>Several nodes</h2>
 * With a distributed {@link Relay} (given to the server), the audience is the route's (or the
 * room's) connections on every node: each message is delivered to this node's audience at once
 * and published once to the {@linkplain Relay.Topic#route() route} or {@linkplain
 * Relay.Topic#room room} topic; every other node delivers it to its own audience. A node is
 * subscribed to a room while it holds a connection in it. Across nodes delivery is at most once
 * (a node that cannot be reached misses the message), in each sender's order.
 * {@link #connectionCount()} and {@link #rooms()} count this node's connections only.
 */
public final class BroadcastRouter implements MessageRouter {

    private static final String WHOLE_ROUTE = "";

    private final boolean excludeSender;
    private final String roomParameter;
    private final ConnectionIndex audience = new ConnectionIndex();
    private volatile Relay.Channel relay = LocalRelay.channel();
    private boolean mounted;

    private BroadcastRouter(Builder builder) {
        this.excludeSender = builder.excludeSender;
        this.roomParameter = builder.roomParameter;
    }

    /** A router that broadcasts to every connection of its route, sender included. */
    public static BroadcastRouter create() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Opens the relay channel of the first route it is mounted on; further routes share it. */
    @Override
    public synchronized void onMount(RouteContext route) {
        if (!mounted) {
            mounted = true;
            relay = route.relay().open(route.route(), new Inbound());
        }
    }

    @Override
    public void onOpen(Connection connection) {
        String room = room(connection);
        audience.add(room, connection);
        relay.subscribe(topic(room));
    }

    @Override
    public void onText(Connection connection, String text) {
        String room = room(connection);
        for (Connection member : audience.get(room)) {
            if (!excludeSender || member != connection) {
                member.sendText(text);
            }
        }
        relay.publishText(topic(room), text);
    }

    @Override
    public void onBinary(Connection connection, ByteBuffer data) {
        String room = room(connection);
        for (Connection member : audience.get(room)) {
            if (!excludeSender || member != connection) {
                member.sendBinary(data);
            }
        }
        relay.publishBinary(topic(room), data);
    }

    @Override
    public void onClose(Connection connection, CloseStatus status) {
        String room = room(connection);
        audience.remove(room, connection);
        relay.unsubscribe(topic(room));
    }

    private static Relay.Topic topic(String room) {
        return room.equals(WHOLE_ROUTE) ? Relay.Topic.route() : Relay.Topic.room(room);
    }

    /** The number of open connections this router broadcasts to, over all rooms. */
    public int connectionCount() {
        return audience.size();
    }

    /** The rooms that have at least one open connection (a snapshot); {@code [""]} when not scoped by room. */
    public Set<String> rooms() {
        return audience.keys();
    }

    private String room(Connection connection) {
        if (roomParameter == null) {
            return WHOLE_ROUTE;
        }
        String room = connection.pathParameter(roomParameter);
        return room == null ? WHOLE_ROUTE : room;
    }

    /** Delivers what other nodes broadcast to this node's audience. */
    private final class Inbound implements Relay.Receiver {
        @Override
        public void onText(Relay.Topic topic, String text) {
            if (topic.kind() == Relay.Topic.Kind.USER) {
                return; // not a broadcast topic: this router never subscribes to one
            }
            for (Connection member : audience.get(key(topic))) {
                member.sendText(text);
            }
        }

        @Override
        public void onBinary(Relay.Topic topic, ByteBuffer data) {
            if (topic.kind() == Relay.Topic.Kind.USER) {
                return;
            }
            for (Connection member : audience.get(key(topic))) {
                member.sendBinary(data);
            }
        }

        private String key(Relay.Topic topic) {
            return topic.kind() == Relay.Topic.Kind.ROOM ? topic.key() : WHOLE_ROUTE;
        }
    }

    /** Options of a {@link BroadcastRouter}. */
    public static final class Builder {
        private boolean excludeSender;
        private String roomParameter;

        private Builder() {
        }

        /** Whether the sender is left out of its own broadcasts; default {@code false}. */
        public Builder excludeSender(boolean exclude) {
            this.excludeSender = exclude;
            return this;
        }

        /**
         * Broadcasts only among connections with the same value of this path parameter; default
         * none (the whole route). A connection whose route lacks the parameter joins the whole-route
         * audience.
         */
        public Builder roomParameter(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("room parameter name must not be blank");
            }
            this.roomParameter = name;
            return this;
        }

        public BroadcastRouter build() {
            return new BroadcastRouter(this);
        }
    }
}
