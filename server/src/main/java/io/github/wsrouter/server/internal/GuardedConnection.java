package io.github.wsrouter.server.internal;

import io.github.wsrouter.CloseStatus;
import io.undertow.websockets.core.WebSocketChannel;

/**
 * What the server's watch over a connection (the {@link FrameGuard} under its parser, the
 * {@link Keepalive} sweep) needs of it. Both adapters' connections are one, so neither needs an
 * object of its own per connection to reach them.
 */
public interface GuardedConnection {

    /** The connection's Undertow channel, or {@code null} in a container that is not Undertow's. */
    WebSocketChannel webSocketChannel();

    /** The limits of the connection's route. */
    Settings.Limits limits();

    /**
     * Closes the connection for a violation the server found in what the peer sent (1002, 1007,
     * 1008, 1009): {@code AbstractConnection.closeForViolation}, the one path for the closes the
     * server starts. It records the status the router hears and sends the close frame through the
     * send queue; the transport then lingers ({@link FrameGuard#stopReading}).
     */
    void closeForViolation(CloseStatus status);

    /**
     * Drops the socket without a closing handshake, the router hearing {@code status}: {@code
     * AbstractConnection.drop}.
     */
    void drop(CloseStatus status);

    /** Drops a peer silent for the idle timeout; the router sees 1001 "idle timeout". */
    default void dropIdle() {
        drop(CloseStatus.GOING_AWAY.withReason("idle timeout"));
    }
}
