package io.github.wsrouter;

import io.github.wsrouter.internal.ConnectionIndex;
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
 */
public final class BroadcastRouter implements MessageRouter {

    private static final String WHOLE_ROUTE = "";

    private final boolean excludeSender;
    private final String roomParameter;
    private final ConnectionIndex audience = new ConnectionIndex();

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

    @Override
    public void onOpen(Connection connection) {
        audience.add(room(connection), connection);
    }

    @Override
    public void onText(Connection connection, String text) {
        for (Connection member : audience.get(room(connection))) {
            if (!excludeSender || member != connection) {
                member.sendText(text);
            }
        }
    }

    @Override
    public void onBinary(Connection connection, ByteBuffer data) {
        for (Connection member : audience.get(room(connection))) {
            if (!excludeSender || member != connection) {
                member.sendBinary(data);
            }
        }
    }

    @Override
    public void onClose(Connection connection, CloseStatus status) {
        audience.remove(room(connection), connection);
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
