package io.github.wsrouter.server;

import io.github.wsrouter.RouteStats;
import java.util.Map;

/**
 * A server's counters at one moment.
 *
 * @param open the WebSocket connections open now, over all routes
 * @param routes each route's counters, by template, in the order the routes were added
 * @param rejectedHandshakes handshakes refused before the upgrade, by reason: {@code origin},
 *     {@code capacity}, or the HTTP status a hook or router answered ({@code 401}, {@code 403}, ...)
 * @param queuedBytes the bytes queued for sending and not yet written, summed over the open
 *     connections (see {@link io.github.wsrouter.Connection#queuedBytes()})
 */
public record ServerStats(
        long open, Map<String, RouteStats> routes, Map<String, Long> rejectedHandshakes, long queuedBytes) {

    /** All routes' counters summed. */
    public RouteStats total() {
        return routes.values().stream().reduce(RouteStats.ZERO, RouteStats::plus);
    }
}
