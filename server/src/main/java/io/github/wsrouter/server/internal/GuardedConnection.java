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
     * Records the status the server closes the connection with outside its send queue (a policy
     * violation), so that the router hears it rather than 1006.
     */
    void closedBy(CloseStatus status);

    /** Drops a peer silent for the idle timeout; the router sees 1001 "idle timeout". */
    void dropIdle();
}
