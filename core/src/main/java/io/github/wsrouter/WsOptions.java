package io.github.wsrouter;

import io.github.wsrouter.internal.Checks;
import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * Every limit and policy of a server, or of one of its routes: one immutable type for the three
 * entry points ({@code WsServer}, {@code WebSocketRoutes}, {@code JakartaRoutes}). Each is
 * documented once, on its {@link Builder} setter, with its default and unit.
 *
 * <pre>{@code
 * WsServer.builder()
 *         .options(WsOptions.builder()
 *                 .maxMessageSize(64 * 1024)                  // every route...
 *                 .allowedOrigins(Set.of("https://app.example.com"), false)
 *                 .build())
 *         .route("/ws/{username}/", DirectedJsonRouter.create())
 *         .route("/upload/", uploads, WsOptions.builder()
 *                 .maxMessageSize(8 * 1024 * 1024)            // ...but this one
 *                 .executor(blockingPool)
 *                 .build())
 *         .build();
 * }</pre>
 *
 * <p>A field not set means "inherit": a route's options are laid field by field over the
 * server's, and the server's over {@link #defaults()}. The server-wide fields (relay, origins,
 * handshake hook, maxConnections, maxPingsPerMinute, closeTimeout, linger) are refused in a
 * route's options. The accessors return {@code null} for a field not set. Immutable; one instance
 * may serve several servers and routes.
 *
 * <p>Longer than 400 lines for a reason: it is the one place where every limit is documented.
 */
public final class WsOptions {

    private static final WsOptions DEFAULTS = new Builder()
            .maxMessageSize(64 * 1024)
            .maxFragments(1024)
            .maxPingsPerMinute(300)
            .sendBuffer(1024 * 1024, SendOverflow.CLOSE)
            .rateLimit(null)
            .keepalive(Duration.ofSeconds(25), Duration.ofSeconds(60))
            .closeTimeout(Duration.ofSeconds(5))
            .linger(Duration.ofSeconds(2), 16L * 1024 * 1024)
            .maxConnections(Integer.MAX_VALUE)
            .relay(Relay.local())
            .allowedOrigins(Set.of(), false)
            .build();

    private final Integer maxMessageSize;
    private final Integer maxFragments;
    private final Integer maxPingsPerMinute;
    private final Long sendBufferBytes;
    private final SendOverflow sendOverflow;
    private final RateLimit rateLimit;
    private final boolean rateLimitSet;
    private final Duration pingInterval;
    private final Duration idleTimeout;
    private final Duration closeTimeout;
    private final Duration lingerTimeout;
    private final Long lingerBytes;
    private final Integer maxConnections;
    private final HandshakeHook handshakeHook;
    private final Relay relay;
    private final URI relayUri;
    private final Set<String> allowedOrigins;
    private final Boolean requireOrigin;
    private final Executor executor;

    private WsOptions(Builder b) {
        this.maxMessageSize = b.maxMessageSize;
        this.maxFragments = b.maxFragments;
        this.maxPingsPerMinute = b.maxPingsPerMinute;
        this.sendBufferBytes = b.sendBufferBytes;
        this.sendOverflow = b.sendOverflow;
        this.rateLimit = b.rateLimit;
        this.rateLimitSet = b.rateLimitSet;
        this.pingInterval = b.pingInterval;
        this.idleTimeout = b.idleTimeout;
        this.closeTimeout = b.closeTimeout;
        this.lingerTimeout = b.lingerTimeout;
        this.lingerBytes = b.lingerBytes;
        this.maxConnections = b.maxConnections;
        this.handshakeHook = b.handshakeHook;
        this.relay = b.relay;
        this.relayUri = b.relayUri;
        this.allowedOrigins = b.allowedOrigins;
        this.requireOrigin = b.requireOrigin;
        this.executor = b.executor;
    }

    /**
     * The library's defaults, every limit set: 64 KiB messages, 1,024 fragments, 300 pings a
     * minute, a 1 MiB send buffer closed over, no rate limit, pings every 25 s and 60 s idle,
     * 5 s close timeout, lingering 2 s and 16 MiB, unlimited connections, {@link Relay#local()},
     * same-origin browsers, no hook, callbacks on the IO thread.
     */
    public static WsOptions defaults() {
        return DEFAULTS;
    }

    /** A builder with nothing set: what it does not set is inherited. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding what these options set, to change some of it. */
    public Builder toBuilder() {
        return new Builder().setFrom(this);
    }

    /** These options laid over {@code base}: each field these leave unset is {@code base}'s. */
    public WsOptions over(WsOptions base) {
        Objects.requireNonNull(base, "base");
        return base.toBuilder().setFrom(this).build();
    }

    /** {@link Builder#maxMessageSize}, or {@code null} if not set. */
    public Integer maxMessageSize() {
        return maxMessageSize;
    }

    /** {@link Builder#maxFragments}, or {@code null} if not set. */
    public Integer maxFragments() {
        return maxFragments;
    }

    /** {@link Builder#maxPingsPerMinute}, or {@code null} if not set. */
    public Integer maxPingsPerMinute() {
        return maxPingsPerMinute;
    }

    /** The bound of {@link Builder#sendBuffer}, or {@code null} if not set. */
    public Long sendBufferBytes() {
        return sendBufferBytes;
    }

    /** The policy of {@link Builder#sendBuffer}, or {@code null} if not set. */
    public SendOverflow sendOverflow() {
        return sendOverflow;
    }

    /** Whether {@link Builder#rateLimit} was called (with a limit, or {@code null} for none). */
    public boolean hasRateLimit() {
        return rateLimitSet;
    }

    /** {@link Builder#rateLimit}; {@code null} for none, or if not set (see {@link #hasRateLimit()}). */
    public RateLimit rateLimit() {
        return rateLimit;
    }

    /** The ping interval of {@link Builder#keepalive}, or {@code null} if not set. */
    public Duration pingInterval() {
        return pingInterval;
    }

    /** The idle timeout of {@link Builder#keepalive}, or {@code null} if not set. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    /** {@link Builder#closeTimeout}, or {@code null} if not set. */
    public Duration closeTimeout() {
        return closeTimeout;
    }

    /** The time bound of {@link Builder#linger}, or {@code null} if not set. */
    public Duration lingerTimeout() {
        return lingerTimeout;
    }

    /** The byte bound of {@link Builder#linger}, or {@code null} if not set. */
    public Long lingerBytes() {
        return lingerBytes;
    }

    /** {@link Builder#maxConnections}, or {@code null} if not set. */
    public Integer maxConnections() {
        return maxConnections;
    }

    /** {@link Builder#handshakeHook}, or {@code null} if not set. */
    public HandshakeHook handshakeHook() {
        return handshakeHook;
    }

    /** {@link Builder#relay(Relay)}, or {@code null} if not set. */
    public Relay relay() {
        return relay;
    }

    /** {@link Builder#relay(URI)}, or {@code null} if not set. */
    public URI relayUri() {
        return relayUri;
    }

    /** The origins of {@link Builder#allowedOrigins}, or {@code null} if not set. */
    public Set<String> allowedOrigins() {
        return allowedOrigins;
    }

    /** The flag of {@link Builder#allowedOrigins}, or {@code null} if not set. */
    public Boolean requireOrigin() {
        return requireOrigin;
    }

    /** {@link Builder#executor}, or {@code null} if not set (callbacks on the IO thread). */
    public Executor executor() {
        return executor;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("WsOptions[");
        field(s, "maxMessageSize", maxMessageSize);
        field(s, "maxFragments", maxFragments);
        field(s, "maxPingsPerMinute", maxPingsPerMinute);
        field(s, "sendBuffer", sendBufferBytes == null ? null : sendBufferBytes + " " + sendOverflow);
        field(s, "rateLimit", rateLimitSet ? String.valueOf(rateLimit) : null);
        field(s, "keepalive", pingInterval == null ? null : pingInterval + "/" + idleTimeout);
        field(s, "closeTimeout", closeTimeout);
        field(s, "linger", lingerTimeout == null ? null : lingerTimeout + "/" + lingerBytes);
        field(s, "maxConnections", maxConnections);
        field(s, "handshakeHook", handshakeHook);
        field(s, "relay", relay != null ? relay : relayUri);
        field(s, "allowedOrigins", allowedOrigins == null ? null : allowedOrigins + " require=" + requireOrigin);
        field(s, "executor", executor);
        return s.append(']').toString();
    }

    private static void field(StringBuilder s, String name, Object value) {
        if (value != null) {
            s.append(s.charAt(s.length() - 1) == '[' ? "" : ", ")
                    .append(name)
                    .append('=')
                    .append(value);
        }
    }

    /** Each setter sets one field; what is not set is inherited. */
    public static final class Builder {
        private Integer maxMessageSize;
        private Integer maxFragments;
        private Integer maxPingsPerMinute;
        private Long sendBufferBytes;
        private SendOverflow sendOverflow;
        private RateLimit rateLimit;
        private boolean rateLimitSet;
        private Duration pingInterval;
        private Duration idleTimeout;
        private Duration closeTimeout;
        private Duration lingerTimeout;
        private Long lingerBytes;
        private Integer maxConnections;
        private HandshakeHook handshakeHook;
        private Relay relay;
        private URI relayUri;
        private Set<String> allowedOrigins;
        private Boolean requireOrigin;
        private Executor executor;

        private Builder() {}

        /** Copies every field {@code o} sets over this builder's. */
        private Builder setFrom(WsOptions o) {
            if (o.maxMessageSize != null) maxMessageSize = o.maxMessageSize;
            if (o.maxFragments != null) maxFragments = o.maxFragments;
            if (o.maxPingsPerMinute != null) maxPingsPerMinute = o.maxPingsPerMinute;
            if (o.sendBufferBytes != null) {
                sendBufferBytes = o.sendBufferBytes;
                sendOverflow = o.sendOverflow;
            }
            if (o.rateLimitSet) {
                rateLimit = o.rateLimit;
                rateLimitSet = true;
            }
            if (o.pingInterval != null) {
                pingInterval = o.pingInterval;
                idleTimeout = o.idleTimeout;
            }
            if (o.closeTimeout != null) closeTimeout = o.closeTimeout;
            if (o.lingerTimeout != null) {
                lingerTimeout = o.lingerTimeout;
                lingerBytes = o.lingerBytes;
            }
            if (o.maxConnections != null) maxConnections = o.maxConnections;
            if (o.handshakeHook != null) handshakeHook = o.handshakeHook;
            if (o.relay != null || o.relayUri != null) {
                relay = o.relay;
                relayUri = o.relayUri;
            }
            if (o.allowedOrigins != null) {
                allowedOrigins = o.allowedOrigins;
                requireOrigin = o.requireOrigin;
            }
            if (o.executor != null) executor = o.executor;
            return this;
        }

        /**
         * The largest message accepted, in bytes after reassembly; default 64 KiB. A larger one
         * closes its connection with 1009, at once when its frame headers announce more: nothing
         * of it is buffered. Per route.
         */
        public Builder maxMessageSize(int bytes) {
            this.maxMessageSize = Checks.positive("maxMessageSize", bytes);
            return this;
        }

        /**
         * The most frames one message may come in; default 1,024. A message in more fragments
         * closes its connection with 1008 (empty fragments cost no memory, but each costs work).
         * Per route. On the Jakarta adapter, in Undertow's container only.
         */
        public Builder maxFragments(int fragments) {
            this.maxFragments = Checks.positive("maxFragments", fragments);
            return this;
        }

        /**
         * The most pings a connection may send in a minute; default 300. More closes it with
         * 1008. Server-wide. On the Jakarta adapter, in Undertow's container only.
         */
        public Builder maxPingsPerMinute(int pings) {
            this.maxPingsPerMinute = Checks.positive("maxPingsPerMinute", pings);
            return this;
        }

        /**
         * The bound of each connection's send buffer, in bytes queued and not yet written, and
         * what happens to a send over it; default 1 MiB and {@link SendOverflow#CLOSE} (closed
         * with 4000 "slow consumer"); {@link SendOverflow#DROP} drops the message for that
         * connection and counts it. Per route.
         */
        public Builder sendBuffer(long maxQueuedBytes, SendOverflow overflow) {
            this.sendBufferBytes = Checks.atLeast("send buffer limit", maxQueuedBytes, 1);
            this.sendOverflow = Objects.requireNonNull(overflow, "overflow");
            return this;
        }

        /**
         * An inbound message rate limit per connection, such as {@code new RateLimit(20, 40,
         * RateLimit.Exceeded.REPLY)}; default none. {@code null} turns off a limit that would be
         * inherited. Per route.
         */
        public Builder rateLimit(RateLimit limit) {
            this.rateLimit = limit;
            this.rateLimitSet = true;
            return this;
        }

        /**
         * Pings every connection at the interval and drops one from which nothing (no message, no
         * pong) has arrived for the idle timeout; defaults 25 s and 60 s. The router sees 1001
         * "idle timeout". Per route. On the Jakarta adapter, in Undertow's container only.
         *
         * @throws IllegalArgumentException if the idle timeout is not longer than the ping interval
         */
        public Builder keepalive(Duration pingInterval, Duration idleTimeout) {
            Checks.keepalive("", pingInterval, idleTimeout);
            this.pingInterval = pingInterval;
            this.idleTimeout = idleTimeout;
            return this;
        }

        /**
         * How long to wait for the peer's answer to our close frame before dropping the socket;
         * default 5 s. Server-wide.
         */
        public Builder closeTimeout(Duration timeout) {
            this.closeTimeout = Checks.positive("closeTimeout", timeout);
            return this;
        }

        /**
         * How long, and how many bytes, the server keeps reading and discarding what a client
         * still sends after the server closed it for a violation (1002, 1007, 1008, 1009) before
         * it drops the socket; defaults 2 s and 16 MiB. Dropping a socket with unread bytes in it
         * answers them with a TCP reset, and a reset discards the close frame on the client's side
         * before it is read: a client that was in the middle of writing (a message over the limit,
         * say) would see 1006 instead of the close code. Lingering ends early at the client's
         * close frame or at end of stream; over either bound the socket is dropped. {@code
         * Duration.ZERO} or 0 bytes turn it off. Server-wide.
         */
        public Builder linger(Duration timeout, long maxBytes) {
            Checks.atLeast("linger bytes", maxBytes, 0);
            this.lingerTimeout = Checks.notNegative("linger timeout", timeout);
            this.lingerBytes = maxBytes;
            return this;
        }

        /**
         * The most WebSocket connections open at once; over it a handshake gets 503. Default
         * unlimited. Server-wide.
         */
        public Builder maxConnections(int max) {
            this.maxConnections = Checks.positive("maxConnections", max);
            return this;
        }

        /**
         * Runs on every handshake before the route's {@code onHandshake}: authenticate (for
         * example a signed token offered as a subprotocol), attach an identity, or refuse with an
         * HTTP status before the upgrade. Default none. Server-wide. See {@link HandshakeHook};
         * in a Jakarta container other than {@code WsServer}'s, a refusal becomes a close with 1008.
         */
        public Builder handshakeHook(HandshakeHook hook) {
            this.handshakeHook = Objects.requireNonNull(hook, "hook");
            return this;
        }

        /**
         * Reaches the routes' connections on other servers through this relay, for the routers
         * that use one ({@code BroadcastRouter}, {@code DirectedJsonRouter}); default {@link
         * Relay#local()}, this server alone. {@code WsServer} closes it when it stops; the caller
         * of {@code WebSocketRoutes} or {@code JakartaRoutes} closes it. Server-wide.
         */
        public Builder relay(Relay relay) {
            this.relay = Objects.requireNonNull(relay, "relay");
            this.relayUri = null;
            return this;
        }

        /**
         * The relay for this URI, such as {@code redis://127.0.0.1:6379} ({@code wsrouter-redis}
         * on the class path), created with {@link Relay#create(URI)} when a {@code WsServer} is
         * built; the server closes it when it stops. Only {@code WsServer} takes a URI: the
         * adapters mounted in your own Undertow take a {@link #relay(Relay) Relay}. Server-wide.
         */
        public Builder relay(URI uri) {
            this.relayUri = Objects.requireNonNull(uri, "uri");
            this.relay = null;
            return this;
        }

        /**
         * Browser origins allowed besides the server's own, such as {@code
         * https://app.example.com}; {@code *} allows every origin. By default only same-origin
         * browser pages may connect: a handshake from another origin, or with {@code Origin:
         * null}, is refused with 403 before any upgrade (cross-site WebSocket hijacking).
         * Server-wide.
         *
         * @param requireOrigin whether a handshake without {@code Origin} (a non-browser client)
         *     is refused too; default {@code false}
         */
        public Builder allowedOrigins(Collection<String> origins, boolean requireOrigin) {
            this.allowedOrigins = Set.copyOf(origins);
            this.requireOrigin = requireOrigin;
            return this;
        }

        /**
         * Runs the callbacks on the executor, one at a time and in order per connection: for
         * routers that block (a database, a remote call). Default none: callbacks run on the
         * connection's IO thread (the container's thread on Jakarta) and must not block.
         */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        public WsOptions build() {
            return new WsOptions(this);
        }
    }
}
