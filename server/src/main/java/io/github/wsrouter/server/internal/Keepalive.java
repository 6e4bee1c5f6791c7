package io.github.wsrouter.server.internal;

import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.LiveConnections;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.xnio.XnioIoThread;

/**
 * Pings the connections of a server at their route's interval and drops those from which nothing
 * at all (no message, no pong) has arrived for the route's idle timeout: half-open TCP connections
 * and vanished peers do not live forever.
 *
 * <p>One sweep for all connections, not a timer each: it runs on an IO thread every quarter of the
 * shortest ping interval or idle timeout of the routes (at least 10 ms, at most a second) while any
 * connection is open, and stops when none is. So a ping or a drop comes up to one sweep period
 * late, and an idle connection costs no timer. A route's connections are pinged together, every
 * ping interval of that route.
 *
 * @param <C> the adapter's connection type
 */
public final class Keepalive<C extends AbstractConnection & GuardedConnection> implements Runnable {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    private final LiveConnections<C> live;
    private final long periodMillis;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile XnioIoThread thread;
    /** When each route's connections are pinged next. Sweep only. */
    private final Map<Settings.Limits, Long> nextPing = new IdentityHashMap<>();
    /** Whether each route pings in the sweep under way. Sweep only. */
    private final Map<Settings.Limits, Boolean> pingingNow = new IdentityHashMap<>();

    /**
     * @param live the adapter's open connections
     * @param routes the limits of every route the adapter serves
     */
    public Keepalive(LiveConnections<C> live, Collection<Settings.Limits> routes) {
        this.live = live;
        long shortest = routes.stream()
                .mapToLong(l -> Math.min(l.pingMillis(), l.idleMillis()))
                .min()
                .orElse(1000);
        this.periodMillis = Math.max(10, Math.min(1000, shortest / 4));
    }

    /** A connection opened: the sweep runs while any is open. */
    public void opened(C connection) {
        WebSocketChannel channel = connection.webSocketChannel();
        if (channel != null) {
            thread = channel.getIoThread();
            schedule();
        }
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                thread.executeAfter(this, periodMillis, TimeUnit.MILLISECONDS);
            } catch (RuntimeException shuttingDown) {
                scheduled.set(false);
            }
        }
    }

    @Override
    public void run() {
        long now = System.nanoTime();
        try {
            live.forEach(connection -> sweep(connection, now));
        } finally {
            pingingNow.clear();
            scheduled.set(false);
            if (live.size() > 0) {
                schedule();
            }
        }
    }

    private void sweep(C connection, long now) {
        WebSocketChannel channel = connection.webSocketChannel();
        if (channel == null || connection.isClosed() || !channel.isOpen()) {
            return;
        }
        Settings.Limits limits = connection.limits();
        long silentNanos = connection.nanosSinceInbound();
        if (silentNanos >= TimeUnit.MILLISECONDS.toNanos(limits.idleMillis())) {
            LOG.log(
                    System.Logger.Level.INFO,
                    () -> "dropping connection " + connection.id() + " (" + connection.path()
                            + "): nothing received for " + TimeUnit.NANOSECONDS.toMillis(silentNanos) + " ms");
            connection.dropIdle();
            return;
        }
        if (pings(limits, now) && !channel.isCloseFrameSent()) {
            WebSockets.sendPing(ByteBuffer.allocate(0), channel, null);
        }
    }

    /** Whether the route's connections are pinged in this sweep. */
    private boolean pings(Settings.Limits limits, long now) {
        Boolean pinging = pingingNow.get(limits);
        if (pinging == null) {
            Long due = nextPing.get(limits);
            pinging = due != null && now - due >= 0;
            if (due == null || pinging) {
                nextPing.put(limits, now + TimeUnit.MILLISECONDS.toNanos(limits.pingMillis()));
            }
            pingingNow.put(limits, pinging);
        }
        return pinging;
    }
}
