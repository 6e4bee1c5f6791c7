package io.github.wsrouter.server.internal;

import io.github.wsrouter.internal.AbstractConnection;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Pings a connection at an interval and drops it when nothing at all (no message, no pong) has
 * arrived for the idle timeout: half-open TCP connections and vanished peers do not live forever.
 * Runs on the channel's IO thread; stops when the channel closes.
 */
public final class Keepalive implements Runnable {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    private final WebSocketChannel channel;
    private final AbstractConnection connection;
    private final Runnable drop;
    private final long pingMillis;
    private final long idleNanos;

    private Keepalive(WebSocketChannel channel, AbstractConnection connection, Runnable drop, long pingMillis,
                      long idleMillis) {
        this.channel = channel;
        this.connection = connection;
        this.drop = drop;
        this.pingMillis = pingMillis;
        this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
    }

    /**
     * Starts pinging; {@code drop} is called once, on the IO thread, when the peer has been silent
     * for the idle timeout.
     */
    public static void start(WebSocketChannel channel, AbstractConnection connection, Runnable drop, long pingMillis,
                      long idleMillis) {
        Keepalive keepalive = new Keepalive(channel, connection, drop, pingMillis, idleMillis);
        channel.getIoThread().executeAfter(keepalive, Math.min(pingMillis, idleMillis), TimeUnit.MILLISECONDS);
    }

    @Override
    public void run() {
        if (!channel.isOpen() || connection.isClosed()) {
            return;
        }
        if (connection.nanosSinceInbound() >= idleNanos) {
            LOG.log(System.Logger.Level.INFO, () -> "dropping connection " + connection.id() + " ("
                    + connection.path() + "): nothing received for " + TimeUnit.NANOSECONDS.toMillis(idleNanos) + " ms");
            drop.run();
            return;
        }
        if (!channel.isCloseFrameSent()) {
            WebSockets.sendPing(ByteBuffer.allocate(0), channel, null);
        }
        long untilIdle = TimeUnit.NANOSECONDS.toMillis(idleNanos - connection.nanosSinceInbound());
        channel.getIoThread().executeAfter(this, Math.max(1, Math.min(pingMillis, untilIdle)), TimeUnit.MILLISECONDS);
    }
}
