package io.github.wsrouter.redis;

import io.github.wsrouter.Relay;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ConnectionDeactivatedEvent;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import reactor.core.Disposable;

/**
 * A {@link Relay} over Redis pub/sub: servers that share one Redis and mount the same routes
 * form one service.
 *
 * <pre>{@code
 * WsServer.builder()
 *         .options(WsOptions.builder()
 *                 .relay(URI.create("redis://127.0.0.1:6379"))  // found through Relay.Provider
 *                 .build())
 *         .route("/ws/{username}/", DirectedJsonRouter.create())
 *         .build().start();
 * }</pre>
 *
 * <h2>Channels and envelopes</h2>
 * Each topic of each route is one Redis channel, {@code <prefix>:<route template>:<kind>:<key>},
 * e.g. {@code wsrouter:/ws/{username}/:user:bob}, so the same route on every node shares it. A
 * node publishes each message once ({@code PUBLISH}, whose answer is the number of subscribed
 * nodes) and is subscribed to a topic while a router holds it ({@code SUBSCRIBE} at the first
 * holder, {@code UNSUBSCRIBE} after the last). The message travels in a versioned JSON envelope
 * — {@code {"v":1,"origin":node,"route":...,"kind":"user","key":"bob","text":...}}, or {@code
 * "binary"} in Base64 — read with Gson. A node ignores its own envelopes (it delivered locally
 * already) and counts, then ignores, envelopes it cannot read: another version, malformed JSON.
 *
 * <h2>History</h2>
 * {@link #history} keeps a route's streams with history in Redis Streams, for {@code
 * DirectedJsonRouter.builder().history(...)} across nodes: one Lua script per append (offset,
 * {@code XADD ... MAXLEN ~}, {@code PUBLISH} of the entry on the stream's channel), so that
 * every node reading a stream gets its entries in offset order; {@code RedisHistory} describes the
 * keys, and docs/several-servers.md the costs.
 *
 * <h2>Threads</h2>
 * Nothing blocks: commands go through Lettuce's asynchronous API. What Redis delivers waits in a
 * bounded queue ({@link Builder#maxInboundBacklog}) and is handed to the {@link Relay.Receiver}s
 * on one thread of the relay ({@code wsrouter-redis-inbound-<node>}), in the order Redis
 * delivered it, so a slow route never stalls Lettuce's event loop.
 *
 * <h2>Gaps</h2>
 * Pub/sub keeps nothing: a message published while this node's subscription is away is lost to
 * it. The relay knows when that may have happened, counts it in {@link #stats()}, logs one
 * WARNING per event with the channels affected, and never lets it pass silently:
 * <ul>
 *   <li>the subscription connection dropped, or Redis closed it (its pub/sub output buffer
 *       passed {@code client-output-buffer-limit pubsub}): {@code subscriptionLosses}; once
 *       Lettuce has subscribed again ({@code resubscriptions}), each channel held hears of the
 *       gap, in order, when its new subscription is confirmed;
 *   <li>this node fell behind by more than the backlog bound: messages are dropped
 *       ({@code inboundDropped}) and each channel that lost one hears of it once per episode;
 *   <li>an entry of a stream with history skipped offsets ({@code offsetGaps}).
 * </ul>
 * A stream with history then reads what it missed back from Redis ({@code repaired}); anything
 * else, and a stream whose history no longer reaches back, goes to the route's {@code onGap}
 * ({@code gapsReported}), which tells its connections.
 *
 * <h2>When Redis is down</h2>
 * Publishing fails at once (commands are rejected while disconnected, never queued) or after the
 * {@linkplain Builder#commandTimeout command timeout} for commands under way, and is counted in
 * {@link Stats#publishFailures()}. A {@code PUBLISH} is never replayed after a reconnection, so
 * delivery stays at most once. Lettuce reconnects by itself (after 50 ms, doubling up to 1 s
 * between attempts) and subscribes again to every topic this node holds.
 */
public final class RedisRelay implements Relay {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.redis");

    private final String nodeId;
    private final String prefix;
    private final ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> publisher;
    private final StatefulRedisPubSubConnection<String, String> subscriber;
    private final Disposable events;
    private final Map<String, Route> routes = new ConcurrentHashMap<>();
    private final Map<String, RedisHistory> histories = new ConcurrentHashMap<>();
    /** Subscriptions that streams with history wait for, until Redis confirms them: guarded by {@link #wanted}. */
    private final Map<String, CompletableFuture<Void>> confirmations = new HashMap<>();
    /** Refreshes the expiry of the streams this node reads; made with the first history. */
    private ScheduledExecutorService scheduler;
    /** Each channel a router holds, with how many times: guarded by itself, which also orders (UN)SUBSCRIBE. */
    private final Map<String, Integer> wanted = new HashMap<>();
    /** Who holds each channel in {@link #wanted}: a route's topic or a history's stream. */
    private final Map<String, Target> targets = new ConcurrentHashMap<>();
    /** Channels held when the subscription dropped, until Redis confirms them again: guarded by {@link #wanted}. */
    private final Set<String> lost = new java.util.HashSet<>();
    /** The channels Redis confirmed on the current connection. */
    private final Set<String> confirmed = ConcurrentHashMap.newKeySet();

    private final Inbound inbound;
    /** The routes' presence, and this node's liveness, made with the first. */
    private final Map<String, RedisPresence> presences = new ConcurrentHashMap<>();

    private NodeLiveness liveness;
    /** Whether a connection to Redis was ever lost: activations after it are reconnections. */
    private volatile boolean lostConnection;

    private final Duration presenceTimeout;

    private final LongAdder published = new LongAdder();
    private final LongAdder publishFailures = new LongAdder();
    private final LongAdder received = new LongAdder();
    private final LongAdder undecodable = new LongAdder();
    private final LongAdder subscriptionLosses = new LongAdder();
    private final LongAdder resubscriptions = new LongAdder();
    private final LongAdder offsetGaps = new LongAdder();
    private final LongAdder repaired = new LongAdder();
    private final LongAdder gapsReported = new LongAdder();
    private final LongAdder presenceStale = new LongAdder();
    private volatile boolean closed;

    private RedisRelay(Builder builder) {
        this.nodeId =
                builder.nodeId != null ? builder.nodeId : UUID.randomUUID().toString();
        this.prefix = builder.prefix;
        this.presenceTimeout = builder.presenceTimeout;
        this.resources = ClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(
                        Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        RedisURI redisUri = RedisURI.create(builder.uri);
        redisUri.setTimeout(builder.commandTimeout);
        this.client = RedisClient.create(resources, redisUri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(builder.maxPendingCommands)
                // never sent twice: a PUBLISH, or an append (a script), would reach its readers twice
                .replayFilter(command -> command.getType() == CommandType.PUBLISH
                        || command.getType() == CommandType.EVALSHA
                        || command.getType() == CommandType.EVAL)
                .timeoutOptions(TimeoutOptions.enabled(builder.commandTimeout))
                .socketOptions(SocketOptions.builder()
                        .connectTimeout(builder.commandTimeout)
                        .build())
                .build());
        this.inbound = new Inbound(
                "wsrouter-redis-inbound-" + nodeId, builder.maxInboundBacklog, this::dispatch, this::overflowed);
        client.addListener(new io.lettuce.core.RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(io.lettuce.core.RedisChannelHandler<?, ?> connection) {
                if (connection == subscriber && !closed) {
                    subscriptionLost();
                }
            }
        });
        this.events = resources.eventBus().get().subscribe(event -> {
            if (event instanceof ConnectionDeactivatedEvent) {
                confirmed.clear();
                lostConnection = true;
            } else if (event instanceof ConnectionActivatedEvent) {
                loadScripts(); // a restarted Redis knows none
                resubscribe();
                if (lostConnection) { // not the first connections: Redis may have lost what presence held
                    presences.values().forEach(RedisPresence::reconnected);
                }
            }
        });
        try {
            this.publisher = client.connect();
            this.subscriber = client.connectPubSub();
        } catch (RuntimeException e) {
            shutdown();
            throw new IllegalStateException(
                    "cannot reach Redis at " + redisUri.getHost() + ":" + redisUri.getPort() + ": " + e.getMessage(),
                    e);
        }
        subscriber.addListener(new Listener());
    }

    /**
     * A relay with the defaults, connected to the Redis at the URI ({@code redis://host:port},
     * {@code rediss://} for TLS, with a password and a database as Lettuce reads them).
     *
     * @throws IllegalStateException if Redis cannot be reached now
     */
    public static RedisRelay create(URI uri) {
        return builder(uri).build();
    }

    public static Builder builder(URI uri) {
        return new Builder(uri);
    }

    /** This node's identifier in the envelopes it publishes. */
    public String nodeId() {
        return nodeId;
    }

    /** The Redis channel of a topic of a route. */
    public String channel(String route, Topic topic) {
        return prefix + ":" + route + ":" + topic.kind().name().toLowerCase(java.util.Locale.ROOT) + ":" + topic.key();
    }

    /** Whether Redis has confirmed this node's subscription to a topic of a route (on the current connection). */
    public boolean isSubscribed(String route, Topic topic) {
        return confirmed.contains(channel(route, topic));
    }

    @Override
    public Channel open(String route, Receiver receiver) {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(receiver, "receiver");
        Route channel = new Route(route, receiver);
        if (routes.putIfAbsent(route, channel) != null) {
            throw new IllegalStateException("route " + route + " is already open on this relay");
        }
        return channel;
    }

    /**
     * The route's streams with history, in Redis Streams ({@link RedisHistory} describes the keys):
     * every node that shares this Redis sees them, so a client that reconnects to another node
     * resumes too. Appends count as published (or as publish failures), the entries handed to
     * the receiver as received.
     *
     * @throws IllegalStateException if the route already has a history on this relay
     */
    @Override
    public History history(String route, int maxMessages, Duration maxAge, History.Receiver receiver) {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(maxAge, "maxAge");
        Objects.requireNonNull(receiver, "receiver");
        if (closed) {
            throw new IllegalStateException("relay closed");
        }
        RedisHistory history = new RedisHistory(this, route, maxMessages, maxAge, receiver);
        if (histories.putIfAbsent(route, history) != null) {
            history.close();
            throw new IllegalStateException("route " + route + " already has a history on this relay");
        }
        loadScripts(); // before any append: on the same connection, Redis runs them in order
        return history;
    }

    /**
     * The route's presence across nodes, in Redis ({@link RedisPresence} and {@link NodeLiveness}
     * describe the keys): members of every node, each node's view kept from a snapshot and the
     * changes after it; a node that dies has its members leave everywhere within {@link
     * Builder#presenceTimeout}.
     *
     * @throws IllegalStateException if the route already has a presence on this relay
     */
    @Override
    public Presence presence(String route, Presence.Receiver receiver) {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(receiver, "receiver");
        if (closed) {
            throw new IllegalStateException("relay closed");
        }
        synchronized (presences) {
            if (presences.containsKey(route)) {
                throw new IllegalStateException("route " + route + " already has a presence on this relay");
            }
            loadScripts(true);
            if (liveness == null) {
                liveness = new NodeLiveness(this, presenceTimeout);
            }
            RedisPresence presence = new RedisPresence(this, liveness, route, receiver);
            presences.put(route, presence);
            return presence;
        }
    }

    java.util.Collection<RedisPresence> presences() {
        return presences.values();
    }

    void countPresenceStale() {
        presenceStale.increment();
    }

    @Override
    public Stats stats() {
        return new Stats(
                published.sum(),
                publishFailures.sum(),
                received.sum(),
                undecodable.sum(),
                subscriptionLosses.sum(),
                resubscriptions.sum(),
                offsetGaps.sum(),
                repaired.sum(),
                gapsReported.sum(),
                inbound.dropped(),
                inbound.pending(),
                presenceStale.sum());
    }

    /** The most characters that waited at once to be handed to the routes (at most {@link Builder#maxInboundBacklog}). */
    public long inboundHighWater() {
        return inbound.highWater();
    }

    /** Closes the connections to Redis and stops Lettuce's threads; publishing then fails. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        NodeLiveness life;
        synchronized (presences) {
            life = liveness;
        }
        if (life != null) {
            life.stop(); // this node's members leave everywhere now, not after the timeout
        }
        closed = true;
        shutdown();
    }

    /** For tests: stops as a node that dies does, telling Redis nothing (its members stay until reaped). */
    void crash() {
        closed = true;
        shutdown();
    }

    private void shutdown() {
        events.dispose();
        if (inbound != null) {
            inbound.close();
        }
        synchronized (wanted) {
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
            confirmations.values().forEach(f -> f.completeExceptionally(new IllegalStateException("relay closed")));
            confirmations.clear();
            awaited.values().forEach(f -> f.completeExceptionally(new IllegalStateException("relay closed")));
            awaited.clear();
        }
        try {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        } finally {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }

    @Override
    public String toString() {
        return "RedisRelay[" + nodeId + "]";
    }

    private void hold(String channel, Target target) {
        synchronized (wanted) {
            if (wanted.merge(channel, 1, Integer::sum) == 1) {
                targets.put(channel, target);
                command(() -> subscriber.async().subscribe(channel), "SUBSCRIBE", channel);
            }
        }
    }

    private void release(String channel) {
        CompletableFuture<Void> pending;
        synchronized (wanted) {
            Integer count = wanted.get(channel);
            if (count == null) {
                return;
            }
            if (count > 1) {
                wanted.put(channel, count - 1);
                return;
            }
            wanted.remove(channel);
            targets.remove(channel);
            if (lost.remove(channel)) {
                resubscribed();
            }
            // no longer confirmed from now: a holder that comes back before Redis answers subscribes
            // again (after this UNSUBSCRIBE, on the same connection) and waits for that confirmation
            confirmed.remove(channel);
            command(() -> subscriber.async().unsubscribe(channel), "UNSUBSCRIBE", channel);
            // the same for a SUBSCRIBE still under way: its confirmation would come before this
            // UNSUBSCRIBE, so a holder that comes back must not take it for its own
            pending = confirmations.remove(channel);
        }
        if (pending != null) {
            pending.completeExceptionally(new IllegalStateException("released before Redis confirmed it"));
        }
    }

    /**
     * Holds a channel, as {@link #hold} does, and completes once Redis confirmed the subscription
     * on the current connection (at once if it had); fails if the {@code SUBSCRIBE} fails.
     */
    CompletableFuture<Void> subscribeConfirmed(String channel, RedisHistory history, String stream) {
        return subscribeConfirmed(channel, new Target(null, null, history, stream, null));
    }

    /** As {@link #subscribeConfirmed(String, RedisHistory, String)}, for a route's presence. */
    CompletableFuture<Void> subscribeConfirmed(String channel, RedisPresence presence) {
        return subscribeConfirmed(channel, new Target(null, null, null, null, presence));
    }

    private CompletableFuture<Void> subscribeConfirmed(String channel, Target target) {
        synchronized (wanted) {
            if (wanted.merge(channel, 1, Integer::sum) == 1) {
                targets.put(channel, target);
            }
            if (confirmed.contains(channel)) {
                return CompletableFuture.completedFuture(null);
            }
            CompletableFuture<Void> pending = confirmations.get(channel);
            if (pending != null) {
                return pending;
            }
            CompletableFuture<Void> confirmation = new CompletableFuture<>();
            if (closed) {
                confirmation.completeExceptionally(new IllegalStateException("relay closed"));
                return confirmation;
            }
            confirmations.put(channel, confirmation);
            try {
                // Lettuce completes a SUBSCRIBE with Redis's answer to it (not to an earlier one)
                subscriber.async().subscribe(channel).whenComplete((ok, failure) -> {
                    if (failure != null) {
                        failConfirmation(channel, confirmation, failure);
                    } else {
                        synchronized (wanted) {
                            confirmations.remove(channel, confirmation);
                        }
                        confirmation.complete(null);
                    }
                });
            } catch (RuntimeException e) {
                failConfirmation(channel, confirmation, e);
            }
            return confirmation;
        }
    }

    private void failConfirmation(String channel, CompletableFuture<Void> confirmation, Throwable failure) {
        synchronized (wanted) {
            confirmations.remove(channel, confirmation);
        }
        confirmation.completeExceptionally(failure);
    }

    /** Waiting for channels to be confirmed ({@link Route#subscribed}): guarded by {@link #wanted}. */
    private final Map<String, CompletableFuture<Void>> awaited = new HashMap<>();

    /** Completes when Redis has confirmed the channel on the current connection: at once if it has. */
    private CompletableFuture<Void> confirmedOnce(String channel) {
        synchronized (wanted) {
            if (confirmed.contains(channel)) {
                return CompletableFuture.completedFuture(null);
            }
            if (closed) {
                return CompletableFuture.failedFuture(new IllegalStateException("relay closed"));
            }
            return awaited.computeIfAbsent(channel, c -> new CompletableFuture<>());
        }
    }

    /** Undoes one {@link #subscribeConfirmed}. */
    void unsubscribe(String channel) {
        release(channel);
    }

    String prefix() {
        return prefix;
    }

    ScheduledExecutorService scheduler() {
        synchronized (wanted) {
            if (scheduler == null) {
                scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
                    Thread thread = new Thread(runnable, "wsrouter-redis-history-" + nodeId);
                    thread.setDaemon(true);
                    return thread;
                });
            }
            return scheduler;
        }
    }

    void forget(String route, RedisHistory history) {
        histories.remove(route, history);
    }

    void countReceived() {
        received.increment();
    }

    /**
     * A Lua script, sent by its SHA-1 ({@code EVALSHA}). The relay loads its scripts ({@code
     * SCRIPT LOAD}) when a route takes its history and whenever a connection to Redis is made,
     * on the connection that runs them, so that they are known before they are used. If Redis
     * does not know it anyway ({@code NOSCRIPT}), a script that may run late is sent whole
     * ({@code EVAL}); an {@code ordered} one fails instead, and the scripts are loaded again:
     * sent again later, it could overtake the ones sent after it (an append would take its
     * offset after theirs, and a sender's messages would arrive out of order).
     */
    record Script(String text, String sha, boolean ordered) {
        Script(String text, boolean ordered) {
            this(text, sha1(text), ordered);
        }

        private static String sha1(String text) {
            try {
                byte[] digest = java.security.MessageDigest.getInstance("SHA-1")
                        .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                StringBuilder hex = new StringBuilder();
                for (byte b : digest) {
                    hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
                }
                return hex.toString();
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Sends {@code SCRIPT LOAD} for the history's scripts, if a route has a history; failures are repaired by the next. */
    void loadScripts() {
        loadScripts(false);
    }

    private void loadScripts(boolean forPresence) {
        StatefulRedisConnection<String, String> connection = publisher; // null while the constructor connects
        if (connection == null || closed || (histories.isEmpty() && presences.isEmpty() && !forPresence)) {
            return;
        }
        List<Script> scripts = new ArrayList<>(RedisHistory.SCRIPTS);
        scripts.addAll(RedisPresence.SCRIPTS);
        scripts.addAll(NodeLiveness.SCRIPTS);
        for (Script script : scripts) {
            try {
                connection.async().scriptLoad(script.text()).whenComplete((sha, failure) -> {
                    if (failure != null && !closed) {
                        LOG.log(System.Logger.Level.DEBUG, () -> "SCRIPT LOAD failed: " + failure);
                    }
                });
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "SCRIPT LOAD failed: " + e);
            }
        }
    }

    /** Runs a script: failed when the relay is closed or Redis cannot be reached. */
    <T> CompletableFuture<T> script(Script script, ScriptOutputType type, String[] keys, String... args) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("relay closed"));
        }
        try {
            CompletableFuture<T> first =
                    publisher.async().<T>evalsha(script.sha(), type, keys, args).toCompletableFuture();
            return first.exceptionallyCompose(failure -> {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException c && c.getCause() != null
                        ? c.getCause()
                        : failure;
                if (cause instanceof RedisNoScriptException && !closed) {
                    if (script.ordered()) {
                        loadScripts();
                        return CompletableFuture.failedFuture(cause);
                    }
                    return publisher
                            .async()
                            .<T>eval(script.text(), type, keys, args)
                            .toCompletableFuture();
                }
                return CompletableFuture.failedFuture(cause);
            });
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** Counts an append as a publish, or a publish failure. */
    CompletionStage<Long> append(CompletableFuture<Long> append) {
        return append.whenComplete((offset, failure) -> {
            if (failure != null) {
                publishFailures.increment();
            } else if (offset > 0) {
                published.increment();
            }
        });
    }

    CompletionStage<Long> appendFailed(Throwable failure) {
        publishFailures.increment();
        return CompletableFuture.failedFuture(failure);
    }

    /**
     * Subscribes again to every channel held, after a reconnection: Lettuce resubscribes the
     * channels it had confirmed, this adds those whose SUBSCRIBE was refused while Redis was away.
     */
    private void resubscribe() {
        synchronized (wanted) {
            if (!wanted.isEmpty() && !closed) {
                String[] channels = wanted.keySet().toArray(String[]::new);
                command(() -> subscriber.async().subscribe(channels), "SUBSCRIBE", channels.length + " channels");
            }
        }
    }

    /** Issues a subscription command; a failure is logged and repaired by the next resubscription. */
    private void command(java.util.function.Supplier<RedisFuture<Void>> command, String name, String what) {
        if (closed) {
            return;
        }
        try {
            command.get().whenComplete((ok, failure) -> {
                if (failure != null && !closed) {
                    LOG.log(System.Logger.Level.DEBUG, () -> name + " " + what + " failed: " + failure);
                }
            });
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> name + " " + what + " failed: " + e);
        }
    }

    private CompletionStage<Integer> publish(String channel, String envelope) {
        if (closed) {
            publishFailures.increment();
            return CompletableFuture.failedFuture(new IllegalStateException("relay closed"));
        }
        RedisFuture<Long> future;
        try {
            future = publisher.async().publish(channel, envelope);
        } catch (RuntimeException e) {
            publishFailures.increment();
            return CompletableFuture.failedFuture(e);
        }
        return future.handle((receivers, failure) -> {
            if (failure != null) {
                publishFailures.increment();
                throw failure instanceof java.util.concurrent.CompletionException c
                        ? c
                        : new java.util.concurrent.CompletionException(failure);
            }
            published.increment();
            return (int) Math.min(Integer.MAX_VALUE, receivers);
        });
    }

    /** A message from Redis, on the inbound thread: to a stream with history, or to a route. */
    private void dispatch(String channel, String message) {
        if (!presences.isEmpty()) {
            Target target = targets.get(channel);
            if (target != null && target.presence() != null) {
                target.presence().deliver(message);
                return;
            }
        }
        if (channel.startsWith(prefix + ":") && channel.contains(":history:")) {
            Envelope.StreamEntry entry = Envelope.decodeEntry(message);
            if (entry != null) {
                RedisHistory history = histories.get(entry.route());
                if (history != null) {
                    try {
                        history.deliver(entry);
                    } catch (RuntimeException e) {
                        LOG.log(
                                System.Logger.Level.WARNING,
                                "the history receiver of route " + entry.route() + " failed",
                                e);
                    }
                }
                return;
            }
        }
        deliver(message);
    }

    /** Who holds a channel: a route's topic, or a stream with history. */
    private record Target(Route route, Topic topic, RedisHistory history, String stream, RedisPresence presence) {
        @Override
        public String toString() {
            if (presence != null) {
                return presence.route() + " presence";
            }
            return route != null
                    ? route.name + " " + topic.kind().name().toLowerCase(java.util.Locale.ROOT) + ":" + topic.key()
                    : history.route() + " stream " + stream;
        }
    }

    /** The subscription connection dropped: every channel held may miss what is published until it is back. */
    private void subscriptionLost() {
        synchronized (wanted) {
            subscriptionLosses.increment();
            confirmed.clear();
            lost.addAll(wanted.keySet());
            if (!lost.isEmpty()) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "node " + nodeId + " lost its Redis subscription (" + lost.size() + " channels: "
                                + some(describe(lost)) + "): messages published until Redis confirms it again "
                                + "are missed; streams with history read them back, other channels tell their "
                                + "connections");
            }
        }
    }

    /** Under {@link #wanted}: every lost channel is confirmed again (or let go). */
    private void resubscribed() {
        if (lost.isEmpty()) {
            resubscriptions.increment();
            LOG.log(System.Logger.Level.WARNING, "node " + nodeId + " is subscribed again to every channel it holds");
        }
    }

    /** A channel lost messages (on the inbound thread, in order): repaired from history, or reported. */
    private void gap(String channel, String reason) {
        Target target = targets.get(channel);
        if (target == null) {
            return; // let go meanwhile: nobody here to tell
        }
        if (target.history() != null) {
            target.history().catchUp(target.stream(), reason);
            return;
        }
        if (target.presence() != null) {
            if (reason.equals(Receiver.SUBSCRIPTION_LOST)) {
                target.presence().reconnected(); // state again what this node holds, then read the view
            } else {
                target.presence().resync();
            }
            return;
        }
        gapsReported.increment();
        try {
            target.route().receiver.onGap(target.topic(), reason);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the gap receiver of " + target + " failed", e);
        }
    }

    private void overflowed(String channel) {
        gap(channel, Receiver.OVERFLOW);
    }

    private java.util.List<String> describe(Set<String> channels) {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (String channel : channels) {
            Target target = targets.get(channel);
            names.add(target != null ? target.toString() : channel);
        }
        return names;
    }

    /** At most ten names, then how many more. */
    static String some(java.util.Collection<String> names) {
        java.util.List<String> sorted = new java.util.ArrayList<>(names);
        java.util.Collections.sort(sorted);
        String shown = String.join(", ", sorted.subList(0, Math.min(10, sorted.size())));
        return sorted.size() > 10 ? shown + " and " + (sorted.size() - 10) + " more" : shown;
    }

    /** Runs on the inbound thread after everything received so far. */
    void inbound(Runnable action) {
        inbound.control(action);
    }

    void countOffsetGap() {
        offsetGaps.increment();
    }

    /**
     * The level of a gap's log line: WARNING, once per event; DEBUG while the node is behind, which
     * was said once when it fell behind (each run of drops is a gap).
     */
    System.Logger.Level gapLevel() {
        return inbound.behind() ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING;
    }

    void countRepaired(int entries) {
        repaired.add(entries);
    }

    void countGapReported() {
        gapsReported.increment();
    }

    private void deliver(String text) {
        Envelope envelope = Envelope.decode(text);
        if (envelope == null) {
            undecodable.increment();
            return;
        }
        if (envelope.origin().equals(nodeId)) {
            return; // delivered locally when it was published
        }
        Route route = routes.get(envelope.route());
        if (route == null) {
            return; // a route this node does not serve
        }
        received.increment();
        try {
            if (envelope.text() != null) {
                route.receiver.onText(envelope.topic(), envelope.text());
            } else {
                route.receiver.onBinary(envelope.topic(), envelope.binary().asReadOnlyBuffer());
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "a receiver of route " + envelope.route() + " failed", e);
        }
    }

    /** One route's channel: topic names and envelopes for that route. */
    private final class Route implements Channel {
        private final String name;
        private final Receiver receiver;

        Route(String name, Receiver receiver) {
            this.name = name;
            this.receiver = receiver;
        }

        @Override
        public void subscribe(Topic topic) {
            hold(channel(name, topic), new Target(this, topic, null, null, null));
        }

        @Override
        public void unsubscribe(Topic topic) {
            release(channel(name, topic));
        }

        @Override
        public CompletionStage<Void> subscribed(Topic topic) {
            return confirmedOnce(channel(name, topic));
        }

        @Override
        public CompletionStage<Integer> publishText(Topic topic, String text) {
            return publish(channel(name, topic), Envelope.encode(nodeId, name, topic, text, null));
        }

        @Override
        public CompletionStage<Integer> publishBinary(Topic topic, ByteBuffer data) {
            return publish(channel(name, topic), Envelope.encode(nodeId, name, topic, null, data));
        }
    }

    private final class Listener extends RedisPubSubAdapter<String, String> {
        @Override
        public void message(String channel, String message) {
            inbound.offer(channel, message);
        }

        @Override
        public void subscribed(String channel, long count) {
            CompletableFuture<Void> waiting;
            synchronized (wanted) {
                confirmed.add(channel);
                waiting = awaited.remove(channel);
                if (lost.remove(channel)) {
                    // in order: what arrived before the loss was handed over, what follows comes after it
                    inbound.control(() -> gap(channel, Receiver.SUBSCRIPTION_LOST));
                    resubscribed();
                }
                if (!wanted.containsKey(channel)) {
                    // released while the SUBSCRIBE was under way, or resubscribed by Lettuce after an
                    // UNSUBSCRIBE that Redis never saw
                    command(() -> subscriber.async().unsubscribe(channel), "UNSUBSCRIBE", channel);
                }
            }
            if (waiting != null) {
                waiting.complete(null);
            }
        }

        @Override
        public void unsubscribed(String channel, long count) {
            synchronized (wanted) {
                confirmed.remove(channel);
                if (wanted.containsKey(channel)) {
                    command(() -> subscriber.async().subscribe(channel), "SUBSCRIBE", channel);
                }
            }
        }
    }

    /** Options of a {@link RedisRelay}. */
    public static final class Builder {
        private final URI uri;
        private String nodeId;
        private String prefix = "wsrouter";
        private Duration commandTimeout = Duration.ofSeconds(2);
        private int maxPendingCommands = 65_536;
        private long maxInboundBacklog = 32L * 1024 * 1024;
        private Duration presenceTimeout = Duration.ofSeconds(15);

        private Builder(URI uri) {
            this.uri = Objects.requireNonNull(uri, "uri");
        }

        /** This node's identifier in its envelopes; default a random UUID. Must differ between nodes. */
        public Builder nodeId(String id) {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("node id must not be blank");
            }
            this.nodeId = id;
            return this;
        }

        /** The first part of every channel name, to share one Redis between services; default {@code wsrouter}. */
        public Builder channelPrefix(String prefix) {
            if (prefix == null || prefix.isBlank()) {
                throw new IllegalArgumentException("channel prefix must not be blank");
            }
            this.prefix = prefix;
            return this;
        }

        /** How long a command (a publish) may wait for Redis before it fails, and the connect timeout; default 2 s. */
        public Builder commandTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("command timeout must be positive: " + timeout);
            }
            this.commandTimeout = timeout;
            return this;
        }

        /** The most commands sent and not yet answered; over it a publish fails at once. Default 65,536. */
        public Builder maxPendingCommands(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxPendingCommands must be at least 1: " + max);
            }
            this.maxPendingCommands = max;
            return this;
        }

        /**
         * The most this node keeps of what it received from Redis and could not yet hand to its
         * routes, in characters of the messages; default 32 Mi (as Redis's default hard limit for
         * a subscriber, {@code client-output-buffer-limit pubsub 32mb}). A node that falls
         * further behind drops what comes over the bound and treats it as a gap: streams with
         * history read it back, other channels tell their connections.
         */
        public Builder maxInboundBacklog(long characters) {
            if (characters < 1) {
                throw new IllegalArgumentException("maxInboundBacklog must be at least 1: " + characters);
            }
            this.maxInboundBacklog = characters;
            return this;
        }

        /**
         * How long after a node stops answering (it died, or lost Redis for good) its users leave on
         * the other nodes; default 15 s. A node refreshes its alive key every third of two thirds of
         * it, and every node looks for dead ones every quarter of that.
         */
        public Builder presenceTimeout(Duration timeout) {
            if (timeout.toMillis() < 50) {
                throw new IllegalArgumentException("presenceTimeout must be at least 50 ms: " + timeout);
            }
            this.presenceTimeout = timeout;
            return this;
        }

        /**
         * Connects to Redis.
         *
         * @throws IllegalStateException if Redis cannot be reached now
         */
        public RedisRelay build() {
            return new RedisRelay(this);
        }
    }
}
