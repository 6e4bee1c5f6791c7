package io.github.wsrouter;

import java.nio.ByteBuffer;

/**
 * The strategy that decides what happens to the messages of the connections on one route.
 *
 * <p>A router is mounted on a {@link PathTemplate route} of a transport: the Undertow server, a
 * Jakarta WebSocket container or the in-memory test kit. One router instance serves every
 * connection of the routes it is mounted on, so it must be safe for use by many connections at
 * once; per-connection state belongs in {@link Connection#attributes()}.
 *
 * <h2>Lifecycle and ordering</h2>
 * For one connection the transport calls, in this order: {@link #onOpen} once; then {@link
 * #onText} and {@link #onBinary} for each message, in arrival order; then {@link #onClose}
 * exactly once, whether the peer closed, the server closed, the router failed or the network
 * dropped. {@link #onError} may come before {@code onClose}. Callbacks for one connection never
 * run concurrently and each sees the effects of the previous one; callbacks for different
 * connections do run concurrently.
 *
 * <h2>Threads</h2>
 * On the Undertow server the callbacks run by default on the connection's IO thread: they must
 * not block (no database calls, no {@code join()} on a send). A route registered with an
 * executor runs its callbacks there instead, still one at a time and in order per connection.
 * In the test kit they run on the thread that drives the test client.
 *
 * <h2>Failures</h2>
 * If a callback throws, the exception is logged once, {@link #onError} is called with it, and the
 * connection is closed with {@link CloseStatus#INTERNAL_ERROR 1011}; messages that arrive after
 * that are dropped. An exception thrown by {@code onError} or {@code onClose} is logged and
 * otherwise ignored.
 *
 * <p>Every method has a no-op default, so an implementation overrides only what it needs and
 * keeps its own superclass.
 */
public interface MessageRouter {

    /**
     * A client asks to open a connection on this router's route: accept (the default) or refuse
     * with an HTTP status before the upgrade. Runs after the server's {@link HandshakeHook}, whose
     * identity {@link HandshakeRequest#identity()} shows, on the server's IO thread.
     */
    default HandshakeDecision onHandshake(HandshakeRequest request) {
        return HandshakeDecision.accept();
    }

    /**
     * The router is mounted on a route: called by the transport once per route, before any of its
     * connections opens, with the route's template and the {@link Relay} that reaches the same
     * route on other nodes ({@link Relay#local()} unless the server was given another). A router
     * that delivers beyond its own connections opens its relay channel here; a router mounted
     * on several routes may be told several times. Nothing by default.
     */
    default void onMount(RouteContext route) {}

    /** A connection has completed the handshake and may be sent to. */
    default void onOpen(Connection connection) {}

    /** A complete text message arrived (fragments already reassembled). */
    default void onText(Connection connection, String text) {}

    /**
     * A complete binary message arrived. The buffer is the router's: read-only, not shared with
     * the transport, valid after the callback returns.
     */
    default void onBinary(Connection connection, ByteBuffer data) {}

    /**
     * The connection is closed; called exactly once. {@link Connection#isOpen()} is already
     * false and sends fail. The status is the one the peer sent, the one the server sent, or
     * {@link CloseStatus#ABNORMAL_CLOSURE 1006} when the connection dropped.
     */
    default void onClose(Connection connection, CloseStatus status) {}

    /**
     * A message of this connection was over the route's {@link RateLimit} with {@link
     * RateLimit.Exceeded#REPLY}: it was dropped, not given to {@link #onText} or {@link #onBinary},
     * and the router tells the sender in its own wire format. Called in order with the other
     * callbacks of the connection. By default the connection is closed with {@link
     * CloseStatus#POLICY_VIOLATION 1008} "rate limit exceeded", as a router without error replies
     * (echo, broadcast) has no other way to say it; {@link DirectedJsonRouter} answers {@code
     * {"error":"rate_limited",...}} and keeps the connection open.
     *
     * @param limit the limit the message was over
     */
    default void onRateLimited(Connection connection, RateLimit limit) {
        connection.close(CloseStatus.POLICY_VIOLATION.withReason("rate limit exceeded"));
    }

    /**
     * A callback of this router threw, or the transport failed. Called before {@link #onClose},
     * which follows in every case.
     */
    default void onError(Connection connection, Throwable error) {}
}
