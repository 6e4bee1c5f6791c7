package io.github.wsrouter;

import io.github.wsrouter.internal.LocalRelay;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CompletionStage;

/**
 * Delivery beyond this node: how the strategies reach connections held by other servers of the
 * same service. The default, {@link #local()}, reaches nobody else and changes nothing; {@code
 * wsrouter-redis} provides one over Redis pub/sub.
 *
 * <h2>Model</h2>
 * A relay carries messages between the nodes that mounted the same route. The transport {@link
 * MessageRouter#onMount tells} each router its route and the relay; the router {@link #open opens}
 * a {@link Channel} for its route, named by the route's template, so the same route on every node
 * shares one channel. Within it, a message is addressed to a {@link Topic}: the whole route, a
 * room, or a user. A node {@link Channel#subscribe subscribes} to the topics of its own
 * connections — while it holds at least one — and receives what other nodes publish to them.
 * A node delivers its own messages to its own connections itself: a relay never hands a node
 * back what that node published.
 *
 * <h2>Guarantees</h2>
 * At most once, nothing stored: a node that is not subscribed when a message is published never
 * gets it. Messages one node publishes to one topic reach every other node in the order they
 * were published. Never silently short: a relay that may have missed messages to a topic this node
 * holds (its link to the backend dropped, or it fell behind and dropped messages to bound its
 * memory) tells the topic's {@link Receiver#onGap receiver} once it receives the topic again, and
 * a stream with history is read back where it can be ({@link History.Receiver#onGap} where not). Publishing never blocks and never throws: it returns a stage that completes
 * with the number of nodes subscribed to the topic at that moment (this one included, when it
 * is subscribed), or fails when the relay cannot publish now (its backend is unreachable).
 *
 * <h2>Threads</h2>
 * Any method may be called from any thread, IO threads included. A {@link Receiver} is called
 * on a thread of the relay, one message at a time, in the order of arrival: it must not block.
 *
 * <h2>Lifecycle</h2>
 * A relay serves one server: each route {@linkplain #open opens} its channel once. {@code
 * WsServer} {@link #close() closes} the relay it was given when it stops; with {@code
 * WebSocketRoutes} or {@code JakartaRoutes} the caller does.
 */
public interface Relay extends AutoCloseable {

    /** The relay of a single node: publishes reach no other node (zero receivers), subscriptions do nothing. */
    static Relay local() {
        return LocalRelay.INSTANCE;
    }

    /**
     * A relay for a URI such as {@code redis://127.0.0.1:6379}, from the first {@link Provider}
     * on the class path (found with {@link ServiceLoader}) that supports its scheme: add {@code
     * wsrouter-redis} for {@code redis://} and {@code rediss://}.
     *
     * @throws IllegalArgumentException if no provider supports the URI
     * @throws RuntimeException whatever the provider throws when it cannot connect
     */
    static Relay create(URI uri) {
        Objects.requireNonNull(uri, "uri");
        for (Provider provider : ServiceLoader.load(Provider.class, Relay.class.getClassLoader())) {
            if (provider.supports(uri)) {
                return provider.create(uri);
            }
        }
        throw new IllegalArgumentException("no relay for " + uri.getScheme() + "://...: add the module that "
                + "provides it (wsrouter-redis for redis://) to the class path");
    }

    /**
     * Opens the channel of one route. Called once per route, before its connections open.
     *
     * @param route the route's name, the same on every node: its path template
     * @param receiver gets what other nodes publish to the topics this node subscribed to
     */
    Channel open(String route, Receiver receiver);

    /**
     * The streams with history of a route, kept where every node sees them: what a router needs
     * so that a client that reconnects, to this node or another, can resume where it stopped
     * ({@link DirectedJsonRouter.Builder#history}). {@link #local()} keeps them in this node's
     * memory; another relay keeps them in its backend (Redis Streams for wsrouter-redis).
     *
     * @param route the route's template, as for {@link #open}
     * @param maxMessages the most entries a stream keeps; older ones are forgotten first
     * @param maxAge how long an entry is kept, and a stream without readers
     * @param receiver gets every entry appended to a stream this node {@linkplain History#open
     *     reads}, from any node, in offset order per stream
     * @return the route's history, or {@code null} if this relay keeps none (the default)
     */
    default History history(String route, int maxMessages, Duration maxAge, History.Receiver receiver) {
        return null;
    }

    /**
     * Who is present in a route's groups on every node (the route's users, for {@code
     * DirectedJsonRouter.builder().presence(true)}), kept where every node sees it, with node
     * liveness: the members a node held leave everywhere when it stops or dies.
     *
     * @param route the route's template, as for {@link #open}
     * @param receiver hears each member's first arrival anywhere and last departure everywhere
     * @return the route's presence, or {@code null} if this relay keeps none (the default: each
     *     node knows its own connections only)
     */
    default Presence presence(String route, Presence.Receiver receiver) {
        return null;
    }

    /** The counters of this relay now. */
    default Stats stats() {
        return Stats.ZERO;
    }

    /** Releases the relay's connections; idempotent. Publishing afterwards fails. */
    @Override
    default void close() {}

    /** Where a message goes within a route: every connection, one room, or one user. */
    record Topic(Kind kind, String key) {

        /** The kinds of addressee. */
        public enum Kind {
            /** Every connection of the route; the key is empty. */
            ROUTE,
            /** The connections of one room. */
            ROOM,
            /** The connections of one user. */
            USER
        }

        private static final Topic WHOLE_ROUTE = new Topic(Kind.ROUTE, "");

        public Topic {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(key, "key");
        }

        /** Every connection of the route. */
        public static Topic route() {
            return WHOLE_ROUTE;
        }

        /** The connections of a room. */
        public static Topic room(String room) {
            return new Topic(Kind.ROOM, room);
        }

        /** The connections of a user. */
        public static Topic user(String user) {
            return new Topic(Kind.USER, user);
        }
    }

    /**
     * One route's channel on one node. Subscriptions are counted: a topic stays subscribed until
     * it was unsubscribed as many times as it was subscribed, so a router subscribes once for
     * each connection it holds and unsubscribes when that connection closes.
     */
    interface Channel {

        /** Starts (or keeps) receiving what other nodes publish to the topic. */
        void subscribe(Topic topic);

        /** Undoes one {@link #subscribe}; at zero the node stops receiving the topic. */
        void unsubscribe(Topic topic);

        /**
         * Completes once this node receives what other nodes publish to a topic it {@linkplain
         * #subscribe subscribed} to: the backend confirmed the subscription (at once on a single
         * node, the default). Until then a message another node publishes may not reach it: a
         * router that tells a client "you are in" waits for this first.
         */
        default CompletionStage<Void> subscribed(Topic topic) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }

        /**
         * Publishes a text message to the topic on the other nodes.
         *
         * @return a stage with the number of nodes subscribed to the topic, this one included;
         *     failed when the relay cannot publish now
         */
        CompletionStage<Integer> publishText(Topic topic, String text);

        /**
         * Publishes the buffer's remaining bytes to the topic on the other nodes; the buffer's
         * position is not changed.
         *
         * @return as {@link #publishText}
         */
        CompletionStage<Integer> publishBinary(Topic topic, ByteBuffer data);
    }

    /**
     * A route's streams with history ({@link #history}). A stream is named by the router (such as
     * {@code user:bob} or {@code everyone}); its entries are numbered from 1 (the offset), and its
     * epoch changes whenever its history was lost (a restart of an in-memory store, a flushed
     * backend), so that a client never takes one life's offsets for another's.
     */
    interface History extends AutoCloseable {

        /** Where a stream stands: its epoch and the offset of its last entry (0 before the first). */
        record Position(String epoch, long offset) {}

        /** One entry: the text as appended, without its offset. */
        record Entry(long offset, String text) {}

        /**
         * What a reader that resumes gets.
         *
         * @param entries the entries after the offset, in order (empty when {@code failure} is set)
         * @param failure {@code null} if the entries reach back to the offset; otherwise why not:
         *     {@code epoch_changed}, {@code history_gone} or {@code unknown_offset}
         * @param position where the stream stands
         */
        record Replay(List<Entry> entries, String failure, Position position) {}

        /** Gets the entries of the streams this node reads. */
        interface Receiver {

            /** An entry appended on any node, in offset order per stream. */
            void onEntry(String stream, long offset, String text);

            /**
             * Entries of the stream may not have reached this node and could not be read back
             * (a node repairs what it missed from the stream when it can, and then calls nothing):
             * the stream goes on after {@code position}, so the stream's readers here must be
             * told that what lies between what they had and {@code position} is lost to them.
             * Called in order with the entries; does nothing by default.
             *
             * @param reason {@code epoch_changed} (the backend lost the stream: {@code position}
             *     is the new epoch's start), {@code history_gone} (more was missed than the
             *     history keeps) or {@code history_unavailable} (the backend could not be read)
             * @param position where the entries that follow continue from
             */
            default void onGap(String stream, String reason, Position position) {}
        }

        /**
         * A reader of the stream opened on this node: the stream is made (with a new epoch) if it
         * does not exist, and this node receives its entries until the reader {@linkplain #close
         * closes}. Counted: a node reads a stream while it has readers of it.
         *
         * @return where the stream stood when the node began receiving it: every entry after it
         *     reaches the receiver
         */
        CompletionStage<Position> open(String stream);

        /** A reader that {@link #open} counted closed; a stream nobody reads is kept for the age bound. */
        void close(String stream);

        /**
         * Appends an entry and hands it to the receiver of every node that reads the stream.
         *
         * @param mustExist append only if the stream exists: it has a reader, or had one within
         *     the age bound
         * @return the entry's offset, or 0 if it was not appended; failed when the store cannot
         *     be reached
         */
        CompletionStage<Long> append(String stream, String text, boolean mustExist);

        /** The entries after the offset of the epoch, or why they cannot be had. */
        CompletionStage<Replay> since(String stream, String epoch, long offset);

        /** Releases what the history holds on this node; idempotent. */
        @Override
        default void close() {}
    }

    /**
     * A route's presence across nodes ({@link #presence}): each node says which members it holds in
     * which group (the route's users are the group {@code ""}), and every node keeps a view of
     * all of them, answered from memory.
     */
    interface Presence extends AutoCloseable {

        /** The route's own group: its users. */
        String USERS = "";

        /** This node holds the member in the group now (its first connection here opened). Idempotent. */
        void add(String group, String member);

        /** This node holds the member no more (its last connection here closed). Idempotent. */
        void remove(String group, String member);

        /**
         * The members of the group on every node, as this node knows them now (its own included
         * at once), sorted.
         */
        java.util.SortedSet<String> members(String group);

        /**
         * Whether {@link #members} may be out of date: the store cannot be reached (its answers
         * are what was last known), or this node is still reading it.
         */
        boolean stale();

        /**
         * Completes once this node's view of the group has been read from the store: at once for a
         * group it knows; for one it meets for the first time (a room's first member here), after
         * the store answered. {@link #members} is complete for the group from then on.
         */
        default java.util.concurrent.CompletionStage<Void> read(String group) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }

        /** Stops holding anything here: this node's members leave everywhere now; idempotent. */
        @Override
        default void close() {}

        /** Hears the group changes of every node, in the order the store made them. */
        interface Receiver {

            /** The member's first connection on any node opened: it is present now. */
            void onJoin(String group, String member);

            /** The member's last connection on every node closed, or its nodes stopped or died. */
            void onLeave(String group, String member);
        }
    }

    /** What a router does with a message another node published to a topic of its route. */
    interface Receiver {

        /** A text message for the connections of the topic on this node. */
        void onText(Topic topic, String text);

        /** A binary message (a read-only buffer) for the connections of the topic on this node; ignored by default. */
        default void onBinary(Topic topic, ByteBuffer data) {}

        /**
         * Messages other nodes published to the topic may not have reached this node: the
         * connections of the topic here must be told, or they would go on as if nothing happened
         * ({@link ConnectionGroups} closes them with {@link CloseStatus#MISSED_MESSAGES} by
         * default; {@link DirectedJsonRouter} sends them a {@code gap} notice). Called in order
         * with the messages: what arrived before was delivered, what follows arrives after the
         * gap. Does nothing by default.
         *
         * @param reason {@link #SUBSCRIPTION_LOST} or {@link #OVERFLOW}
         */
        default void onGap(Topic topic, String reason) {}

        /** The relay's link to its backend dropped (or the backend closed it): published meanwhile, lost. */
        String SUBSCRIPTION_LOST = "subscription_lost";

        /** The node fell behind and dropped messages to keep its memory bounded. */
        String OVERFLOW = "overflow";
    }

    /**
     * A relay's counters. The first four count messages; the rest count the ways a node can miss
     * messages, and what it did about it: each is a reason to look (docs/several-servers.md).
     *
     * @param published messages published to other nodes
     * @param publishFailures messages that could not be published (backend unreachable, timeout)
     * @param received messages received from other nodes and handed to a route
     * @param undecodable messages received that this node could not read, and ignored
     * @param subscriptionLosses times the link that receives dropped, or the backend closed it (a
     *     Redis pub/sub output buffer over its limit): what was published until it came back is lost
     * @param resubscriptions times the node received again after such a loss
     * @param offsetGaps times an entry of a stream with history arrived with offsets skipped
     * @param repaired entries missed and then read back from history, in order
     * @param gapsReported topics and streams whose connections were told of a gap ({@link
     *     Receiver#onGap}, {@link History.Receiver#onGap}), since nothing could repair it
     * @param inboundDropped messages dropped because the node fell behind by more than its bound
     * @param inboundPending received and not yet handed to a route now, in the relay's unit (for
     *     wsrouter-redis: characters)
     * @param presenceStale times a route's {@link Presence} view went stale (the store could not be
     *     reached); it is read again when the store is back
     */
    record Stats(
            long published,
            long publishFailures,
            long received,
            long undecodable,
            long subscriptionLosses,
            long resubscriptions,
            long offsetGaps,
            long repaired,
            long gapsReported,
            long inboundDropped,
            long inboundPending,
            long presenceStale) {

        /** All zero. */
        public static final Stats ZERO = new Stats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

        /** Message counters only, the rest zero. */
        public static Stats of(long published, long publishFailures, long received, long undecodable) {
            return new Stats(published, publishFailures, received, undecodable, 0, 0, 0, 0, 0, 0, 0, 0);
        }
    }

    /** Creates relays for URIs: register an implementation with {@link ServiceLoader}. */
    interface Provider {

        /** Whether this provider creates relays for the URI (typically by its scheme). */
        boolean supports(URI uri);

        /** A new relay, connected to the URI's backend. */
        Relay create(URI uri);
    }
}
