package io.github.wsrouter.internal;

import io.github.wsrouter.WsOptions;
import java.time.Duration;
import java.util.Objects;

/** The checks of limits and timeouts, so that every builder refuses a bad value in the same words. */
public final class Checks {

    private Checks() {}

    /** @throws IllegalArgumentException "{name} must be at least {min}: {value}" */
    public static long atLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + ": " + value);
        }
        return value;
    }

    /** @throws IllegalArgumentException "{name} must be at least 1: {value}" */
    public static int positive(String name, int value) {
        return (int) atLeast(name, value, 1);
    }

    /** @throws IllegalArgumentException "{name} must be at least 1 ms: {duration}" */
    public static Duration positive(String name, Duration duration) {
        Objects.requireNonNull(duration, name);
        if (duration.toMillis() < 1) {
            throw new IllegalArgumentException(name + " must be at least 1 ms: " + duration);
        }
        return duration;
    }

    /** @throws IllegalArgumentException "{name} must not be negative: {duration}" */
    public static Duration notNegative(String name, Duration duration) {
        Objects.requireNonNull(duration, name);
        if (duration.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative: " + duration);
        }
        return duration;
    }

    /**
     * Checks a ping interval against an idle timeout: a connection idle for longer than the
     * timeout is dropped, so a timeout not longer than the interval drops every quiet client
     * before its first ping is even sent.
     *
     * @throws IllegalArgumentException if the idle timeout is not longer than the ping interval
     */
    public static void keepalive(String where, Duration pingInterval, Duration idleTimeout) {
        positive("ping interval", pingInterval);
        positive("idle timeout", idleTimeout);
        if (idleTimeout.compareTo(pingInterval) <= 0) {
            throw new IllegalArgumentException(where + "keepalive(" + pingInterval + ", " + idleTimeout
                    + "): the idle timeout must be longer than the ping interval, or every quiet client is "
                    + "dropped before it can answer a ping; for example keepalive(Duration.ofSeconds(25), "
                    + "Duration.ofSeconds(60))");
        }
    }

    /**
     * Refuses a route's options that set a server-wide field: relay, maxConnections, closeTimeout,
     * linger, maxPingsPerMinute, handshakeHook or allowedOrigins.
     *
     * @throws IllegalArgumentException naming the field and where it is set
     */
    public static void routeOptions(String template, WsOptions o) {
        String field = o.relay() != null || o.relayUri() != null
                ? "relay"
                : o.maxConnections() != null
                        ? "maxConnections"
                        : o.closeTimeout() != null
                                ? "closeTimeout"
                                : o.lingerTimeout() != null
                                        ? "linger"
                                        : o.maxPingsPerMinute() != null
                                                ? "maxPingsPerMinute"
                                                : o.handshakeHook() != null
                                                        ? "handshakeHook"
                                                        : o.allowedOrigins() != null ? "allowedOrigins" : null;
        if (field != null) {
            throw new IllegalArgumentException("route(\"" + template + "\", ..., options): " + field
                    + " is server-wide and cannot differ for one route: set it in the builder's "
                    + "options(WsOptions)");
        }
    }
}
