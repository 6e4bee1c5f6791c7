package io.github.wsrouter;

import io.github.wsrouter.internal.LocalRelay;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The connections a router sends to together: every member, and named groups of them (rooms,
 * users), on this node and, once {@linkplain #mount mounted} with a distributed {@link Relay}, on
 * every node that serves the route. The registry the built-in routers use, for routers of your
 * own; Django Channels calls it groups, Socket.IO rooms.
 *
 * <pre>{@code
 * public final class LobbyRouter implements MessageRouter {
 *     private final ConnectionGroups groups = ConnectionGroups.create();
 *
 *     public void onMount(RouteContext route) { groups.mount(route); }
 *     public void onOpen(Connection c)        { groups.add("lobby", c); }
 *     public void onText(Connection c, String text) {
 *         groups.broadcastTo("lobby", text, c); // everyone in the lobby but the sender
 *     }
 *     // nothing in onClose: a closed connection leaves every group by itself
 * }
 * }</pre>
 *
 * <h2>Membership</h2>
 * A connection is a member once {@linkplain #add(Connection) added}, and belongs to any number of
 * named groups ({@link #add(String, Connection)} makes it a member too). It leaves a group with
 * {@link #remove(String, Connection)}, everything with {@link #remove(Connection)}, and is
 * forgotten by itself when it closes: right after the router's {@link MessageRouter#onClose}
 * returns, so that {@code onClose} still finds it (for a "left" notice) and may remove it itself.
 * A group with no connection left is gone: nothing of a closed connection stays reachable. Every
 * method is thread-safe; reads are snapshots or weakly consistent live views.
 *
 * <h2>Broadcast</h2>
 * {@link #broadcastTo(String, String, Connection) broadcastTo} queues one message for each member of a
 * group on this node ({@link #broadcast(String, Connection) broadcast}: of every member), leaving out one connection if asked:
 * the same {@code String}, or read-only views of the same buffer, to each, so a transport encodes
 * it once. Each connection keeps its order: messages broadcast by one thread reach every member
 * in the order they were broadcast. A member that closes meanwhile fails its own send quietly;
 * the others are not affected. Sends never block.
 *
 * <h2>Across nodes</h2>
 * {@link #mount(RouteContext)}, from the router's {@link MessageRouter#onMount}, opens the route's
 * {@link Relay.Channel}. Then every broadcast is also published once, and every other node
 * delivers it to its own members: a broadcast without a group on the {@linkplain
 * Relay.Topic#route() route topic}, one to a group on the group's topic ({@linkplain
 * Relay.Topic#room room} topics for {@link #create()}, {@linkplain Relay.Topic#user user} topics
 * for {@link #byUser()}). A node is subscribed to a topic while it holds a member of it. What
 * crosses nodes is the broadcast message; membership, {@link #size}, {@link #members} and
 * {@link #groups()} are this node's. Delivery across nodes is at most once, in each sender's
 * order, as the relay guarantees. Without a mount, or with {@link Relay#local()}, broadcasts
 * reach this node only. Mount one instance on one route: a second mount is ignored.
 *
 * <p>Never silently: when the relay may have missed broadcasts to a topic ({@link
 * Relay.Receiver#onGap}: its link dropped, or the node fell behind), the members the topic
 * reaches on this node are closed with {@link CloseStatus#MISSED_MESSAGES} (4010), so their
 * clients reconnect; {@link #whenMissed} lets a router tell them in its own wire format instead.
 */
public final class ConnectionGroups {

    /** How one broadcast went. */
    public record Delivery(int local, CompletionStage<Integer> nodes) {
        /**
         * @param local the connections on this node the message was queued for
         * @param nodes the relay's answer: the number of nodes subscribed to the topic when it was
         *     published (zero on a single node); failed when the relay could not publish
         */
        public Delivery {
            Objects.requireNonNull(nodes, "nodes");
        }
    }

    private final Relay.Topic.Kind kind;
    private final ConcurrentHashMap<Connection, Membership> members = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<Connection>> byGroup = new ConcurrentHashMap<>();
    private volatile Relay.Channel channel = LocalRelay.channel();
    private volatile Missed missed = Missed.CLOSE;
    private boolean mounted;

    /** What to do with a member that may have missed broadcasts from other nodes. */
    @FunctionalInterface
    public interface Missed {

        /** Closes the member with {@link CloseStatus#MISSED_MESSAGES}: the default. */
        Missed CLOSE = (connection, topic, reason) ->
                connection.close(CloseStatus.MISSED_MESSAGES.withReason("missed messages: " + reason));

        /**
         * Tells one member on this node that broadcasts to the topic may not have reached it.
         * Called on the relay's thread, in order with the broadcasts: must not block.
         *
         * @param reason as {@link Relay.Receiver#onGap}
         */
        void missed(Connection connection, Relay.Topic topic, String reason);
    }

    private ConnectionGroups(Relay.Topic.Kind kind) {
        this.kind = kind;
    }

    /** Groups that are rooms: across nodes, a group's broadcasts travel on its room topic. */
    public static ConnectionGroups create() {
        return new ConnectionGroups(Relay.Topic.Kind.ROOM);
    }

    /**
     * Groups that are users, one group per user name: across nodes, a group's broadcasts travel
     * on its user topic, where {@link DirectedJsonRouter} sends to that user.
     */
    public static ConnectionGroups byUser() {
        return new ConnectionGroups(Relay.Topic.Kind.USER);
    }

    /**
     * Connects these groups to the route's other nodes: call it from {@link
     * MessageRouter#onMount}, before any member is added. The first call opens the route's relay
     * channel; later calls (the router mounted on another route) change nothing.
     */
    public synchronized void mount(RouteContext route) {
        Objects.requireNonNull(route, "route");
        if (!mounted) {
            mounted = true;
            channel = route.relay().open(route.route(), new Inbound());
        }
    }

    /**
     * As {@link #mount(RouteContext)}, on a channel of its own name beside the route's: for a
     * router that keeps a second set of groups on one route (users in one, rooms in another),
     * whose broadcasts must not meet. Every node must mount it under the same name.
     *
     * @param name a name for this set of groups within the route, such as {@code rooms}
     */
    public synchronized void mount(RouteContext route, String name) {
        Objects.requireNonNull(route, "route");
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a channel name must not be blank");
        }
        if (!mounted) {
            mounted = true;
            channel = route.relay().open(route.route() + "#" + name, new Inbound());
        }
    }

    /**
     * Sets what happens to each member on this node that a {@linkplain Relay.Receiver#onGap gap}
     * reaches (every member for the route topic, a group's members for its topic); by default
     * {@link Missed#CLOSE}. Routers that can tell in their wire format set it in their
     * constructor, or ignore gaps they repair another way.
     *
     * @return these groups
     */
    public ConnectionGroups whenMissed(Missed action) {
        this.missed = Objects.requireNonNull(action, "action");
        return this;
    }

    /** Adds a member, in no named group. Adding a member again changes nothing. */
    public void add(Connection connection) {
        Objects.requireNonNull(connection, "connection");
        for (; ; ) {
            Membership membership = membership(connection);
            synchronized (membership) {
                if (!membership.gone || !connection.isOpen()) {
                    return; // a member now, or closed and forgotten at once
                }
            }
        }
    }

    /**
     * Adds a connection to a group, and as a member.
     *
     * @return whether the group is new on this node: this is its first connection
     */
    public boolean add(String group, Connection connection) {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(connection, "connection");
        for (; ; ) {
            Membership membership = membership(connection);
            synchronized (membership) {
                if (membership.gone) {
                    if (!connection.isOpen()) {
                        return false; // closed: forgotten at once
                    }
                    continue; // removed meanwhile: start again with a new membership
                }
                if (!membership.groups.add(group)) {
                    return false;
                }
                boolean[] created = new boolean[1];
                byGroup.compute(group, (g, set) -> {
                    created[0] = set == null;
                    Set<Connection> inGroup = set == null ? ConcurrentHashMap.newKeySet() : set;
                    inGroup.add(connection);
                    return inGroup;
                });
                channel.subscribe(topic(group));
                return created[0];
            }
        }
    }

    /**
     * Takes a connection out of a group; it stays a member.
     *
     * @return whether the group is gone from this node: this was its last connection
     */
    public boolean remove(String group, Connection connection) {
        Membership membership = members.get(connection);
        if (membership == null) {
            return false;
        }
        synchronized (membership) {
            if (membership.gone || !membership.groups.remove(group)) {
                return false;
            }
            return leave(group, connection);
        }
    }

    /**
     * Completes once broadcasts that other nodes send to the group reach this node: its relay
     * confirmed the subscription, at once on a single node. A router that answers "you are in"
     * ({@link DirectedJsonRouter}'s {@code joined}) waits for it, so that nothing sent after the
     * answer misses the new member.
     */
    public CompletionStage<Void> ready(String group) {
        return channel.subscribed(topic(group));
    }

    /** Takes a connection out of every group and of the members. Removing a non-member changes nothing. */
    public void remove(Connection connection) {
        Membership membership = members.get(connection);
        if (membership == null) {
            return;
        }
        synchronized (membership) {
            if (membership.gone) {
                return;
            }
            membership.gone = true;
            for (String group : membership.groups) {
                leave(group, connection);
            }
            membership.groups.clear();
            members.remove(connection, membership);
            channel.unsubscribe(Relay.Topic.route());
        }
    }

    /** Every member on this node: a live, unmodifiable, weakly consistent view. */
    public Collection<Connection> members() {
        return Collections.unmodifiableSet(members.keySet());
    }

    /** The members of a group on this node: a live, unmodifiable, weakly consistent view; empty if none. */
    public Collection<Connection> members(String group) {
        Set<Connection> set = byGroup.get(group);
        return set == null ? Set.of() : Collections.unmodifiableSet(set);
    }

    /** The number of members on this node. */
    public int size() {
        return members.size();
    }

    /** The number of a group's connections on this node. */
    public int size(String group) {
        Set<Connection> set = byGroup.get(group);
        return set == null ? 0 : set.size();
    }

    /** Whether the group has a connection on this node. */
    public boolean contains(String group) {
        return byGroup.containsKey(group);
    }

    /** Whether the connection is a member. */
    public boolean contains(Connection connection) {
        return members.containsKey(connection);
    }

    /** The groups with at least one connection on this node: a snapshot. */
    public Set<String> groups() {
        return Set.copyOf(byGroup.keySet());
    }

    /** The groups a connection is in: a snapshot, empty for a non-member. */
    public Set<String> groupsOf(Connection connection) {
        Membership membership = members.get(connection);
        if (membership == null) {
            return Set.of();
        }
        synchronized (membership) {
            return Set.copyOf(membership.groups);
        }
    }

    /** Sends a text to every member, here and on the route's other nodes. */
    public Delivery broadcast(String text) {
        return broadcast(text, (Connection) null);
    }

    /** Sends a text to every member but one ({@code except}, may be {@code null}), here and on the other nodes. */
    public Delivery broadcast(String text, Connection except) {
        Objects.requireNonNull(text, "text");
        int local = sendText(members.keySet(), text, except);
        return new Delivery(local, channel.publishText(Relay.Topic.route(), text));
    }

    /** Sends a text to a group's connections, here and on the route's other nodes. */
    public Delivery broadcastTo(String group, String text) {
        return broadcastTo(group, text, null);
    }

    /** Sends a text to a group's connections but one ({@code except}, may be {@code null}), here and on the other nodes. */
    public Delivery broadcastTo(String group, String text, Connection except) {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(text, "text");
        int local = sendText(members(group), text, except);
        return new Delivery(local, channel.publishText(topic(group), text));
    }

    /** Sends the buffer's remaining bytes to every member but one ({@code except}, may be {@code null}). */
    public Delivery broadcast(ByteBuffer data, Connection except) {
        Objects.requireNonNull(data, "data");
        int local = sendBinary(members.keySet(), data, except);
        return new Delivery(local, channel.publishBinary(Relay.Topic.route(), data));
    }

    /** Sends the buffer's remaining bytes to a group's connections but one ({@code except}, may be {@code null}). */
    public Delivery broadcastTo(String group, ByteBuffer data, Connection except) {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(data, "data");
        int local = sendBinary(members(group), data, except);
        return new Delivery(local, channel.publishBinary(topic(group), data));
    }

    private static int sendText(Collection<Connection> targets, String text, Connection except) {
        int sent = 0;
        for (Connection target : targets) {
            if (target != except) {
                target.sendText(text);
                sent++;
            }
        }
        return sent;
    }

    private static int sendBinary(Collection<Connection> targets, ByteBuffer data, Connection except) {
        ByteBuffer shared = data.asReadOnlyBuffer();
        int sent = 0;
        for (Connection target : targets) {
            if (target != except) {
                target.sendBinary(shared);
                sent++;
            }
        }
        return sent;
    }

    /** The connection's membership, made (and its close watched) when it is new. */
    private Membership membership(Connection connection) {
        Membership existing = members.get(connection);
        if (existing != null) {
            return existing;
        }
        Membership made = new Membership();
        existing = members.putIfAbsent(connection, made);
        if (existing != null) {
            return existing;
        }
        channel.subscribe(Relay.Topic.route());
        // Runs at once for a connection that is already closed: nothing of it stays.
        connection.closeFuture().whenComplete((status, failure) -> remove(connection));
        return made;
    }

    /** Under the membership's lock: takes the connection out of the group's set. */
    private boolean leave(String group, Connection connection) {
        boolean[] emptied = new boolean[1];
        byGroup.computeIfPresent(group, (g, set) -> {
            if (set.remove(connection) && set.isEmpty()) {
                emptied[0] = true;
                return null;
            }
            return set;
        });
        channel.unsubscribe(topic(group));
        return emptied[0];
    }

    private Relay.Topic topic(String group) {
        return kind == Relay.Topic.Kind.USER ? Relay.Topic.user(group) : Relay.Topic.room(group);
    }

    /** The groups of one member; guarded by its own monitor. */
    private static final class Membership {
        final Set<String> groups = new HashSet<>(2);
        boolean gone;
    }

    /** Delivers what other nodes broadcast to this node's members. */
    private final class Inbound implements Relay.Receiver {
        @Override
        public void onText(Relay.Topic topic, String text) {
            sendText(targets(topic), text, null);
        }

        @Override
        public void onBinary(Relay.Topic topic, ByteBuffer data) {
            sendBinary(targets(topic), data, null);
        }

        @Override
        public void onGap(Relay.Topic topic, String reason) {
            Missed action = missed;
            for (Connection connection : targets(topic)) {
                try {
                    action.missed(connection, topic, reason);
                } catch (RuntimeException e) {
                    connection.close(CloseStatus.INTERNAL_ERROR);
                }
            }
        }

        private Collection<Connection> targets(Relay.Topic topic) {
            if (topic.kind() == Relay.Topic.Kind.ROUTE) {
                return members.keySet();
            }
            return topic.kind() == kind ? members(topic.key()) : List.of();
        }
    }

    @Override
    public String toString() {
        return "ConnectionGroups[" + members.size() + " members, " + byGroup.size() + " groups]";
    }
}
