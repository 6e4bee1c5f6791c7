package io.github.wsrouter;

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
 * <p>The router keeps its audience in a {@link ConnectionGroups}, whose guarantees it has. The
 * scope is the router instance: mount one instance per route (mounting the same instance
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

    private final boolean excludeSender;
    private final String roomParameter;
    private final ConnectionGroups audience = ConnectionGroups.create();

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

    /**
     * Checks the route and opens the relay channel of the first route it is mounted on; further
     * routes share it.
     *
     * @throws IllegalArgumentException if the router is scoped by a room parameter that the
     *     route's template lacks: every connection would share one audience
     */
    @Override
    public void onMount(RouteContext route) {
        if (roomParameter != null && !route.hasParameter(roomParameter)) {
            throw new IllegalArgumentException("BroadcastRouter with roomParameter(\"" + roomParameter
                    + "\") cannot be mounted on " + route.route() + ": the template has no {" + roomParameter
                    + "}, so every connection would hear every room. Mount it on a template with {"
                    + roomParameter + "}" + alternatives(route.template().parameterNames())
                    + ", or leave out roomParameter for one audience per route");
        }
        audience.mount(route);
    }

    private static String alternatives(java.util.List<String> parameters) {
        if (parameters.isEmpty()) {
            return "";
        }
        StringBuilder names = new StringBuilder();
        for (String name : parameters) {
            names.append(names.length() == 0 ? "" : " or ")
                    .append("roomParameter(\"")
                    .append(name)
                    .append("\")");
        }
        return ", call " + names;
    }

    @Override
    public void onOpen(Connection connection) {
        if (roomParameter == null) {
            audience.add(connection);
        } else {
            audience.add(room(connection), connection);
        }
    }

    @Override
    public void onText(Connection connection, String text) {
        Connection except = excludeSender ? connection : null;
        if (roomParameter == null) {
            audience.broadcast(text, except);
        } else {
            audience.broadcastTo(room(connection), text, except);
        }
    }

    @Override
    public void onBinary(Connection connection, ByteBuffer data) {
        Connection except = excludeSender ? connection : null;
        if (roomParameter == null) {
            audience.broadcast(data, except);
        } else {
            audience.broadcastTo(room(connection), data, except);
        }
    }

    @Override
    public void onClose(Connection connection, CloseStatus status) {
        audience.remove(connection);
    }

    /** The number of open connections this router broadcasts to, over all rooms. */
    public int connectionCount() {
        return audience.size();
    }

    /** The rooms that have at least one open connection (a snapshot); {@code [""]} when not scoped by room. */
    public Set<String> rooms() {
        if (roomParameter == null) {
            return audience.size() == 0 ? Set.of() : Set.of("");
        }
        return audience.groups();
    }

    /** The connection's room: its path parameter, which the route was checked to have at mount. */
    private String room(Connection connection) {
        String room = connection.pathParameter(roomParameter);
        return room == null ? "" : room;
    }

    /** Options of a {@link BroadcastRouter}. */
    public static final class Builder {
        private boolean excludeSender;
        private String roomParameter;

        private Builder() {}

        /** Whether the sender is left out of its own broadcasts; default {@code false}. */
        public Builder excludeSender(boolean exclude) {
            this.excludeSender = exclude;
            return this;
        }

        /**
         * Broadcasts only among connections with the same value of this path parameter; default
         * none (the whole route). Every route the router is mounted on must have the parameter:
         * mounting on a template without it fails when the server is built.
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
