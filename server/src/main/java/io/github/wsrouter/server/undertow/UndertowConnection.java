package io.github.wsrouter.server.undertow;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.server.internal.FrameGuard;
import io.github.wsrouter.server.internal.GuardedConnection;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.OutboundFrame;
import io.github.wsrouter.spi.RouteCounters;
import io.undertow.util.ImmediatePooledByteBuffer;
import io.undertow.websockets.core.StreamSinkFrameChannel;
import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSocketFrameType;
import io.undertow.websockets.core.WebSockets;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;

/**
 * A connection on Undertow's native WebSocket channel: a transport of {@link AbstractConnection}'s
 * one send queue, with no queue of its own besides Undertow's.
 *
 * <p>Data frames are corked: the queue hands this connection batches ({@link #write}) on the
 * channel's IO thread, where their frames go to Undertow with flushing held back, and the channel
 * is flushed once per pass of the IO thread, so the frames a read cycle produced (the echoes of
 * several pipelined messages, the several broadcasts one read of a sender delivers to a recipient)
 * leave in one gathering write instead of one system call each. A batch sent from another thread
 * costs one task on the IO thread. Up to {@value #MAX_FRAMES_IN_FLIGHT} frames of a connection are
 * with Undertow at a time, below its high-water mark of queued frames; the rest wait in the send
 * queue. Undertow writes in order, so a batch is called back once, when its last frame is written.
 * Close frames go through {@link WebSockets} once every data frame is written.
 */
final class UndertowConnection extends AbstractConnection
        implements GuardedConnection, ChannelListener<WebSocketChannel>, Runnable {

    /** Below Undertow's default high-water mark of 50 queued frames, which would suspend receives. */
    static final int MAX_FRAMES_IN_FLIGHT = 32;

    /** Set once by {@link #attach}; until then frames wait in the send queue. */
    private volatile WebSocketChannel channel;
    /**
     * The HTTP connection the upgrade is answered on, closed by {@link #abort()} before the channel
     * is there; forgotten by {@link #attach} (the channel closes the socket from then on).
     */
    private volatile io.undertow.server.ServerConnection http;

    private final Settings.Limits limits;
    private final java.util.function.Consumer<UndertowConnection> terminated;
    /** Set when a drain is asked from a thread that is not the IO thread; {@link #run} drains. */
    private volatile boolean drainAsked;
    // IO thread only:
    /** The last frame given to Undertow and not yet called back, and its frame channel. */
    private OutboundFrame unconfirmed;

    private StreamSinkFrameChannel unconfirmedSink;
    /** Whether a flush is queued on the IO thread for this pass. */
    private boolean flushScheduled;
    /** Whether the IO thread is in {@link #run}, which flushes once at its end. */
    private boolean inTask;
    /**
     * The close timeout's timer once the close frame is sent, removed when the channel closes: else
     * the IO thread's timer tree would hold the closed connection, its channel and buffers, for the
     * rest of the timeout (5 s by default; 50,000 connections closed at once kept about 150 MB).
     */
    private volatile org.xnio.XnioExecutor.Key closeTimer;

    /**
     * A connection opened before its socket is there: the router's {@code onOpen} runs and the
     * registries hold it before the 101 is written; its frames wait in the send queue until {@link
     * #attach}, or fail when {@link #upgradeFailed()}.
     */
    UndertowConnection(
            Handshake handshake,
            MessageRouter router,
            Executor callbackExecutor,
            Settings.Limits limits,
            RouteCounters counters,
            io.undertow.server.ServerConnection http,
            java.util.function.Consumer<UndertowConnection> terminated) {
        super(handshake, router, callbackExecutor, limits.sendLimits(), counters, false);
        this.http = http;
        this.limits = limits;
        this.terminated = terminated;
    }

    /**
     * The 101 was written and Undertow made the channel: queued frames leave now. Returns {@code
     * false}, and closes the channel, when the upgrade had already been given up (the connection
     * is closed).
     */
    boolean attach(WebSocketChannel webSocket) {
        if (!claimSocket()) {
            IoUtils.safeClose(webSocket);
            return false;
        }
        channel = webSocket;
        http = null; // after channel: abort() reads http first, then channel
        return true;
    }

    /** Queued frames go to the channel: once the receive listener, guard and close task are in place. */
    void ready() {
        transportReady();
    }

    /**
     * The upgrade failed after the router's {@code onOpen} (the client went before or while the 101
     * was written, so no channel comes): the router hears 1006, once, and the connection's place
     * is free. Ignored once the channel is attached (its close task reports the close).
     */
    void upgradeFailed() {
        if (failUpgrade()) { // closed before terminated: see WebSocketRoutes.open
            terminated.accept(this);
        }
    }

    /**
     * The channel's close task: the socket is gone. The transport forgets the connection (its place
     * under the connection cap is free) before the router hears.
     */
    @Override
    public void handleEvent(WebSocketChannel closed) {
        terminated.accept(this);
        channelClosed();
    }

    @Override
    public WebSocketChannel webSocketChannel() {
        return channel;
    }

    @Override
    public Settings.Limits limits() {
        return limits;
    }

    @Override
    protected int maxFramesInFlight() {
        return MAX_FRAMES_IN_FLIGHT;
    }

    /**
     * Frames wait: on the channel's IO thread they go to Undertow at once (so that a close frame
     * Undertow sends by itself meanwhile, for a protocol error in the next frame read, goes out
     * after them, as Autobahn 5.15 checks); from any other thread the batch is handed to the IO
     * thread once, and what is sent meanwhile joins it.
     */
    @Override
    protected void framesWaiting() {
        WebSocketChannel webSocket = channel;
        if (webSocket.getIoThread() == Thread.currentThread()) {
            drain();
            return;
        }
        drainAsked = true;
        try {
            webSocket.getIoThread().execute(this);
        } catch (RuntimeException rejected) { // the IO thread is shutting down: Undertow's send is thread-safe
            drain();
        }
    }

    /**
     * Gives the batch's frames to Undertow in order with flushing held back, then flushes once for
     * the pass (the frames of one pass leave in one gathering write), and calls the batch back once
     * Undertow has written its last frame. Runs on the IO thread (see {@link #framesWaiting}).
     */
    @Override
    protected void write(List<OutboundFrame> batch) {
        OutboundFrame last = batch.get(batch.size() - 1);
        if (last.kind() == OutboundFrame.Kind.CLOSE) {
            writeClose(last);
            return;
        }
        WebSocketChannel webSocket = channel;
        StreamSinkFrameChannel sink = null;
        webSocket.setRequireExplicitFlush(true);
        try {
            for (OutboundFrame frame : batch) {
                boolean text = frame.kind() == OutboundFrame.Kind.TEXT;
                ByteBuffer data = text ? ByteBuffer.wrap(Utf8Cache.encode(frame.text())) : frame.data();
                sink = webSocket.send(text ? WebSocketFrameType.TEXT : WebSocketFrameType.BINARY);
                if (!sink.send(new ImmediatePooledByteBuffer(data))) {
                    throw new java.io.IOException("Undertow refused a frame on a new channel");
                }
                sink.shutdownWrites();
            }
        } catch (java.io.IOException | RuntimeException e) {
            last.doneThrough(e);
            return;
        } finally {
            webSocket.setRequireExplicitFlush(false);
        }
        unconfirmed = last;
        unconfirmedSink = sink;
        if (inTask || flushScheduled) {
            return; // flushed once after the drain task's batches, or later in this pass
        }
        if (webSocket.getIoThread() == Thread.currentThread()) {
            // later in this pass of the IO thread: the frames the rest of the pass sends leave with these
            flushScheduled = true;
            webSocket.getIoThread().execute(this);
        } else {
            flush(); // the IO thread refused the drain task: it is shutting down
        }
    }

    /**
     * On the IO thread, once per task queued by {@link #framesWaiting} or {@link #write}: the
     * batches of a drain asked from another thread, then one flush for everything given to
     * Undertow in this pass. (One task object for both: the connection itself.)
     */
    @Override
    public void run() {
        if (drainAsked) {
            drainAsked = false;
            inTask = true;
            try {
                drain();
            } finally {
                inTask = false;
            }
        }
        if (flushScheduled || unconfirmed != null) {
            flush();
        }
    }

    /** On the IO thread: writes what Undertow holds, and calls back the last batch given if written. */
    private void flush() {
        flushScheduled = false;
        WebSocketChannel webSocket = channel;
        OutboundFrame last = unconfirmed;
        StreamSinkFrameChannel sink = unconfirmedSink;
        try {
            webSocket.flush(); // on the IO thread: writes now, as much as the socket takes
            if (last == null) {
                return;
            }
            if (!sink.flush()) {
                // Undertow writes in order: when this frame is out, so is every frame before it
                sink.getWriteSetter().set(new Confirm(last));
                sink.resumeWrites();
                return;
            }
        } catch (java.io.IOException | RuntimeException e) {
            unconfirmed = null;
            unconfirmedSink = null;
            if (last != null) {
                last.doneThrough(e);
            }
            return;
        }
        unconfirmed = null;
        unconfirmedSink = null;
        last.doneThrough(null);
    }

    /** Calls back every frame up to one Undertow had not written yet, once it has. */
    private final class Confirm implements ChannelListener<StreamSinkFrameChannel> {
        private final OutboundFrame last;

        Confirm(OutboundFrame last) {
            this.last = last;
        }

        @Override
        public void handleEvent(StreamSinkFrameChannel sink) {
            Throwable failure = null;
            try {
                if (!sink.flush()) {
                    return; // still writing: called again
                }
            } catch (java.io.IOException | RuntimeException e) {
                failure = e;
            }
            sink.getWriteSetter().set(null);
            sink.suspendWrites();
            if (unconfirmed == last) {
                unconfirmed = null;
                unconfirmedSink = null;
            }
            last.doneThrough(failure);
        }
    }

    /**
     * The UTF-8 bytes of the text last sent on this thread: a broadcast sends one {@code String} to
     * every recipient in a row, so it is encoded once and every frame shares the same bytes (each
     * frame gets its own read-only view position; nothing writes into them, as a server does not mask).
     */
    private static final class Utf8Cache {
        private static final ThreadLocal<Utf8Cache> LAST = ThreadLocal.withInitial(Utf8Cache::new);
        private String text;
        private byte[] bytes;

        static byte[] encode(String text) {
            Utf8Cache last = LAST.get();
            if (last.text != text) {
                last.bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                last.text = text;
            }
            return last.bytes;
        }
    }

    /**
     * The close frame, alone in its batch once every frame before it is written. After a close for
     * a violation the channel stops reading for Undertow and lingers ({@link FrameGuard#stopReading});
     * otherwise a peer that never answers is dropped after the close timeout.
     */
    private void writeClose(OutboundFrame close) {
        WebSocketChannel webSocket = channel;
        CloseStatus status = close.status();
        if (webSocket.isCloseFrameSent() || !webSocket.isOpen()) {
            close.done(null); // Undertow answered a protocol error itself, or the channel is gone
        } else {
            WebSockets.sendClose(status.code(), status.reason(), webSocket, new Callback(close, close.lingers()));
        }
        if (close.lingers()) {
            if (webSocket.isOpen()) {
                FrameGuard.stopReading(webSocket);
            }
        } else if (closeTimer == null && webSocket.isOpen()) {
            closeTimer = webSocket
                    .getIoThread()
                    .executeAfter(
                            () -> IoUtils.safeClose(webSocket), limits.closeTimeoutMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    protected void slowConsumer() {
        WebSocketChannel channel = this.channel;
        if (channel == null) {
            return; // nothing in flight yet; the close frame goes first once attached, with its timeout
        }
        // the frame in flight may never complete for a peer that does not read: drop it in time
        channel.getIoThread()
                .executeAfter(() -> IoUtils.safeClose(channel), limits.closeTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    /** The peer's close frame arrived: it is answered through the send queue. */
    void peerClosed(CloseStatus status) {
        closeReceived(status);
    }

    /** Undertow closed the channel: report the status of the closing handshake, or 1006. */
    void channelClosed() {
        org.xnio.XnioExecutor.Key timer = closeTimer;
        if (timer != null) {
            closeTimer = null;
            timer.remove(); // the close completed: nothing left to drop
        }
        OutboundFrame last = unconfirmed; // frames given to Undertow and not written are lost
        if (last != null) {
            last.doneThrough(channelGone());
        }
        closedWith(CloseStatus.ABNORMAL_CLOSURE);
    }

    @Override
    protected void dropSocket() {
        abort();
    }

    /** Drops the channel without a closing handshake. */
    void abort() {
        io.undertow.server.ServerConnection upgrading = http;
        WebSocketChannel webSocket = channel;
        if (webSocket != null) {
            IoUtils.safeClose(webSocket);
        } else {
            IoUtils.safeClose(upgrading); // the upgrade fails: upgradeFailed follows from its close listener
            upgradeFailed();
        }
    }

    /** What frames fail with when the channel closed before they were written. */
    private static java.io.IOException channelGone() {
        return new java.io.IOException("the WebSocket channel is closed");
    }

    private static final class Callback implements WebSocketCallback<Void> {
        private final OutboundFrame close;
        private final boolean lingers;

        Callback(OutboundFrame close, boolean lingers) {
            this.close = close;
            this.lingers = lingers;
        }

        @Override
        public void complete(WebSocketChannel channel, Void context) {
            // Undertow shuts the output once the close frame is out; after a violation the linger closes the socket
            close.done(null);
        }

        @Override
        public void onError(WebSocketChannel channel, Void context, Throwable throwable) {
            if (lingers) {
                IoUtils.safeClose(channel);
            }
            close.done(throwable);
        }
    }
}
