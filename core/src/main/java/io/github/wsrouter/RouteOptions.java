package io.github.wsrouter;

import io.github.wsrouter.internal.Checks;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * What one route does differently from the server's settings: its own limits, or an executor for
 * routers that block. Anything not set here is the server's.
 *
 * <pre>{@code
 * WsServer.builder()
 *         .maxMessageSize(64 * 1024)                      // every route...
 *         .route("/ws/{username}/", DirectedJsonRouter.create())
 *         .route("/upload/", uploads, RouteOptions.builder()
 *                 .maxMessageSize(8 * 1024 * 1024)        // ...but this one
 *                 .executor(blockingPool)
 *                 .build())
 *         .build();
 * }</pre>
 *
 * <p>Immutable; one instance may serve several routes.
 */
public final class RouteOptions {

    private static final RouteOptions NONE = new Builder().build();

    private final Executor executor;
    private final Integer maxMessageSize;
    private final Integer maxFragments;
    private final Long sendBufferBytes;
    private final SendOverflow overflow;
    private final RateLimit rateLimit;
    private final boolean rateLimitSet;
    private final Duration pingInterval;
    private final Duration idleTimeout;

    private RouteOptions(Builder builder) {
        this.executor = builder.executor;
        this.maxMessageSize = builder.maxMessageSize;
        this.maxFragments = builder.maxFragments;
        this.sendBufferBytes = builder.sendBufferBytes;
        this.overflow = builder.overflow;
        this.rateLimit = builder.rateLimit;
        this.rateLimitSet = builder.rateLimitSet;
        this.pingInterval = builder.pingInterval;
        this.idleTimeout = builder.idleTimeout;
    }

    /** Options that change nothing: the route runs on IO threads with the server's limits. */
    public static RouteOptions defaults() {
        return NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The executor for the route's callbacks, or {@code null} for the IO thread. */
    public Executor executor() {
        return executor;
    }

    /** The route's message size limit, or {@code null} for the server's. */
    public Integer maxMessageSize() {
        return maxMessageSize;
    }

    /** The route's fragments-per-message limit, or {@code null} for the server's. */
    public Integer maxFragments() {
        return maxFragments;
    }

    /** The route's send buffer bound, or {@code null} for the server's. */
    public Long sendBufferBytes() {
        return sendBufferBytes;
    }

    /** The route's overflow policy, or {@code null} for the server's. */
    public SendOverflow overflow() {
        return overflow;
    }

    /** Whether the route sets its own rate limit (which may be none). */
    public boolean hasRateLimit() {
        return rateLimitSet;
    }

    /** The route's rate limit if {@link #hasRateLimit()}; {@code null} means none. */
    public RateLimit rateLimit() {
        return rateLimit;
    }

    /** The route's ping interval, or {@code null} for the server's. */
    public Duration pingInterval() {
        return pingInterval;
    }

    /** The route's idle timeout, or {@code null} for the server's. */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    @Override
    public String toString() {
        return "RouteOptions[executor=" + executor + ", maxMessageSize=" + maxMessageSize + ", maxFragments="
                + maxFragments + ", sendBuffer=" + sendBufferBytes + " " + overflow + ", rateLimit="
                + (rateLimitSet ? rateLimit : "server's") + ", keepalive=" + pingInterval + "/" + idleTimeout + "]";
    }

    /** Options of one route; each setter overrides the server's value for this route alone. */
    public static final class Builder {
        private Executor executor;
        private Integer maxMessageSize;
        private Integer maxFragments;
        private Long sendBufferBytes;
        private SendOverflow overflow;
        private RateLimit rateLimit;
        private boolean rateLimitSet;
        private Duration pingInterval;
        private Duration idleTimeout;

        private Builder() {}

        /** Runs the route's callbacks on the executor, one at a time and in order per connection. */
        public Builder executor(Executor executor) {
            this.executor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /** The largest message accepted on this route, in bytes after reassembly. */
        public Builder maxMessageSize(int bytes) {
            this.maxMessageSize = Checks.positive("maxMessageSize", bytes);
            return this;
        }

        /** The most frames one message may come in on this route. */
        public Builder maxFragments(int fragments) {
            this.maxFragments = Checks.positive("maxFragments", fragments);
            return this;
        }

        /** The send buffer bound of this route's connections and what happens over it. */
        public Builder sendBuffer(long maxQueuedBytes, SendOverflow overflow) {
            this.sendBufferBytes = Checks.atLeast("send buffer limit", maxQueuedBytes, 1);
            this.overflow = Objects.requireNonNull(overflow, "overflow");
            return this;
        }

        /** This route's inbound rate limit; {@code null} turns off a limit the server sets. */
        public Builder rateLimit(RateLimit limit) {
            this.rateLimit = limit;
            this.rateLimitSet = true;
            return this;
        }

        /**
         * This route's ping interval and idle timeout.
         *
         * @throws IllegalArgumentException if the idle timeout is not longer than the ping interval
         */
        public Builder keepalive(Duration pingInterval, Duration idleTimeout) {
            Checks.keepalive("RouteOptions.", pingInterval, idleTimeout);
            this.pingInterval = pingInterval;
            this.idleTimeout = idleTimeout;
            return this;
        }

        public RouteOptions build() {
            return new RouteOptions(this);
        }
    }
}
