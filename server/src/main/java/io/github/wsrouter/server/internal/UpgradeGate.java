package io.github.wsrouter.server.internal;

import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.spi.Handshake;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.StatusCodes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What every upgrade to a route passes before an adapter opens it, the same on both adapters:
 * the origin check (403), the capacity check (503), the handshake hook and the router's {@code
 * onHandshake} (their status), and the answers to requests that are not an upgrade (426, 400).
 * Counts what it refuses, by reason.
 */
public final class UpgradeGate {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    private final OriginPolicy origins;
    private final int maxConnections;
    private final HandshakeHook hook;
    private final Rejections rejections = new Rejections();

    public UpgradeGate(Settings settings) {
        this.origins = settings.origins();
        this.maxConnections = settings.maxConnections();
        this.hook = settings.hook();
    }

    /**
     * The origin and capacity checks.
     *
     * @param open the connections open (or opening) now
     * @return whether the exchange may go on; if not, it was answered (403 or 503)
     */
    public boolean admit(HttpServerExchange exchange, int open) {
        if (origins.refuse(exchange, rejections)) {
            return false;
        }
        if (open >= maxConnections) {
            rejections.count("capacity");
            refuse(exchange, HandshakeDecision.reject(503, "too many connections"));
            return false;
        }
        return true;
    }

    /** Whether another connection would go over the limit; counts a refusal if so (for adapters that close instead). */
    public boolean full(int open) {
        if (open >= maxConnections) {
            rejections.count("capacity");
            return true;
        }
        return false;
    }

    /**
     * Runs the hook and the router's {@code onHandshake} on what the request says.
     *
     * @return the accepted handshake, or {@code null} if it was refused (and answered with its status)
     */
    public Handshake decide(
            HttpServerExchange exchange, String rawPath, Map<String, String> parameters, MessageRouter router) {
        Handshake.Decided decided = handshake(exchange, rawPath, parameters).decide(hook, router);
        if (decided.refusal() != null) {
            rejections.count(Integer.toString(decided.refusal().status()));
            refuse(exchange, decided.refusal());
            return null;
        }
        return decided.accepted();
    }

    /** Counts a handshake refused with this status elsewhere (a Jakarta container's close). */
    public void refused(int status) {
        rejections.count(Integer.toString(status));
    }

    /** The refused handshakes so far, by reason. */
    public Map<String, Long> rejections() {
        return rejections.snapshot();
    }

    /** What the request says, as a handshake not yet decided. */
    public static Handshake handshake(HttpServerExchange exchange, String rawPath, Map<String, String> parameters) {
        List<Map.Entry<String, HeaderValues>> headers =
                new ArrayList<>(exchange.getRequestHeaders().size());
        for (HeaderValues values : exchange.getRequestHeaders()) {
            headers.add(Map.entry(values.getHeaderName().toString(), values));
        }
        return new Handshake(
                rawPath, parameters, Handshake.parseQuery(exchange.getQueryString()), Handshake.headers(headers));
    }

    /** Answers a refused handshake with its status and reason, before any upgrade. */
    public static void refuse(HttpServerExchange exchange, HandshakeDecision refusal) {
        LOG.log(
                System.Logger.Level.INFO,
                () -> "refused WebSocket handshake to " + exchange.getRequestPath() + ": " + refusal.status() + " "
                        + refusal.reason());
        exchange.setStatusCode(refusal.status());
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseSender().send(refusal.reason() + "\n");
    }

    /** Answers a request to a route that is not a WebSocket upgrade: 426, or 400 for a malformed one. */
    public static void notAnUpgrade(HttpServerExchange exchange) {
        String upgrade = exchange.getRequestHeaders().getFirst(Headers.UPGRADE);
        if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
            exchange.setStatusCode(StatusCodes.UPGRADE_REQUIRED);
            exchange.getResponseHeaders().put(Headers.UPGRADE, "websocket");
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
            exchange.getResponseSender().send("This is a WebSocket endpoint: connect with a WebSocket client.\n");
        } else {
            exchange.setStatusCode(StatusCodes.BAD_REQUEST);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
            exchange.getResponseSender()
                    .send("Bad WebSocket handshake: a GET with Connection: Upgrade, "
                            + "Sec-WebSocket-Key and Sec-WebSocket-Version 13 is required.\n");
        }
    }

    /** The path of a request URI as sent: origin form, or the path of an absolute URI. */
    public static String rawPath(String requestUri) {
        if (requestUri.startsWith("/")) {
            return requestUri;
        }
        int scheme = requestUri.indexOf("://");
        if (scheme < 0) {
            return requestUri;
        }
        int slash = requestUri.indexOf('/', scheme + 3);
        return slash < 0 ? "/" : requestUri.substring(slash);
    }
}
