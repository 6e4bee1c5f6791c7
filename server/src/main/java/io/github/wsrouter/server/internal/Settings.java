package io.github.wsrouter.server.internal;

import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.PathTemplate;
import io.github.wsrouter.RateLimit;
import io.github.wsrouter.Relay;
import io.github.wsrouter.RouteContext;
import io.github.wsrouter.RouteOptions;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.internal.Checks;
import io.github.wsrouter.spi.RouteTable;
import io.github.wsrouter.spi.SendLimits;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * The routes, limits and hook that every server builder takes, validated in one place and shared
 * by the native and the Jakarta adapter. Not API: the public builders delegate to it.
 */
public final class Settings {

    /** A router on a template, with what the route does differently from the server. */
    public record Mount(PathTemplate template, MessageRouter router, RouteOptions options) {
        /** The executor for the route's callbacks; {@code null}: the IO thread. */
        public Executor executor() {
            return options.executor();
        }
    }

    /**
     * The limits one route's connections live under: the route's own where it set them, else the
     * server's.
     */
    public record Limits(
            int maxMessageSize,
            int maxFragments,
            int maxPingsPerMinute,
            SendLimits sendLimits,
            long pingMillis,
            long idleMillis,
            long closeTimeoutMillis,
            long lingerMillis,
            long lingerBytes) {}

    private final RouteTable<Mount> validated = new RouteTable<>();
    private final List<Mount> mounts = new ArrayList<>();
    private HandshakeHook hook;
    private int maxMessageSize = 64 * 1024;
    private Duration closeTimeout = Duration.ofSeconds(5);
    private Duration lingerTimeout = Duration.ofSeconds(2);
    private long lingerBytes = 16L * 1024 * 1024;
    private long sendBufferLimit = 1024 * 1024;
    private SendOverflow overflow = SendOverflow.CLOSE;
    private RateLimit rateLimit;
    private Duration pingInterval = Duration.ofSeconds(25);
    private Duration idleTimeout = Duration.ofSeconds(60);
    private int maxConnections = Integer.MAX_VALUE;
    private Relay relay = Relay.local();
    private int maxFragments = 1024;
    private int maxPingsPerMinute = 300;

    /** @throws IllegalArgumentException if the template is malformed or collides with a mounted one */
    public void route(String template, MessageRouter router, Executor executor) {
        route(
                template,
                router,
                executor == null
                        ? RouteOptions.defaults()
                        : RouteOptions.builder().executor(executor).build());
    }

    /** @throws IllegalArgumentException if the template is malformed or collides with a mounted one */
    public void route(String template, MessageRouter router, RouteOptions options) {
        Mount mount = new Mount(
                PathTemplate.parse(template),
                Objects.requireNonNull(router, "router"),
                Objects.requireNonNull(options, "options"));
        validated.add(mount.template(), mount);
        mounts.add(mount);
    }

    public void handshakeHook(HandshakeHook hook) {
        this.hook = hook;
    }

    public void maxMessageSize(int bytes) {
        this.maxMessageSize = Checks.positive("maxMessageSize", bytes);
    }

    public void closeTimeout(Duration timeout) {
        this.closeTimeout = Checks.positive("closeTimeout", timeout);
    }

    public void linger(Duration timeout, long bytes) {
        Checks.atLeast("linger bytes", bytes, 0);
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("linger timeout must not be negative: " + timeout);
        }
        this.lingerTimeout = timeout;
        this.lingerBytes = bytes;
    }

    public void sendBuffer(long maxQueuedBytes, SendOverflow overflow) {
        this.sendBufferLimit = Checks.atLeast("send buffer limit", maxQueuedBytes, 1);
        this.overflow = Objects.requireNonNull(overflow, "overflow");
    }

    public void rateLimit(RateLimit limit) {
        this.rateLimit = limit;
    }

    public void keepalive(Duration pingInterval, Duration idleTimeout) {
        Checks.keepalive("", pingInterval, idleTimeout);
        this.pingInterval = pingInterval;
        this.idleTimeout = idleTimeout;
    }

    public void maxFragments(int fragments) {
        this.maxFragments = Checks.positive("maxFragments", fragments);
    }

    public void maxPingsPerMinute(int pings) {
        this.maxPingsPerMinute = Checks.positive("maxPingsPerMinute", pings);
    }

    public void maxConnections(int max) {
        this.maxConnections = Checks.positive("maxConnections", max);
    }

    public void relay(Relay relay) {
        this.relay = Objects.requireNonNull(relay, "relay");
    }

    public Relay relay() {
        return relay;
    }

    /** Tells each router the route it is mounted on and the relay: once per built transport, before it serves. */
    public void mountRouters() {
        for (Mount mount : mounts) {
            mount.router().onMount(new RouteContext(mount.template().toString(), relay));
        }
    }

    /** @throws IllegalStateException if no route was added */
    public void requireRoutes() {
        if (mounts.isEmpty()) {
            throw new IllegalStateException("no route: add at least one with route(template, router)");
        }
    }

    public List<Mount> mounts() {
        return List.copyOf(mounts);
    }

    public HandshakeHook hook() {
        return hook;
    }

    /** The limits of a mounted route: its own options over the server's. */
    public Limits limits(Mount mount) {
        RouteOptions o = mount.options();
        SendLimits send = new SendLimits(
                o.sendBufferBytes() != null ? o.sendBufferBytes() : sendBufferLimit,
                o.overflow() != null ? o.overflow() : overflow,
                o.hasRateLimit() ? o.rateLimit() : rateLimit);
        return new Limits(
                o.maxMessageSize() != null ? o.maxMessageSize() : maxMessageSize,
                o.maxFragments() != null ? o.maxFragments() : maxFragments,
                maxPingsPerMinute,
                send,
                (o.pingInterval() != null ? o.pingInterval() : pingInterval).toMillis(),
                (o.idleTimeout() != null ? o.idleTimeout() : idleTimeout).toMillis(),
                closeTimeout.toMillis(),
                lingerTimeout.toMillis(),
                lingerBytes);
    }

    public int maxConnections() {
        return maxConnections;
    }

    /** A copy, so that a builder used again does not change what it built. */
    public Settings copy() {
        Settings copy = new Settings();
        mounts.forEach(m -> copy.route(m.template().toString(), m.router(), m.options()));
        copy.hook = hook;
        copy.maxMessageSize = maxMessageSize;
        copy.closeTimeout = closeTimeout;
        copy.lingerTimeout = lingerTimeout;
        copy.lingerBytes = lingerBytes;
        copy.sendBufferLimit = sendBufferLimit;
        copy.overflow = overflow;
        copy.rateLimit = rateLimit;
        copy.pingInterval = pingInterval;
        copy.idleTimeout = idleTimeout;
        copy.maxConnections = maxConnections;
        copy.relay = relay;
        copy.maxFragments = maxFragments;
        copy.maxPingsPerMinute = maxPingsPerMinute;
        return copy;
    }
}
