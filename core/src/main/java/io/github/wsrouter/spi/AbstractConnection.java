package io.github.wsrouter.spi;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.ConnectionClosedException;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.SendBufferOverflowException;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.internal.SerialExecutor;
import io.github.wsrouter.internal.TokenBucket;
import io.github.wsrouter.internal.Utf8;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The part of a connection every transport shares: the router's lifecycle guarantees and the
 * send queue. A transport subclass writes frames and reports what its socket does; this class
 * decides what the router sees and when.
 *
 * <h2>Towards the router</h2>
 * The transport calls {@link #deliverOpen()}, then {@link #deliverText}/{@link #deliverBinary}
 * per message, {@link #deliverError} on a transport failure and {@link #closed} when the socket
 * is gone (any number of times; only the first counts). Each becomes one task of a {@link
 * SerialExecutor}: one callback at a time, in order, {@code onClose} exactly once and last. A
 * router that throws is logged once, told through {@code onError}, and its connection closed with
 * 1011; later messages are dropped.
 *
 * <h2>Towards the socket</h2>
 * Sends enqueue a frame and return at once. Frames are handed to the transport's {@code write*}
 * methods in order, up to {@link #maxFramesInFlight()} at a time (one, unless the transport says
 * it can take more), and a close frame only once every frame before it has been reported written.
 * So frames never interleave and keep their order, whatever thread sends. A frame's bytes count as
 * queued from its send until the transport reports it written or failed.
 */
public abstract class AbstractConnection implements Connection {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter");
    private static final AtomicLong IDS = new AtomicLong();
    private static final java.lang.invoke.VarHandle CLOSE_DELIVERED;
    private static final java.lang.invoke.VarHandle UPGRADE;

    static {
        try {
            CLOSE_DELIVERED = java.lang.invoke.MethodHandles.lookup()
                    .findVarHandle(AbstractConnection.class, "closeDelivered", boolean.class);
            UPGRADE = java.lang.invoke.MethodHandles.lookup()
                    .findVarHandle(AbstractConnection.class, "upgrade", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int UPGRADE_PENDING = 0;
    private static final int UPGRADE_ATTACHED = 1;
    private static final int UPGRADE_FAILED = 2;
    /**
     * For a connection opened before its socket: whether the socket came ({@link #claimSocket}) or
     * the upgrade failed first ({@link #failUpgrade}), whichever won; through {@link #UPGRADE}.
     */
    private volatile int upgrade;

    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    /** Told by the transport when a frame was written ({@code null}) or could not be. */
    @FunctionalInterface
    public interface WriteCallback {
        void done(Throwable failure);
    }

    private enum Kind {
        TEXT,
        BINARY,
        CLOSE
    }

    private record Outbound(
            Kind kind, String text, ByteBuffer data, CloseStatus status, long size, CompletableFuture<Void> future) {}

    /** The id's number; its text is made on first use (most connections are never asked). */
    private final long number;

    private String id; // only through id()
    private final String path;
    private final Map<String, String> pathParameters;
    private final Map<String, List<String>> queryParameters;
    /**
     * The request headers as name, value, name, value...: a quarter of the memory of the map, which
     * every open connection would keep though few routers read it; the map is built on first use.
     */
    private final String[] headerPairs;

    private volatile Map<String, List<String>> headers;
    private volatile ConcurrentMap<String, Object> attributes;
    private final String identity;
    private final String subprotocol;
    /** Made when first asked for, under the monitor; completed after the router's onClose. */
    private CompletableFuture<CloseStatus> closeFuture;
    /** The status onClose was given, once it has returned; under the monitor. */
    private CloseStatus finalStatus;

    private final MessageRouter router;
    private final SerialExecutor callbacks;
    private final SendLimits limits;
    private final RouteCounters counters;
    private final TokenBucket rate;
    /** Whether {@link #closed} has been called; set once, through {@link #CLOSE_DELIVERED}. */
    private volatile boolean closeDelivered;
    /** Set by the onClose task: callbacks still queued behind it (a racing transport) are dropped. */
    private volatile boolean closeHandled;

    private volatile boolean routerFailed;
    private volatile long lastInbound = System.nanoTime();

    // The connection's own monitor guards the send state and the attributes' creation: no lock
    // object for each of the many idle connections a server holds. Held only briefly, never while
    // calling out.
    /** Frames waiting for the transport; made at the first send, as an idle connection never needs it. */
    private ArrayDeque<Outbound> queue;

    private int state = OPEN;
    /** Frames handed to the transport and not yet called back, and their bytes. */
    private int inFlight;

    private long inFlightBytes;
    private boolean pumping;
    private long queuedBytes;
    /**
     * Whether the transport can take frames. A transport that opens the connection before its
     * socket is there (the router's {@code onOpen} runs before the client can see the handshake
     * answered) holds frames queued until it calls {@link #transportReady()}.
     */
    private boolean transportReady;

    /**
     * @param handshake what the opening request said
     * @param router the router of the connection's route
     * @param callbackExecutor where router callbacks run; {@code Runnable::run} for the calling thread
     */
    protected AbstractConnection(Handshake handshake, MessageRouter router, Executor callbackExecutor) {
        this(handshake, router, callbackExecutor, SendLimits.unbounded(), new RouteCounters());
    }

    /**
     * @param limits the send buffer bound and overflow policy
     */
    protected AbstractConnection(
            Handshake handshake,
            MessageRouter router,
            Executor callbackExecutor,
            SendLimits limits,
            RouteCounters counters) {
        this(handshake, router, callbackExecutor, limits, counters, true);
    }

    /**
     * @param transportReady {@code false} for a connection opened before its socket is there: sends
     *        are queued (and bounded) as usual, and nothing goes to the transport until {@link
     *        #transportReady()}
     */
    protected AbstractConnection(
            Handshake handshake,
            MessageRouter router,
            Executor callbackExecutor,
            SendLimits limits,
            RouteCounters counters,
            boolean transportReady) {
        this.transportReady = transportReady;
        this.upgrade = transportReady ? UPGRADE_ATTACHED : UPGRADE_PENDING;
        this.limits = Objects.requireNonNull(limits, "limits");
        this.counters = Objects.requireNonNull(counters, "counters");
        this.rate = limits.rateLimit() == null ? null : new TokenBucket(limits.rateLimit());
        this.number = IDS.incrementAndGet();
        this.path = handshake.path();
        this.pathParameters = handshake.pathParameters();
        this.queryParameters = handshake.queryParameters();
        this.headerPairs = Handshake.pairs(handshake.headers());
        this.router = Objects.requireNonNull(router, "router");
        this.callbacks = new SerialExecutor(callbackExecutor);
        this.identity = handshake.identity();
        this.subprotocol = handshake.chosenSubprotocol();
        for (Map.Entry<String, Object> attribute : handshake.attributes().entrySet()) {
            String key = attribute.getKey();
            if (!key.equals(Handshake.IDENTITY) && !key.equals(Handshake.SUBPROTOCOL)) {
                attributes().put(key, attribute.getValue());
            }
        }
    }

    // ---- Connection ----

    @Override
    public final String id() {
        String text = id;
        if (text == null) { // a race makes the same string twice: harmless
            text = Long.toString(number, 36);
            id = text;
        }
        return text;
    }

    @Override
    public final String path() {
        return path;
    }

    @Override
    public final Map<String, String> pathParameters() {
        return pathParameters;
    }

    @Override
    public final Map<String, List<String>> queryParameters() {
        return queryParameters;
    }

    @Override
    public final Map<String, List<String>> headers() {
        Map<String, List<String>> map = headers;
        if (map == null) {
            map = Handshake.headerMap(headerPairs);
            headers = map;
        }
        return map;
    }

    @Override
    public final String identity() {
        return identity;
    }

    @Override
    public final String subprotocol() {
        return subprotocol;
    }

    @Override
    public final CompletionStage<CloseStatus> closeFuture() {
        synchronized (this) {
            if (closeFuture == null) {
                closeFuture = finalStatus != null
                        ? CompletableFuture.completedFuture(finalStatus)
                        : new CompletableFuture<>();
            }
            return closeFuture;
        }
    }

    @Override
    public final ConcurrentMap<String, Object> attributes() {
        ConcurrentMap<String, Object> map = attributes;
        if (map == null) {
            synchronized (this) {
                map = attributes;
                if (map == null) {
                    map = new ConcurrentHashMap<>(4);
                    attributes = map;
                }
            }
        }
        return map;
    }

    @Override
    public final boolean isOpen() {
        synchronized (this) {
            return state == OPEN;
        }
    }

    @Override
    public final CompletionStage<Void> sendText(String text) {
        Objects.requireNonNull(text, "text");
        return enqueue(new Outbound(Kind.TEXT, text, null, null, Utf8.length(text), new CompletableFuture<>()));
    }

    @Override
    public final CompletionStage<Void> sendError(String text) {
        counters.errorReplies.increment();
        return sendText(text);
    }

    @Override
    public final CompletionStage<Void> sendBinary(ByteBuffer data) {
        ByteBuffer view = data.asReadOnlyBuffer();
        return enqueue(new Outbound(Kind.BINARY, null, view, null, view.remaining(), new CompletableFuture<>()));
    }

    @Override
    public final CompletionStage<Void> close(CloseStatus status) {
        Objects.requireNonNull(status, "status");
        if (!status.isSendable()) {
            throw new IllegalArgumentException(
                    "close status " + status.code() + " is reported locally and may not be sent");
        }
        Outbound close = new Outbound(Kind.CLOSE, null, null, status, 0, new CompletableFuture<>());
        boolean pump;
        synchronized (this) {
            if (state != OPEN) {
                return CompletableFuture.completedFuture(null);
            }
            state = CLOSING;
            queue().add(close);
            pump = claimPump();
        }
        if (pump) {
            pump();
        }
        return close.future;
    }

    // ---- for transports ----

    /** Writes a text frame; calls back once, from any thread, when written or failed. */
    protected abstract void writeText(String text, WriteCallback callback);

    /** Writes a binary frame with the buffer's remaining bytes; calls back once. */
    protected abstract void writeBinary(ByteBuffer data, WriteCallback callback);

    /**
     * Writes the close frame; calls back once. The transport then calls {@link #closed} when the
     * closing handshake is done or the socket is gone.
     */
    protected abstract void writeClose(CloseStatus status, WriteCallback callback);

    /**
     * How many frames the transport takes before the first of them is reported written: 1 (the
     * default) for a transport with one send in flight; more for one that queues frames in order
     * and writes them together. Called often: return a constant.
     */
    protected int maxFramesInFlight() {
        return 1;
    }

    /** Whether a message is over the rate limit; if so, it has been answered or the connection closed. */
    private boolean overRateLimit() {
        if (rate == null || rate.tryTake()) {
            return false;
        }
        if (limits.rateLimit().onExceeded() == io.github.wsrouter.RateLimit.Exceeded.CLOSE) {
            LOG.log(
                    System.Logger.Level.INFO,
                    () -> "closing connection " + id() + " (" + path + "): rate limit exceeded");
            close(CloseStatus.POLICY_VIOLATION.withReason("rate limit exceeded"));
        } else if (!closeDelivered) {
            // the router's wire format answers, in order with the connection's other callbacks
            callbacks.execute(() -> {
                if (!closeHandled) {
                    invoke("onRateLimited", () -> router.onRateLimited(this, limits.rateLimit()));
                }
            });
        }
        return true;
    }

    /** Something arrived from the peer (a message, a ping, a pong): it is alive. */
    public final void markInbound() {
        lastInbound = System.nanoTime();
    }

    /** Nanoseconds since anything last arrived from the peer. */
    public final long nanosSinceInbound() {
        return System.nanoTime() - lastInbound;
    }

    /** The handshake succeeded: the router's {@code onOpen}. */
    public final void deliverOpen() {
        counters.opened.increment();
        callbacks.execute(() -> invoke("onOpen", () -> router.onOpen(this)));
    }

    /**
     * The handshake is accepted: the router's {@code onOpen}, then {@code then}, in the same task of
     * the callback executor (inline: before this method returns, on a fresh connection). A
     * transport that answers the handshake in {@code then} has the router's {@code onOpen} run
     * before the client can see the connection open. {@code then} runs even when {@code onOpen}
     * threw (the connection's 1011 close is then queued) and must not throw.
     */
    public final void deliverOpen(Runnable then) {
        counters.opened.increment();
        callbacks.execute(() -> {
            try {
                if (!closeHandled) {
                    invoke("onOpen", () -> router.onOpen(this));
                }
            } finally {
                then.run();
            }
        });
    }

    /**
     * The socket is there: frames queued since the connection opened (by {@code onOpen}, or sent to
     * it by others meanwhile) go to the transport now, in order.
     */
    /**
     * The socket of a connection opened before it has come: whether the transport may use it,
     * {@code false} when the upgrade was given up first or the connection is already closed.
     */
    protected final boolean claimSocket() {
        return UPGRADE.compareAndSet(this, UPGRADE_PENDING, UPGRADE_ATTACHED) && !isClosed();
    }

    /**
     * The upgrade failed before the socket came (the client went before or while the 101 was
     * written): the router hears 1006, once. Does nothing once the socket was claimed.
     *
     * @return whether this call failed it, so that the transport frees the connection's place
     */
    protected final boolean failUpgrade() {
        if (!UPGRADE.compareAndSet(this, UPGRADE_PENDING, UPGRADE_FAILED)) {
            return false;
        }
        closed(CloseStatus.ABNORMAL_CLOSURE);
        return true;
    }

    protected final void transportReady() {
        boolean pump;
        synchronized (this) {
            transportReady = true;
            pump = claimPump();
        }
        if (pump) {
            pump();
        }
    }

    /**
     * A whole text message arrived. A message that arrived before {@link #closed} is delivered
     * before {@code onClose}, even when the callback executor has not run it yet; one reported
     * after {@code closed} is dropped.
     */
    public final void deliverText(String text) {
        markInbound();
        counters.messagesIn.increment();
        counters.bytesIn.add(Utf8.length(text));
        if (overRateLimit()) {
            return;
        }
        if (closeDelivered) {
            return;
        }
        callbacks.execute(() -> {
            if (!closeHandled) {
                invoke("onText", () -> router.onText(this, text));
            }
        });
    }

    /** A whole binary message arrived; the buffer must no longer be used by the transport. */
    public final void deliverBinary(ByteBuffer data) {
        markInbound();
        counters.messagesIn.increment();
        counters.bytesIn.add(data.remaining());
        if (overRateLimit()) {
            return;
        }
        if (closeDelivered) {
            return;
        }
        ByteBuffer readOnly = data.asReadOnlyBuffer();
        callbacks.execute(() -> {
            if (!closeHandled) {
                invoke("onBinary", () -> router.onBinary(this, readOnly));
            }
        });
    }

    /**
     * The transport failed; the router's {@code onError}, unless the router already failed (it has
     * had its one {@code onError}). The transport must still call {@link #closed}.
     */
    public final void deliverError(Throwable error) {
        if (closeDelivered) {
            return;
        }
        callbacks.execute(() -> {
            if (!closeHandled && !routerFailed) { // after a router failure, onError has been called once
                notifyError(error);
            }
        });
    }

    /**
     * The connection is gone, with the status the peer sent, the status we sent, or 1006. Fails
     * what is still queued and calls the router's {@code onClose}, once however often called.
     */
    public final void closed(CloseStatus status) {
        if (!CLOSE_DELIVERED.compareAndSet(this, false, true)) {
            return;
        }
        counters.closed.increment();
        ArrayDeque<Outbound> dropped;
        synchronized (this) {
            state = CLOSED;
            dropped = queue == null ? new ArrayDeque<>(0) : new ArrayDeque<>(queue);
            if (queue != null) {
                queue.clear();
            }
            queuedBytes = 0;
        }
        for (Outbound outbound : dropped) {
            if (outbound.kind == Kind.CLOSE) {
                outbound.future.complete(null);
            } else {
                outbound.future.completeExceptionally(closedException());
            }
        }
        callbacks.execute(() -> {
            closeHandled = true;
            try {
                router.onClose(this, status);
            } catch (RuntimeException | Error e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        () -> "router " + router.getClass().getName() + " threw in onClose for connection " + id(),
                        e);
            }
            CompletableFuture<CloseStatus> watchers;
            synchronized (this) {
                finalStatus = status;
                watchers = closeFuture;
            }
            if (watchers != null) {
                watchers.complete(status);
            }
        });
    }

    /** Whether {@link #closed} has been called. */
    public final boolean isClosed() {
        return closeDelivered;
    }

    // ---- router callbacks ----

    private void invoke(String callback, Runnable call) {
        if (routerFailed) {
            return;
        }
        try {
            call.run();
        } catch (RuntimeException | Error e) {
            if (e instanceof VirtualMachineError) {
                throw e;
            }
            routerFailed = true;
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> "router " + router.getClass().getName() + " threw in " + callback + " for connection " + id()
                            + " (" + path + "); closing it with 1011",
                    e);
            notifyError(e);
            close(CloseStatus.INTERNAL_ERROR.withReason("internal error"));
        }
    }

    private void notifyError(Throwable error) {
        try {
            router.onError(this, error);
        } catch (RuntimeException | Error e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> "router " + router.getClass().getName() + " threw in onError for connection " + id(),
                    e);
        }
    }

    // ---- send queue ----

    private CompletionStage<Void> enqueue(Outbound outbound) {
        boolean pump;
        List<Outbound> discarded = null;
        synchronized (this) {
            if (state != OPEN) {
                return CompletableFuture.failedFuture(closedException());
            }
            ArrayDeque<Outbound> queue = queue();
            boolean busy = inFlight > 0 || !queue.isEmpty();
            if (busy && limits.isBounded() && queuedBytes + outbound.size > limits.maxQueuedBytes()) {
                if (limits.overflow() == SendOverflow.DROP) {
                    counters.droppedMessages.increment();
                    return CompletableFuture.failedFuture(overflowException());
                }
                // CLOSE: discard what waits, close behind the frame in flight, drop the socket if it stays stuck
                discarded = new ArrayList<>(queue);
                queue.clear();
                queuedBytes = inFlightBytes;
                state = CLOSING;
                queue.add(
                        new Outbound(Kind.CLOSE, null, null, CloseStatus.SLOW_CONSUMER, 0, new CompletableFuture<>()));
            }
            if (discarded == null) {
                queue.add(outbound);
                queuedBytes += outbound.size;
            }
            pump = claimPump();
        }
        if (discarded != null) {
            counters.slowConsumerCloses.increment();
            LOG.log(
                    System.Logger.Level.INFO,
                    () -> "closing connection " + id() + " (" + path + ") with 4000: its send buffer is over "
                            + limits.maxQueuedBytes() + " bytes (slow consumer)");
            for (Outbound dropped : discarded) {
                dropped.future.completeExceptionally(overflowException());
            }
            slowConsumer();
        }
        if (pump) {
            pump();
        }
        return discarded == null ? outbound.future : CompletableFuture.failedFuture(overflowException());
    }

    /**
     * Called once when this connection is closed as a slow consumer: a frame may be stuck in the
     * transport, so a transport should drop the socket if the close does not complete in time.
     */
    protected void slowConsumer() {}

    /** The number of bytes queued for sending and not yet written. */
    @Override
    public final long queuedBytes() {
        synchronized (this) {
            return queuedBytes;
        }
    }

    private SendBufferOverflowException overflowException() {
        return new SendBufferOverflowException("send buffer of connection " + id() + " (" + path + ") is full: over "
                + limits.maxQueuedBytes() + " bytes queued");
    }

    /** Under the lock: whether the caller should become the pumping thread. */
    private boolean claimPump() {
        if (pumping || !mayHandOver()) {
            return false;
        }
        pumping = true;
        return true;
    }

    /** Under the lock: the send queue, made on first use. */
    private ArrayDeque<Outbound> queue() {
        ArrayDeque<Outbound> q = queue;
        if (q == null) {
            q = new ArrayDeque<>(2);
            queue = q;
        }
        return q;
    }

    /** Under the lock: whether the next queued frame may go to the transport now. */
    private boolean mayHandOver() {
        Outbound next = queue == null || !transportReady ? null : queue.peek();
        return next != null && (inFlight == 0 || inFlight < maxFramesInFlight() && next.kind != Kind.CLOSE);
    }

    /**
     * Hands frames to the transport while it may take them. A transport that calls back
     * synchronously lets this loop go on; one that calls back later ends it, and its callback
     * starts the next.
     */
    private void pump() {
        for (; ; ) {
            Outbound next;
            synchronized (this) {
                if (!mayHandOver()) {
                    pumping = false;
                    return;
                }
                next = queue.poll();
                inFlight++;
                inFlightBytes += next.size;
            }
            write(next);
        }
    }

    /** The transport's callback for one frame: the first call counts, a second is ignored. */
    private final class Written implements WriteCallback {
        private final Outbound outbound;
        private boolean called; // guarded by the connection's monitor

        Written(Outbound outbound) {
            this.outbound = outbound;
        }

        @Override
        public void done(Throwable failure) {
            written(this, failure);
        }
    }

    private void write(Outbound outbound) {
        Written callback = new Written(outbound);
        try {
            switch (outbound.kind) {
                case TEXT -> writeText(outbound.text, callback);
                case BINARY -> writeBinary(outbound.data.duplicate(), callback);
                case CLOSE -> writeClose(outbound.status, callback);
                default -> throw new AssertionError(outbound.kind);
            }
        } catch (RuntimeException e) {
            written(callback, e);
        }
    }

    private void written(Written callback, Throwable failure) {
        Outbound outbound = callback.outbound;
        boolean pump;
        synchronized (this) {
            if (callback.called) {
                return; // a second callback for a frame already called back
            }
            callback.called = true;
            inFlight--;
            inFlightBytes -= outbound.size;
            if (state != CLOSED) {
                queuedBytes -= outbound.size;
            }
            pump = !pumping && mayHandOver();
            if (pump) {
                pumping = true;
            }
        }
        if (failure == null && outbound.kind != Kind.CLOSE) {
            counters.messagesOut.increment();
            counters.bytesOut.add(outbound.size);
        }
        if (failure == null || outbound.kind == Kind.CLOSE) {
            outbound.future.complete(null);
        } else {
            outbound.future.completeExceptionally(failure);
        }
        if (pump) {
            pump();
        }
    }

    private ConnectionClosedException closedException() {
        return new ConnectionClosedException("connection " + id() + " (" + path + ") is closed");
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + id() + " " + path + "]";
    }
}
