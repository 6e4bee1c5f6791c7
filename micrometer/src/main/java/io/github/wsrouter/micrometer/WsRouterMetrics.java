package io.github.wsrouter.micrometer;

import io.github.wsrouter.Relay;
import io.github.wsrouter.RouteStats;
import io.github.wsrouter.server.ServerStats;
import io.github.wsrouter.server.WsServer;
import io.github.wsrouter.server.undertow.WebSocketRoutes;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * Publishes a wsrouter server's counters as Micrometer meters.
 *
 * <pre>{@code
 * WsServer server = WsServer.builder().port(8080).route("/echo/", EchoRouter.create()).build().start();
 * WsRouterMetrics.of(server).bindTo(registry);
 * }</pre>
 *
 * <h2>Cost</h2>
 * Nothing per message: the meters are {@link FunctionCounter}s and {@link Gauge}s over the
 * counters the server keeps anyway ({@link ServerStats}, {@link Relay.Stats}), read when the
 * registry reads them (a Prometheus scrape, a push). One snapshot of the server's counters serves
 * every meter read within 100 ms of it, so a scrape of all the meters takes one snapshot, not one
 * per meter. Without this module nothing of Micrometer is loaded.
 *
 * <h2>Meters</h2>
 * Per route, tagged {@code route} with the route's path template (such as {@code /ws/{username}/}):
 * <table>
 * <caption>Meters per route</caption>
 * <tr><th>name</th><th>type</th><th>what</th></tr>
 * <tr><td>{@code wsrouter.connections}</td><td>gauge</td><td>connections open now</td></tr>
 * <tr><td>{@code wsrouter.connections.opened}</td><td>counter</td><td>connections opened</td></tr>
 * <tr><td>{@code wsrouter.connections.closed}</td><td>counter</td><td>connections closed, for any reason</td></tr>
 * <tr><td>{@code wsrouter.messages.received}</td><td>counter</td><td>messages received from clients</td></tr>
 * <tr><td>{@code wsrouter.messages.sent}</td><td>counter</td><td>messages written to clients</td></tr>
 * <tr><td>{@code wsrouter.payload.received}</td><td>counter, bytes</td><td>payload bytes received, text
 *     counted as UTF-8</td></tr>
 * <tr><td>{@code wsrouter.payload.sent}</td><td>counter, bytes</td><td>payload written, counted the same way</td></tr>
 * <tr><td>{@code wsrouter.error.replies}</td><td>counter</td><td>error replies sent (bad JSON, unknown
 *     recipient, rate limit)</td></tr>
 * <tr><td>{@code wsrouter.slow.consumer.closes}</td><td>counter</td><td>connections closed with 4000
 *     because their send buffer overflowed</td></tr>
 * <tr><td>{@code wsrouter.messages.dropped}</td><td>counter</td><td>messages dropped because a send
 *     buffer was full</td></tr>
 * </table>
 * For the whole server:
 * <table>
 * <caption>Meters per server</caption>
 * <tr><th>name</th><th>type</th><th>what</th></tr>
 * <tr><td>{@code wsrouter.send.queued}</td><td>gauge, bytes</td><td>bytes queued for sending and not
 *     yet written, over every open connection</td></tr>
 * <tr><td>{@code wsrouter.handshakes.rejected}</td><td>counter, tag {@code reason}</td><td>handshakes
 *     refused before the upgrade: {@code origin}, {@code capacity}, or the HTTP status a hook or
 *     router answered ({@code 401}, {@code 403}, ...)</td></tr>
 * </table>
 * With a relay ({@link #of(Supplier, Supplier)}, or a {@link WsServer} given one):
 * <table>
 * <caption>Meters of the relay</caption>
 * <tr><th>name</th><th>type</th><th>what</th></tr>
 * <tr><td>{@code wsrouter.relay.published}</td><td>counter</td><td>messages published to other nodes</td></tr>
 * <tr><td>{@code wsrouter.relay.received}</td><td>counter</td><td>messages received from other nodes</td></tr>
 * <tr><td>{@code wsrouter.relay.publish.failures}</td><td>counter</td><td>messages that could not be
 *     published</td></tr>
 * <tr><td>{@code wsrouter.relay.dropped}</td><td>counter</td><td>messages received that could not be
 *     decoded, and dropped</td></tr>
 * </table>
 * In Prometheus' text format the names are written with underscores, counters end in
 * {@code _total} and the byte meters in {@code _bytes}: {@code wsrouter_payload_received_bytes_total},
 * {@code wsrouter_send_queued_bytes}.
 *
 * <p>{@code wsrouter.handshakes.rejected} is registered for {@code origin} and {@code capacity}
 * at once; the counter of a status first seen later is registered when the registry next reads
 * the binding's meters (the next scrape).
 *
 * <h2>Lifecycle</h2>
 * The routes are read when the binder is bound; a server's routes are fixed once it is built. The
 * meters stay registered after the server stops, reading its last counters. Bind one binder per
 * server to a registry; for several servers in one registry, tell them apart with
 * {@link #withTags(Iterable)}. Thread-safe.
 */
public final class WsRouterMetrics implements MeterBinder {

    private static final long MAX_AGE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final List<String> KNOWN_REASONS = List.of("origin", "capacity");

    private final Supplier<ServerStats> server;
    private final Supplier<Relay.Stats> relay;
    private final Tags tags;
    private final Readings readings;

    private WsRouterMetrics(Supplier<ServerStats> server, Supplier<Relay.Stats> relay, Tags tags) {
        this.server = Objects.requireNonNull(server, "server stats");
        this.relay = relay;
        this.tags = tags;
        this.readings = new Readings(server, relay);
    }

    /** The meters of a server, with its relay's when it was given one (not {@link Relay#local()}). */
    public static WsRouterMetrics of(WsServer server) {
        Objects.requireNonNull(server, "server");
        Relay relay = server.relay();
        return new WsRouterMetrics(server::stats, relay == Relay.local() ? null : relay::stats, Tags.empty());
    }

    /** The meters of routes mounted in an Undertow of your own. */
    public static WsRouterMetrics of(WebSocketRoutes routes) {
        Objects.requireNonNull(routes, "routes");
        return new WsRouterMetrics(routes::stats, null, Tags.empty());
    }

    /** The meters of whatever supplies the counters, without relay meters. */
    public static WsRouterMetrics of(Supplier<ServerStats> stats) {
        return new WsRouterMetrics(stats, null, Tags.empty());
    }

    /** The meters of whatever supplies the counters, and the relay meters from {@code relay}. */
    public static WsRouterMetrics of(Supplier<ServerStats> stats, Supplier<Relay.Stats> relay) {
        return new WsRouterMetrics(stats, Objects.requireNonNull(relay, "relay stats"), Tags.empty());
    }

    /** The same meters with these tags added to every one, such as {@code server=public}. */
    public WsRouterMetrics withTags(Iterable<Tag> extraTags) {
        return new WsRouterMetrics(server, relay, tags.and(extraTags));
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        ServerStats first = Objects.requireNonNull(server.get(), "server stats"); // not cached: no reads yet
        // Micrometer holds a meter's state weakly: this gauge holds the readings strongly, for every
        // meter of the binding, as long as the registry keeps it.
        Gauge.builder("wsrouter.send.queued", readings, r -> r.server().queuedBytes())
                .description("Bytes queued for sending and not yet written, over every open connection")
                .baseUnit(BaseUnits.BYTES)
                .tags(tags)
                .strongReference(true)
                .register(registry);
        for (String route : first.routes().keySet()) {
            Tags routeTags = tags.and("route", route);
            Gauge.builder("wsrouter.connections", readings, r -> r.route(route).open())
                    .description("WebSocket connections open now")
                    .tags(routeTags)
                    .strongReference(true)
                    .register(registry);
            counter(
                    registry,
                    "wsrouter.connections.opened",
                    "WebSocket connections opened",
                    null,
                    routeTags,
                    r -> r.route(route).opened());
            counter(
                    registry,
                    "wsrouter.connections.closed",
                    "WebSocket connections closed",
                    null,
                    routeTags,
                    r -> r.route(route).closed());
            counter(
                    registry,
                    "wsrouter.messages.received",
                    "Messages received from clients",
                    null,
                    routeTags,
                    r -> r.route(route).messagesIn());
            counter(
                    registry,
                    "wsrouter.messages.sent",
                    "Messages written to clients",
                    null,
                    routeTags,
                    r -> r.route(route).messagesOut());
            counter(
                    registry,
                    "wsrouter.payload.received",
                    "Payload bytes received, text counted as UTF-8",
                    BaseUnits.BYTES,
                    routeTags,
                    r -> r.route(route).bytesIn());
            counter(
                    registry,
                    "wsrouter.payload.sent",
                    "Payload bytes written, text counted as UTF-8",
                    BaseUnits.BYTES,
                    routeTags,
                    r -> r.route(route).bytesOut());
            counter(
                    registry,
                    "wsrouter.error.replies",
                    "Error replies sent",
                    null,
                    routeTags,
                    r -> r.route(route).errorReplies());
            counter(
                    registry,
                    "wsrouter.slow.consumer.closes",
                    "Connections closed because their send buffer overflowed",
                    null,
                    routeTags,
                    r -> r.route(route).slowConsumerCloses());
            counter(
                    registry,
                    "wsrouter.messages.dropped",
                    "Messages dropped because a send buffer was full",
                    null,
                    routeTags,
                    r -> r.route(route).droppedMessages());
        }
        readings.bind(registry, tags, first);
        if (relay != null) {
            counter(
                    registry,
                    "wsrouter.relay.published",
                    "Messages published to other nodes",
                    null,
                    tags,
                    r -> r.relay().published());
            counter(
                    registry,
                    "wsrouter.relay.received",
                    "Messages received from other nodes",
                    null,
                    tags,
                    r -> r.relay().received());
            counter(
                    registry,
                    "wsrouter.relay.publish.failures",
                    "Messages that could not be published",
                    null,
                    tags,
                    r -> r.relay().publishFailures());
            counter(
                    registry,
                    "wsrouter.relay.dropped",
                    "Messages received that could not be decoded",
                    null,
                    tags,
                    r -> r.relay().undecodable());
            counter(
                    registry,
                    "wsrouter.relay.subscription.losses",
                    "Times the link that receives from other nodes dropped, or the backend closed it",
                    null,
                    tags,
                    r -> r.relay().subscriptionLosses());
            counter(
                    registry,
                    "wsrouter.relay.resubscriptions",
                    "Times the node received from other nodes again after such a loss",
                    null,
                    tags,
                    r -> r.relay().resubscriptions());
            counter(
                    registry,
                    "wsrouter.relay.offset.gaps",
                    "Times an entry of a stream with history arrived with offsets skipped",
                    null,
                    tags,
                    r -> r.relay().offsetGaps());
            counter(
                    registry,
                    "wsrouter.relay.repaired",
                    "Entries missed and read back from history",
                    null,
                    tags,
                    r -> r.relay().repaired());
            counter(
                    registry,
                    "wsrouter.relay.gaps.reported",
                    "Topics and streams whose connections were told of messages they missed",
                    null,
                    tags,
                    r -> r.relay().gapsReported());
            counter(
                    registry,
                    "wsrouter.relay.inbound.dropped",
                    "Messages dropped because the node fell behind by more than its bound",
                    null,
                    tags,
                    r -> r.relay().inboundDropped());
            counter(
                    registry,
                    "wsrouter.relay.presence.stale",
                    "Times the presence across nodes went stale: the store could not be reached",
                    null,
                    tags,
                    r -> r.relay().presenceStale());
            Gauge.builder(
                            "wsrouter.relay.inbound.pending",
                            readings,
                            r -> r.relay().inboundPending())
                    .description("Received from other nodes and not yet handed to a route, in the relay's unit")
                    .tags(tags)
                    .strongReference(true)
                    .register(registry);
        }
    }

    private void counter(
            MeterRegistry registry,
            String name,
            String description,
            String baseUnit,
            Tags meterTags,
            ToDoubleFunction<Readings> value) {
        FunctionCounter.builder(name, readings, value)
                .description(description)
                .baseUnit(baseUnit)
                .tags(meterTags)
                .register(registry);
    }

    /**
     * The counters, read at most once per 100 ms, and the rejection counters,
     * registered as their reasons appear.
     */
    private static final class Readings {
        private final Supplier<ServerStats> server;
        private final Supplier<Relay.Stats> relay;
        private final Set<String> reasons = ConcurrentHashMap.newKeySet();
        private final List<Binding> bindings = new CopyOnWriteArrayList<>();
        private ServerStats serverStats;
        private long serverRead;
        private Relay.Stats relayStats;
        private long relayRead;

        private record Binding(MeterRegistry registry, Tags tags) {}

        Readings(Supplier<ServerStats> server, Supplier<Relay.Stats> relay) {
            this.server = server;
            this.relay = relay;
        }

        ServerStats server() {
            ServerStats stats;
            synchronized (this) {
                long now = System.nanoTime();
                if (serverStats == null || now - serverRead > MAX_AGE_NANOS) {
                    serverStats = Objects.requireNonNull(server.get(), "server stats");
                    serverRead = now;
                }
                stats = serverStats;
            }
            if (!reasons.containsAll(stats.rejectedHandshakes().keySet())) {
                stats.rejectedHandshakes().keySet().forEach(this::registerReason);
            }
            return stats;
        }

        RouteStats route(String template) {
            return server().routes().getOrDefault(template, RouteStats.ZERO);
        }

        synchronized Relay.Stats relay() {
            long now = System.nanoTime();
            if (relayStats == null || now - relayRead > MAX_AGE_NANOS) {
                relayStats = Objects.requireNonNull(relay.get(), "relay stats");
                relayRead = now;
            }
            return relayStats;
        }

        long rejected(String reason) {
            Map<String, Long> rejected = server().rejectedHandshakes();
            return rejected.getOrDefault(reason, 0L);
        }

        /** Registers the rejection counters known so far with a registry, and later ones as they appear. */
        void bind(MeterRegistry registry, Tags tags, ServerStats first) {
            Binding binding = new Binding(registry, tags);
            synchronized (bindings) {
                bindings.add(binding);
                KNOWN_REASONS.forEach(reasons::add);
                reasons.addAll(first.rejectedHandshakes().keySet());
                reasons.forEach(reason -> registerReason(binding, reason));
            }
        }

        private void registerReason(String reason) {
            synchronized (bindings) {
                if (reasons.add(reason)) {
                    bindings.forEach(binding -> registerReason(binding, reason));
                }
            }
        }

        private void registerReason(Binding binding, String reason) {
            FunctionCounter.builder("wsrouter.handshakes.rejected", this, r -> r.rejected(reason))
                    .description("WebSocket handshakes refused before the upgrade")
                    .tags(binding.tags().and("reason", reason))
                    .register(binding.registry());
        }
    }
}
