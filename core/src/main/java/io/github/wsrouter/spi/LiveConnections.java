package io.github.wsrouter.spi;

import io.github.wsrouter.CloseStatus;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The open connections of a transport, and the handshakes that have been accepted but not yet
 * opened, so that a stop closes every one of them — also a connection whose upgrade was answered
 * just before the stop and whose open comes just after.
 *
 * @param <C> the transport's connection type
 */
public final class LiveConnections<C extends AbstractConnection> {

    private final Set<C> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger upgrading = new AtomicInteger();
    private final AtomicReference<CompletableFuture<Void>> change = new AtomicReference<>(new CompletableFuture<>());
    private volatile CloseStatus stopping;

    /** A handshake was accepted: {@link #opened} with {@code counted = true} follows, unless the socket fails first. */
    public void upgrading() {
        upgrading.incrementAndGet();
    }

    /**
     * A connection opened. During a stop it is closed at once with the stop's status.
     *
     * @param counted whether {@link #upgrading()} was called for it
     */
    public void opened(C connection, boolean counted) {
        open.add(connection);
        if (counted) {
            upgrading.decrementAndGet();
        }
        CloseStatus status = stopping;
        if (status != null) {
            connection.close(status);
        }
        changed();
    }

    /** A counted upgrade ended without a connection (refused at open). */
    public void upgradeAbandoned() {
        upgrading.decrementAndGet();
        changed();
    }

    /** A connection's socket is closed. */
    public void terminated(C connection) {
        if (open.remove(connection)) {
            changed();
        }
    }

    public int size() {
        return open.size();
    }

    /** The bytes queued for sending and not yet written, summed over the open connections now. */
    public long queuedBytes() {
        long sum = 0;
        for (C connection : open) {
            sum += connection.queuedBytes();
        }
        return sum;
    }

    /** Calls the action for each open connection (those opening or closing meanwhile, or not). */
    public void forEach(Consumer<? super C> action) {
        open.forEach(action);
    }

    /**
     * Closes every open connection, and every one that opens meanwhile, with the status; waits up
     * to the timeout until all are terminated and no accepted handshake is pending; then aborts
     * those still open.
     */
    public void closeAll(CloseStatus status, Duration timeout, Consumer<C> abort) {
        stopping = status;
        long deadline = System.nanoTime() + timeout.toNanos();
        for (; ; ) {
            CompletableFuture<Void> next = change.get();
            List<C> snapshot = List.copyOf(open);
            if (snapshot.isEmpty() && upgrading.get() <= 0) {
                return;
            }
            snapshot.forEach(connection -> connection.close(status));
            long left = deadline - System.nanoTime();
            try {
                if (left <= 0) {
                    throw new TimeoutException();
                }
                next.get(left, TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                List.copyOf(open).forEach(abort);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                List.copyOf(open).forEach(abort);
                return;
            }
        }
    }

    /** Wakes a {@link #closeAll} in progress; nothing to do before a stop (no garbage per connection). */
    private void changed() {
        if (stopping != null) {
            change.getAndSet(new CompletableFuture<>()).complete(null);
        }
    }
}
