package io.github.wsrouter;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentMap;

/**
 * One WebSocket connection, as a {@link MessageRouter} sees it, whatever transport is under it.
 *
 * <h2>The handshake</h2>
 * {@link #path()}, {@link #pathParameters()}, {@link #queryParameters()} and {@link #headers()}
 * describe the HTTP request that opened the connection; they never change. Path parameters are
 * percent-decoded; header names are case-insensitive.
 *
 * <h2>Sending</h2>
 * {@link #sendText}, {@link #sendBinary} and {@link #close} may be called from any thread. They
 * never block and never throw for a closed or failing peer: each returns at once a stage that
 * completes when the frame has been handed to the network, or fails, with {@link
 * ConnectionClosedException} when the connection was closed first. Frames sent to one
 * connection are written whole, one after another, in the order the calls were made: frames
 * never interleave, and messages from one sender to one connection arrive in the order they were
 * sent. Dependent stages may run on the transport's IO thread; keep them short.
 *
 * <h2>Closing</h2>
 * {@link #close(CloseStatus)} sends the close frame after the frames already queued; sends made
 * after it fail. The router's {@link MessageRouter#onClose} follows once the closing handshake is
 * done, or at once when the transport drops the connection.
 */
public interface Connection {

    /** An identifier unique among the connections of this process, stable for the connection's life. */
    String id();

    /** The request path that opened the connection, without the query string. */
    String path();

    /** The parameters of the route's path template, percent-decoded; e.g. {@code username}. */
    Map<String, String> pathParameters();

    /** One path parameter, or {@code null} if the route has no parameter of that name. */
    default String pathParameter(String name) {
        return pathParameters().get(name);
    }

    /** The query parameters of the request, percent-decoded, each with all its values in order. */
    Map<String, List<String>> queryParameters();

    /** The first value of a query parameter, or {@code null} if the request had none of that name. */
    default String queryParameter(String name) {
        List<String> values = queryParameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The request headers, with case-insensitive names, each with all its values in order. */
    Map<String, List<String>> headers();

    /** The first value of a request header (name case-insensitive), or {@code null}. */
    default String header(String name) {
        List<String> values = headers().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /**
     * Who this connection is: the identity the handshake decided ({@link
     * HandshakeDecision#acceptAs}, from a {@link HandshakeHook} or the router's {@link
     * MessageRouter#onHandshake}), or {@code null} when none did. Set before the connection opens
     * and never changed: no router can overwrite it.
     */
    String identity();

    /**
     * The subprotocol the handshake chose and the server echoed in {@code Sec-WebSocket-Protocol}
     * (see {@link HandshakeDecision#withSubprotocol}), or {@code null} if none was.
     */
    String subprotocol();

    /**
     * The router's own state for this connection: thread-safe, empty at open, gone with the
     * connection. Nothing of the library's is kept here: {@link #identity()} and {@link
     * #subprotocol()} are not attributes.
     */
    ConcurrentMap<String, Object> attributes();

    /**
     * The bytes queued for sending and not yet written: how far the peer is behind, with text
     * counted as its UTF-8 bytes, the payload that goes on the wire. Over the transport's bound,
     * its {@link SendOverflow} policy applies.
     */
    long queuedBytes();

    /** Whether frames may still be sent: false once a close was sent or received, or the connection dropped. */
    boolean isOpen();

    /**
     * Queues a text message.
     *
     * @return a stage that completes when the frame is written, or fails
     */
    CompletionStage<Void> sendText(String text);

    /**
     * Queues a binary message with the buffer's remaining bytes. The buffer's position is not
     * changed; its content must not change until the returned stage completes.
     *
     * @return a stage that completes when the frame is written, or fails
     */
    CompletionStage<Void> sendBinary(ByteBuffer data);

    /**
     * Sends a text that tells the peer its message was refused: a {@link #sendText} that the
     * route's statistics count as an error reply ({@code RouteStats.errorReplies}), with the same
     * guarantees. The text is sent as it is: its format is the router's wire format. The
     * built-in JSON router sends one object with a stable code and a human-readable detail, and
     * routers of your own are encouraged to do the same:
     * <pre>{@code
     * connection.sendError("{\"error\":\"unknown_command\",\"detail\":\"no command 'jump'\"}");
     * }</pre>
     */
    default CompletionStage<Void> sendError(String text) {
        return sendText(text);
    }

    /**
     * Starts the closing handshake with the given status, after the frames already queued. A
     * second call, or a call on a closed connection, returns a completed stage and sends nothing.
     *
     * @param status a status that {@link CloseStatus#isSendable() may be sent}
     * @return a stage that completes when the close frame is written
     * @throws IllegalArgumentException if the status may not be sent (1005, 1006, 1015)
     */
    CompletionStage<Void> close(CloseStatus status);

    /**
     * A stage that completes with the connection's final status once it is closed and the
     * router's {@link MessageRouter#onClose} has returned: the status the peer sent, the one the
     * server sent, or {@link CloseStatus#ABNORMAL_CLOSURE 1006}. It never fails. Dependent stages
     * run on the thread that closed the connection, or at once when it is already closed.
     */
    CompletionStage<CloseStatus> closeFuture();

    /** {@link #close(CloseStatus) Closes} with {@link CloseStatus#NORMAL 1000}. */
    default CompletionStage<Void> close() {
        return close(CloseStatus.NORMAL);
    }
}
