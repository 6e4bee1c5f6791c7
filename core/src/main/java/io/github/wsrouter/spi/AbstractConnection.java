package io.github.wsrouter.spi;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.internal.SerialExecutor;
import io.github.wsrouter.internal.TokenBucket;
import io.github.wsrouter.internal.Utf8;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

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
 * Sends enqueue a frame in the connection's one {@link SendQueue} and return at once; they never
 * block and never throw for a closed peer. When frames may go the queue asks the transport once
 * ({@link #framesWaiting()}); the transport drains ({@link #drain()}) on a thread of its choice, and
 * each pass hands it one batch ({@link #write}): every waiting frame that fits {@link
 * #maxFramesInFlight()}, in order, or a close frame alone once every frame before it has been
 * reported written. The transport writes the batch, flushes once, and calls back per frame or per
 * batch. A frame's bytes count as queued from its send until the transport reports it written or
 * failed; over {@link SendLimits#maxQueuedBytes()} the connection closes with 4000 or the send
 * fails, as {@link SendLimits#overflow()} says.
 *
 * <h2>Closes</h2>
 * The router's {@link #close} queues the close frame behind everything sent before it. A close the
 * server starts has one path each: {@link #closeForViolation} (1002, 1007, 1008, 1009: queued data
 * is discarded and the close frame goes right behind the frames the transport holds; the transport
 * then lingers), {@link #closeReceived} (the answer to the peer's close), a slow consumer (4000) and
 * {@link #drop} (no closing handshake). Each records the status the router's {@code onClose}
 * hears, so no transport repairs it afterwards.
 *
 * <p>Over 400 lines on purpose: what is left here (the router's lifecycle guarantees, the
 * failure policy, the inbound rate limit, the close statuses) shares the fields that make {@code
 * onClose} run exactly once and last; the send queue ({@link SendQueue}) and the handshake's data
 * ({@link HandshakeData}) are classes of their own.
 */
public abstract class AbstractConnection extends HandshakeData implements Connection {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter");
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

    /** Told by the transport when a frame was written ({@code null}) or could not be. */
    @FunctionalInterface
    public interface WriteCallback {
        void done(Throwable failure);
    }

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

    // The connection's own monitor guards the attributes' creation and the close future: no lock
    // object for each of the many idle connections a server holds.
    /** The one send queue. */
    private final SendQueue out;
    /**
     * The status of a close the server started outside the router (a violation, a slow consumer,
     * an idle drop): what the router hears, whatever the closing handshake says. First one wins.
     */
    private volatile CloseStatus started;
    /** The status of the closing handshake: the close frame handed to the transport, or the peer's, first. */
    private volatile CloseStatus handshakeStatus;

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
        super(handshake);
        this.upgrade = transportReady ? UPGRADE_ATTACHED : UPGRADE_PENDING;
        this.limits = Objects.requireNonNull(limits, "limits");
        this.counters = Objects.requireNonNull(counters, "counters");
        this.out = new SendQueue(this, limits, counters, transportReady);
        this.rate = limits.rateLimit() == null ? null : new TokenBucket(limits.rateLimit());
        this.router = Objects.requireNonNull(router, "router");
        this.callbacks = new SerialExecutor(callbackExecutor);
    }

    // ---- Connection ----

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
    public final boolean isOpen() {
        return out.isOpen();
    }

    @Override
    public final CompletionStage<Void> sendText(String text) {
        Objects.requireNonNull(text, "text");
        return out.enqueue(OutboundFrame.text(text, Utf8.length(text)));
    }

    @Override
    public final CompletionStage<Void> sendError(String text) {
        counters.errorReplies.increment();
        return sendText(text);
    }

    @Override
    public final CompletionStage<Void> sendBinary(ByteBuffer data) {
        ByteBuffer view = data.asReadOnlyBuffer();
        return out.enqueue(OutboundFrame.binary(view));
    }

    @Override
    public final CompletionStage<Void> close(CloseStatus status) {
        Objects.requireNonNull(status, "status");
        if (!status.isSendable()) {
            throw new IllegalArgumentException(
                    "close status " + status.code() + " is reported locally and may not be sent");
        }
        return out.close(status);
    }

    // ---- for transports ----

    /**
     * Writes a batch of frames, in order: every waiting frame that fits the in-flight bound, or a
     * close frame alone (handed over only once every frame before it has been reported written).
     * The transport calls back each frame once ({@link OutboundFrame#done}), or the last frame of
     * the batch once for all of them ({@link OutboundFrame#doneThrough}), from any thread, when
     * written or failed. Must not block. After a close frame the transport calls {@link #closed}
     * (or {@link #closedWith}) when the closing handshake is done or the socket is gone; after a
     * close frame that {@link OutboundFrame#lingers()} it stops delivering what it reads.
     *
     * <p>By default each frame goes to {@link #writeText}, {@link #writeBinary} or {@link
     * #writeClose} with the frame as its callback: enough for a transport with one frame in flight.
     */
    protected void write(List<OutboundFrame> batch) {
        for (OutboundFrame frame : batch) {
            try {
                switch (frame.kind()) {
                    case TEXT -> writeText(frame.text(), frame);
                    case BINARY -> writeBinary(frame.data(), frame);
                    case CLOSE -> writeClose(frame.status(), frame);
                    default -> throw new AssertionError(frame.kind());
                }
            } catch (RuntimeException e) {
                frame.done(e);
            }
        }
    }

    /** Writes a text frame, for the default {@link #write}; calls back once. */
    protected void writeText(String text, WriteCallback callback) {
        throw new UnsupportedOperationException("the transport overrides write(batch)");
    }

    /** Writes a binary frame with the buffer's remaining bytes, for the default {@link #write}. */
    protected void writeBinary(ByteBuffer data, WriteCallback callback) {
        throw new UnsupportedOperationException("the transport overrides write(batch)");
    }

    /** Writes the close frame, for the default {@link #write}; calls back once. */
    protected void writeClose(CloseStatus status, WriteCallback callback) {
        throw new UnsupportedOperationException("the transport overrides write(batch)");
    }

    /**
     * How many frames the transport takes before the first of them is reported written: 1 (the
     * default) for a transport with one send in flight; more for one that queues frames in order
     * and writes them together. Called often: return a constant.
     */
    protected int maxFramesInFlight() {
        return 1;
    }

    /**
     * Frames wait that the transport may take: it must call {@link #drain()}, now or soon, on a
     * thread of its choice. Called once until that drain has found nothing more to hand over; sends
     * made meanwhile join the next batch. By default the calling thread drains at once.
     */
    protected void framesWaiting() {
        drain();
    }

    /** Hands the transport, through {@link #write}, batch after batch while frames may go. */
    protected final void drain() {
        out.drain();
    }

    // ---- closes the server starts ----

    /**
     * The one path for a close the server starts for a violation by the peer (1002, 1007, 1008,
     * 1009): the router will hear {@code status}; frames not yet with the transport are discarded
     * (their stages fail), and the close frame goes right behind those that are. Its frame {@link
     * OutboundFrame#lingers()}: the transport reads and discards, bounded, after writing it. Where
     * a close frame has already gone (the transport answered the violation itself), the transport
     * is still handed a lingering close frame, which it does not send twice. Any thread.
     */
    public final void closeForViolation(CloseStatus status) {
        if (startedClose(status)) {
            LOG.log(
                    System.Logger.Level.INFO,
                    () -> "closing connection " + id() + " (" + path() + "): " + status.code() + " " + status.reason());
        }
        out.closeNow(status, true);
    }

    /**
     * The peer's close frame arrived: the router hears its status (unless the server closed
     * first), and the close frame that answers it (the same status, or 1000 for one that may not
     * be sent) goes right behind the frames with the transport; what waits is discarded.
     */
    protected final void closeReceived(CloseStatus status) {
        recordHandshake(status);
        out.closeNow(status.isSendable() ? status : CloseStatus.NORMAL, false);
    }

    /**
     * Drops the socket without a closing handshake (a peer silent for the idle timeout): the router
     * hears {@code status}. Calls {@link #dropSocket()}.
     */
    public final void drop(CloseStatus status) {
        startedClose(status);
        dropSocket();
    }

    /** Closes the socket at once, without a closing handshake; the transport then calls {@link #closed}. */
    protected void dropSocket() {}

    /** Records a close the server started; whether it was the first thing recorded. */
    final boolean startedClose(CloseStatus status) {
        if (started == null && handshakeStatus == null) {
            started = status;
            return true;
        }
        return false;
    }

    /** A close frame went to the transport (under the queue's lock: a field write only). */
    final void closeHandedOver(CloseStatus status) {
        recordHandshake(status);
    }

    private void recordHandshake(CloseStatus status) {
        if (handshakeStatus == null) {
            handshakeStatus = status;
        }
    }

    /** Whether a message is over the rate limit; if so, it has been answered or the connection closed. */
    private boolean overRateLimit() {
        if (rate == null || rate.tryTake()) {
            return false;
        }
        if (limits.rateLimit().onExceeded() == io.github.wsrouter.RateLimit.Exceeded.CLOSE) {
            LOG.log(
                    System.Logger.Level.INFO,
                    () -> "closing connection " + id() + " (" + path() + "): rate limit exceeded");
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
        out.ready();
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
     * The connection is gone, with the status the peer sent, the status we sent, or 1006; the
     * status of a close the server started ({@link #closeForViolation}, a slow consumer, {@link
     * #drop}) wins over it. Fails what still waits in the send queue (frames with the transport are
     * its to call back) and calls the router's {@code onClose}, once however often called.
     */
    public final void closed(CloseStatus reported) {
        if (!CLOSE_DELIVERED.compareAndSet(this, false, true)) {
            return;
        }
        counters.closed.increment();
        CloseStatus heard = started != null ? started : reported;
        out.closed();
        callbacks.execute(() -> {
            closeHandled = true;
            try {
                router.onClose(this, heard);
            } catch (RuntimeException | Error e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        () -> "router " + router.getClass().getName() + " threw in onClose for connection " + id(),
                        e);
            }
            CompletableFuture<CloseStatus> watchers;
            synchronized (this) {
                finalStatus = heard;
                watchers = closeFuture;
            }
            if (watchers != null) {
                watchers.complete(heard);
            }
        });
    }

    /**
     * The socket is gone: the router hears the status of a close the server started, else of the
     * closing handshake (the close frame handed to the transport or the peer's, whichever came
     * first), else {@code fallback}. See {@link #closed}.
     */
    protected final void closedWith(CloseStatus fallback) {
        CloseStatus handshake = handshakeStatus;
        closed(handshake != null ? handshake : fallback);
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
                            + " (" + path() + "); closing it with 1011",
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

    /**
     * Called once when this connection is closed as a slow consumer: a frame may be stuck in the
     * transport, so a transport should drop the socket if the close does not complete in time.
     */
    protected void slowConsumer() {}

    /** The number of bytes queued for sending and not yet written. */
    @Override
    public final long queuedBytes() {
        return out.queuedBytes();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + id() + " " + path() + "]";
    }
}
