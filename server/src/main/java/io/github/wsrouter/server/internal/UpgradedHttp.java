package io.github.wsrouter.server.internal;

import io.undertow.UndertowOptions;
import io.undertow.server.ServerConnection;
import io.undertow.server.protocol.http.HttpServerConnection;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicReference;
import org.xnio.ChannelListener;
import org.xnio.StreamConnection;

/**
 * What Undertow keeps of an HTTP connection once it became a WebSocket, and letting it go.
 *
 * <p>Undertow's HTTP connection stays reachable for as long as its socket lives, though a
 * WebSocket never uses it again: the socket's close listener is the HTTP connection's, and the
 * HTTP open listener keeps every connection it opened in a set, which the connection leaves from
 * that close listener. With it stay the finished upgrade exchange, its header maps, the parser's
 * state, the response conduit and the parse timeout: about 2 KiB a connection, two fifths of an
 * idle WebSocket's heap (class histograms of 10,000 idle connections: 5.0 KiB each before, 2.9
 * after).
 *
 * <p>XNIO offers no way to take a close listener off a socket ({@code setCloseListener} adds to
 * the one there), so the socket's listener is cleared through its field, read once here. Where
 * that field is not there (another XNIO than the one tested) nothing is released.
 */
public final class UpgradedHttp {

    /** {@code StreamConnection.closeListener}, an {@code AtomicReference}, or null. */
    private static final VarHandle CLOSE_LISTENER = closeListenerField();

    private UpgradedHttp() {}

    private static VarHandle closeListenerField() {
        try {
            return MethodHandles.privateLookupIn(StreamConnection.class, MethodHandles.lookup())
                    .findVarHandle(StreamConnection.class, "closeListener", AtomicReference.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // another XNIO, or the field is not accessible: keep Undertow's listener
        }
    }

    /**
     * Once the 101 is written and the WebSocket channel made, on the connection's IO thread: runs
     * the HTTP connection's close duties now (its close listeners: leaving the open listener's set,
     * cancelling the parse timeout, freeing the response conduit's buffer; ending its current
     * exchange, of which there is none after an upgrade) and takes its listener off the socket, so
     * that the HTTP connection and everything it holds can be collected. The socket itself is
     * untouched: the WebSocket channel, which closes it, has close listeners of its own on the
     * socket's two directions.
     *
     * <p>Nothing is done, and the HTTP connection lives as long as the socket as before, where it
     * is still needed:
     *
     * <ul>
     *   <li>bytes that arrived with the upgrade request past its end (the client's first frames)
     *       are read by the channel through the HTTP connection, which frees them on close;
     *   <li>with {@link UndertowOptions#ENABLE_STATISTICS}, the connector's count of open
     *       connections goes down from that close listener, when the socket closes;
     *   <li>HTTP connections of another kind than Undertow's HTTP/1.1 one;
     *   <li>an XNIO whose socket close listener cannot be taken off (above).
     * </ul>
     *
     * <p>A released WebSocket has left the HTTP open listener's set, so {@code
     * HttpOpenListener.closeConnections()} (which some containers call to drop a listener's
     * connections; {@code Undertow.stop()} does not) no longer reaches it: {@code
     * WebSocketRoutes.closeAll} does, with a close frame.
     *
     * @return whether the HTTP connection was let go
     */
    @SuppressWarnings("unchecked")
    public static boolean release(ServerConnection connection) {
        if (CLOSE_LISTENER == null
                || !(connection instanceof HttpServerConnection http)
                || http.getExtraBytes() != null
                || http.getUndertowOptions().get(UndertowOptions.ENABLE_STATISTICS, false)
                || !(http.getCloseSetter() instanceof ChannelListener<?> onClose)) {
            return false;
        }
        StreamConnection socket = http.getChannel();
        AtomicReference<Object> listener = (AtomicReference<Object>) CLOSE_LISTENER.get(socket);
        Object current = listener.get();
        // a closing socket's listener has run or runs now: its duties are done by Undertow then
        if (current == null || !socket.isOpen() || !listener.compareAndSet(current, null)) {
            return false;
        }
        ((ChannelListener<StreamConnection>) onClose).handleEvent(socket);
        return true;
    }
}
