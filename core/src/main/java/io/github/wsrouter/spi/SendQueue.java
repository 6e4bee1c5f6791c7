package io.github.wsrouter.spi;

import io.github.wsrouter.ConnectionClosedException;
import io.github.wsrouter.SendBufferOverflowException;
import io.github.wsrouter.SendOverflow;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A connection's one send queue. Frames wait here from their send until the transport reports them
 * written: the first {@code handed} of them are with the transport (at most {@link
 * AbstractConnection#maxFramesInFlight()}), the rest wait. Whoever finds frames that may go asks
 * the transport once ({@link AbstractConnection#framesWaiting()}); the transport then drains ({@link
 * #drain()}) on the thread it likes, and each pass takes every waiting frame that fits as one batch.
 * A close frame goes alone, once every frame before it has been reported written.
 *
 * <p>Guarded by its own monitor, held only briefly and never while calling out.
 */
final class SendQueue {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter");

    static final int OPEN = 0;
    static final int CLOSING = 1;
    static final int CLOSED = 2;

    private final AbstractConnection connection;
    private final SendLimits limits;
    private final RouteCounters counters;

    /** Handed frames first, then waiting ones; made at the first send (an idle connection has none). */
    private ArrayDeque<OutboundFrame> frames;

    private int state = OPEN;
    /** How many frames at the head of the queue are with the transport, and their bytes. */
    private int handed;

    private long handedBytes;
    private long queuedBytes;
    private long sequence;
    /** Whether the transport has been asked to drain and has not finished. */
    private boolean draining;
    /** Whether the transport may take frames (a connection opened before its socket: not yet). */
    private boolean transportReady;

    SendQueue(AbstractConnection connection, SendLimits limits, RouteCounters counters, boolean transportReady) {
        this.connection = connection;
        this.limits = limits;
        this.counters = counters;
        this.transportReady = transportReady;
    }

    synchronized boolean isOpen() {
        return state == OPEN;
    }

    synchronized long queuedBytes() {
        return queuedBytes;
    }

    CompletionStage<Void> enqueue(OutboundFrame frame) {
        boolean wake;
        List<OutboundFrame> discarded = null;
        synchronized (this) {
            if (state != OPEN) {
                return CompletableFuture.failedFuture(closedException());
            }
            ArrayDeque<OutboundFrame> queue = frames();
            boolean busy = !queue.isEmpty();
            if (busy && limits.isBounded() && queuedBytes + frame.size > limits.maxQueuedBytes()) {
                if (limits.overflow() == SendOverflow.DROP) {
                    counters.droppedMessages.increment();
                    return CompletableFuture.failedFuture(overflowException());
                }
                // CLOSE: discard what waits, close behind the frames in flight, drop the socket if it stays stuck
                discarded =
                        replaceWaitingWith(OutboundFrame.close(io.github.wsrouter.CloseStatus.SLOW_CONSUMER, false));
            } else {
                frame.queue = this;
                queue.add(frame);
                queuedBytes += frame.size;
            }
            wake = claimDrain();
        }
        if (discarded != null) {
            counters.slowConsumerCloses.increment();
            LOG.log(
                    System.Logger.Level.INFO,
                    () -> "closing connection " + connection.id() + " (" + connection.path()
                            + ") with 4000: its send buffer is over " + limits.maxQueuedBytes()
                            + " bytes (slow consumer)");
            fail(discarded, this::overflowException);
            connection.startedClose(io.github.wsrouter.CloseStatus.SLOW_CONSUMER);
            connection.slowConsumer();
        }
        if (wake) {
            connection.framesWaiting();
        }
        return discarded == null ? frame.future : CompletableFuture.failedFuture(overflowException());
    }

    /** Queues the close frame behind everything queued; a no-op once closing. */
    CompletionStage<Void> close(io.github.wsrouter.CloseStatus status) {
        OutboundFrame close = OutboundFrame.close(status, false);
        boolean wake;
        synchronized (this) {
            if (state != OPEN) {
                return CompletableFuture.completedFuture(null);
            }
            state = CLOSING;
            close.queue = this;
            frames().add(close);
            wake = claimDrain();
        }
        if (wake) {
            connection.framesWaiting();
        }
        return close.future;
    }

    /**
     * Queues the close frame right behind the frames with the transport: what waits is discarded
     * (its stages fail), including a close frame not yet handed over. Does nothing once the close
     * frame has gone to the transport or the connection is closed.
     *
     * @return whether this call queued the close frame
     */
    boolean closeNow(io.github.wsrouter.CloseStatus status, boolean lingers) {
        List<OutboundFrame> discarded;
        boolean wake;
        synchronized (this) {
            if (state == CLOSED || (state == CLOSING && !closeWaiting())) {
                return false;
            }
            discarded = replaceWaitingWith(OutboundFrame.close(status, lingers));
            wake = claimDrain();
        }
        fail(discarded, this::closedException);
        if (wake) {
            connection.framesWaiting();
        }
        return true;
    }

    /** Under the lock: whether a close frame waits, not yet handed over. */
    private boolean closeWaiting() {
        OutboundFrame last = frames == null ? null : frames.peekLast();
        return last != null && last.kind == OutboundFrame.Kind.CLOSE && frames.size() > handed;
    }

    /** Under the lock: removes the waiting frames, queues the close frame instead; returns what was removed. */
    private List<OutboundFrame> replaceWaitingWith(OutboundFrame close) {
        ArrayDeque<OutboundFrame> queue = frames();
        List<OutboundFrame> waiting = new ArrayList<>(queue.size() - handed);
        while (queue.size() > handed) {
            waiting.add(queue.pollLast());
        }
        java.util.Collections.reverse(waiting);
        queuedBytes = handedBytes;
        state = CLOSING;
        close.queue = this;
        queue.add(close);
        return waiting;
    }

    /** The transport may take frames now. */
    void ready() {
        boolean wake;
        synchronized (this) {
            transportReady = true;
            wake = claimDrain();
        }
        if (wake) {
            connection.framesWaiting();
        }
    }

    /** The connection is gone: fails what waits (frames with the transport are its to call back). */
    void closed() {
        List<OutboundFrame> dropped;
        synchronized (this) {
            state = CLOSED;
            ArrayDeque<OutboundFrame> queue = frames;
            dropped = new ArrayList<>(queue == null ? 0 : queue.size() - handed);
            while (queue != null && queue.size() > handed) {
                dropped.add(queue.pollLast());
            }
            queuedBytes = 0;
        }
        java.util.Collections.reverse(dropped);
        fail(dropped, this::closedException);
    }

    /** Hands batches to the transport while frames may go; the transport calls it after {@code framesWaiting}. */
    void drain() {
        for (; ; ) {
            List<OutboundFrame> batch;
            synchronized (this) {
                batch = takeBatch();
                if (batch == null) {
                    draining = false;
                    return;
                }
            }
            try {
                connection.write(batch);
            } catch (RuntimeException e) {
                batch.get(batch.size() - 1).doneThrough(e);
            }
        }
    }

    /** Under the lock: every waiting frame that may go now, or {@code null}. */
    private List<OutboundFrame> takeBatch() {
        if (!mayHandOver()) {
            return null;
        }
        ArrayDeque<OutboundFrame> queue = frames;
        int room = Math.max(1, connection.maxFramesInFlight() - handed);
        List<OutboundFrame> batch = new ArrayList<>(Math.min(room, queue.size() - handed));
        Iterator<OutboundFrame> it = queue.iterator();
        for (int i = 0; i < handed; i++) {
            it.next();
        }
        while (it.hasNext() && batch.size() < room) {
            OutboundFrame next = it.next();
            if (next.kind == OutboundFrame.Kind.CLOSE && (handed > 0 || !batch.isEmpty())) {
                break; // a close frame goes alone, once everything before it is written
            }
            next.sequence = ++sequence;
            batch.add(next);
            handedBytes += next.size;
            if (next.kind == OutboundFrame.Kind.CLOSE) {
                connection.closeHandedOver(next.status);
                break;
            }
        }
        handed += batch.size();
        return batch;
    }

    /** Under the lock: whether the next waiting frame may go to the transport now. */
    private boolean mayHandOver() {
        if (frames == null || !transportReady || frames.size() == handed) {
            return false;
        }
        if (handed == 0) {
            return true;
        }
        if (handed >= connection.maxFramesInFlight()) {
            return false;
        }
        // a close frame is always the last frame queued: the next waiting one is a close only when it is the last
        return frames.size() - handed > 1 || frames.peekLast().kind != OutboundFrame.Kind.CLOSE;
    }

    /** Under the lock: whether the caller should ask the transport to drain. */
    private boolean claimDrain() {
        if (draining || !mayHandOver()) {
            return false;
        }
        draining = true;
        return true;
    }

    private ArrayDeque<OutboundFrame> frames() {
        ArrayDeque<OutboundFrame> queue = frames;
        if (queue == null) {
            queue = new ArrayDeque<>(2);
            frames = queue;
        }
        return queue;
    }

    /** The transport's callback for a frame, or for every handed frame up to it ({@code through}). */
    void called(OutboundFrame frame, Throwable failure, boolean through) {
        List<OutboundFrame> finished;
        boolean wake;
        synchronized (this) {
            if (frame.called) {
                return; // called back already (or covered by a later frame's doneThrough)
            }
            ArrayDeque<OutboundFrame> queue = frames;
            if (through) {
                finished = new ArrayList<>(handed);
                while (handed > 0) {
                    OutboundFrame head = queue.peekFirst();
                    if (head.sequence > frame.sequence) {
                        break;
                    }
                    queue.pollFirst();
                    finished.add(head);
                    finish(head);
                }
            } else {
                finished = List.of(frame);
                queue.removeFirstOccurrence(frame);
                finish(frame);
            }
            wake = !draining && mayHandOver();
            if (wake) {
                draining = true;
            }
        }
        for (OutboundFrame done : finished) {
            if (failure == null && done.kind != OutboundFrame.Kind.CLOSE) {
                counters.messagesOut.increment();
                counters.bytesOut.add(done.size);
            }
            if (failure == null || done.kind == OutboundFrame.Kind.CLOSE) {
                done.future.complete(null);
            } else {
                done.future.completeExceptionally(failure);
            }
        }
        if (wake) {
            connection.framesWaiting();
        }
    }

    /** Under the lock: a handed frame is called back. */
    private void finish(OutboundFrame frame) {
        frame.called = true;
        handed--;
        handedBytes -= frame.size;
        if (state != CLOSED) {
            queuedBytes -= frame.size;
        }
    }

    private static void fail(List<OutboundFrame> frames, java.util.function.Supplier<? extends Throwable> cause) {
        for (OutboundFrame frame : frames) {
            if (frame.kind == OutboundFrame.Kind.CLOSE) {
                frame.future.complete(null);
            } else {
                frame.future.completeExceptionally(cause.get());
            }
        }
    }

    private SendBufferOverflowException overflowException() {
        return new SendBufferOverflowException("send buffer of connection " + connection.id() + " (" + connection.path()
                + ") is full: over " + limits.maxQueuedBytes() + " bytes queued");
    }

    ConnectionClosedException closedException() {
        return new ConnectionClosedException(
                "connection " + connection.id() + " (" + connection.path() + ") is closed");
    }
}
