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
     * Records the status the server closes the connection with outside its send queue, so that the
     * router hears it rather than 1006: only {@link #closeForViolation} and the drops (idle, slow
     * consumer) call it. The first recorded, sent or received status wins.
     */
    void closedBy(CloseStatus status);

    /**
     * Closes the connection for a violation the server found in what the peer sent (1008, 1009):
     * the one path for the closes the server starts outside the send queue. Records the status,
     * sends the close frame and lingers before closing the socket ({@link FrameGuard#closeForViolation}).
     */
    default void closeForViolation(CloseStatus status) {
        FrameGuard.closeForViolation(this, status);
    }

    /** Drops a peer silent for the idle timeout; the router sees 1001 "idle timeout". */
    void dropIdle();
}
