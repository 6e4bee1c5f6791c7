package io.github.wsrouter.server.undertow;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.server.internal.FrameGuard;
import io.github.wsrouter.server.internal.FrameReader;
import io.github.wsrouter.server.internal.FrameWriter;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.OutboundFrame;
import io.github.wsrouter.spi.RouteCounters;
import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;

/**
 * A connection on Undertow's native WebSocket channel: a transport of {@link AbstractConnection}'s
 * one send queue, with no queue of its own besides its frame writer's (at most {@value #MAX_FRAMES_IN_FLIGHT} frames).
 *
 * <p>Data frames are framed and written by the connection's {@link FrameWriter}, below Undertow's
 * framed channel, which writes the control frames. They are corked: the queue hands this
 * connection batches ({@link #write}) on the channel's IO thread, where their frames are queued in
 * the writer, and the writer is flushed once per pass of the IO thread, so the frames a read cycle
 * produced (the echoes of several pipelined messages, the several broadcasts one read of a sender
 * delivers to a recipient) leave in one gathering write instead of one system call each. A batch
 * sent from another thread costs one task on the IO thread. Up to {@value #MAX_FRAMES_IN_FLIGHT}
 * frames of a connection are in the writer at a time; the rest wait in the send queue. The writer
 * writes in order, so a batch is called back once, when its last frame is written. Close frames go
 * through {@link WebSockets} once every data frame is written.
 *
 * <p>On the way in, the connection's {@link FrameReader}, in front of Undertow's frame parser,
 * reads the messages that come whole in one frame and hands them to {@link #deliverText} and
 * {@link #deliverBinary}; Undertow reads the rest, and the receive listener tells the reader of
 * each message and control frame it handled ({@link #handledByUndertow}).
 */
final class UndertowConnection extends AbstractConnection
        implements ChannelListener<WebSocketChannel>, Runnable, FrameWriter.Owner, FrameReader.Owner {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    /** Frames in the writer at a time: the send queue holds the rest, where they are counted. */
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
    /** Writes the data frames, below Undertow's channel; set with the channel. */
    private FrameWriter out;
    /** Reads the plain data frames, in front of Undertow's parser; set with the channel's receive listener. */
    private FrameReader in;
    /** The last frame given to the writer and not yet called back. */
    private OutboundFrame unconfirmed;
    /** Whether the connection is corked on its IO thread, to be flushed with the others ({@link Corked}). */
    private boolean flushScheduled;
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
    boolean attach(WebSocketChannel webSocket, org.xnio.StreamConnection socket) {
        if (!claimSocket()) {
            IoUtils.safeClose(webSocket);
            return false;
        }
        out = FrameWriter.install(socket, this);
        channel = webSocket;
        http = null; // after channel: abort() reads http first, then channel
        return true;
    }

    /** The frame reader in front of Undertow's parser, installed before receives are resumed. */
    void reading(FrameReader reader) {
        in = reader;
    }

    /** Undertow's receive listener handled a message or control frame: the frame reader counts it. */
    void handledByUndertow() {
        if (in != null) {
            in.handledByUndertow();
        }
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
        } catch (RuntimeException rejected) {
            drain(); // the IO thread is shutting down: data frames fail, a close goes through Undertow
        }
    }

    /**
     * Queues the batch's frames in the writer, then flushes once for the pass (the frames of one
     * pass leave in one gathering write), and calls the batch back once its last frame is written.
     * Runs on the IO thread (see {@link #framesWaiting}).
     */
    @Override
    protected void write(List<OutboundFrame> batch) {
        OutboundFrame last = batch.get(batch.size() - 1);
        if (last.kind() == OutboundFrame.Kind.CLOSE) {
            writeClose(last);
            return;
        }
        WebSocketChannel webSocket = channel;
        if (webSocket.getIoThread() != Thread.currentThread()) {
            last.doneThrough(new java.io.IOException("the IO thread is shut down")); // see framesWaiting
            return;
        }
        FrameWriter writer = out;
        for (OutboundFrame frame : batch) {
            boolean queued = frame.kind() == OutboundFrame.Kind.TEXT
                    ? writer.text(FrameWriter.textFrame(frame.text()))
                    : writer.binary(frame.data());
            if (!queued) { // a close frame has begun, or the socket is shut: before the batch's first frame
                last.doneThrough(channelGone());
                return;
            }
        }
        unconfirmed = last;
        if (!flushScheduled) { // later in this pass: the frames the rest of the pass sends leave with these
            flushScheduled = true;
            Corked.add(this, webSocket.getIoThread());
        }
    }

    /** On the IO thread, once per task queued by {@link #framesWaiting}: a drain asked from another thread. */
    @Override
    public void run() {
        if (drainAsked) {
            drainAsked = false;
            drain();
        }
    }

    /**
     * The connections of an IO thread with frames queued in their writers and not yet flushed:
     * flushed together by one task at the end of the thread's pass, instead of a task each (an
     * echo of 64 B with 8 in flight went 1.19× as fast). A bound on how long the first of them
     * waits (200 µs, flushing every connection corked so far) was measured too and left out: it
     * raised the directed p99 (1.26×) and slowed broadcast to 100 (0.90×).
     */
    private static final class Corked implements Runnable {
        private static final ThreadLocal<Corked> OF_THREAD = ThreadLocal.withInitial(Corked::new);
        private UndertowConnection[] connections = new UndertowConnection[16];
        private UndertowConnection[] spare = new UndertowConnection[16];
        private int count;

        static void add(UndertowConnection connection, org.xnio.XnioIoThread thread) {
            Corked corked = OF_THREAD.get();
            corked.put(connection);
            if (corked.count == 1) {
                try {
                    thread.execute(corked);
                } catch (RuntimeException rejected) {
                    corked.run(); // the IO thread is shutting down
                }
            }
        }

        private void put(UndertowConnection connection) {
            if (count == connections.length) {
                connections = java.util.Arrays.copyOf(connections, count * 2);
            }
            connections[count++] = connection;
        }

        /** Flushes the connections corked so far; those corked meanwhile wait for the task they queue. */
        @Override
        public void run() {
            UndertowConnection[] batch = connections;
            int n = count;
            UndertowConnection[] free = spare;
            spare = null; // a flush below may cork and run again: it takes an array of its own
            connections = free != null && free.length >= batch.length ? free : new UndertowConnection[batch.length];
            count = 0;
            for (int i = 0; i < n; i++) {
                UndertowConnection connection = batch[i];
                batch[i] = null;
                if (connection.flushScheduled) {
                    try {
                        connection.flush();
                    } catch (RuntimeException e) { // one connection's failure is not the others'
                        connection.flushScheduled = false;
                        LOG.log(System.Logger.Level.WARNING, "flushing a WebSocket connection failed", e);
                        IoUtils.safeClose(connection.channel);
                    }
                }
            }
            spare = batch;
        }
    }

    /** On the IO thread: writes what the writer holds, and calls back the last batch given if written. */
    private void flush() {
        flushScheduled = false;
        OutboundFrame last = unconfirmed;
        if (last == null) {
            return;
        }
        try {
            if (!out.flushFrames()) {
                return; // the rest leaves when the socket takes it: framesWritten
            }
        } catch (java.io.IOException | RuntimeException e) {
            unconfirmed = null;
            last.doneThrough(e);
            IoUtils.safeClose(channel);
            return;
        }
        unconfirmed = null;
        last.doneThrough(null);
    }

    @Override
    public void framesWritten() {
        OutboundFrame last = unconfirmed;
        if (last != null && out.queued() == 0) {
            unconfirmed = null;
            last.doneThrough(null);
        }
    }

    @Override
    public void framesLost(java.io.IOException cause) {
        OutboundFrame last = unconfirmed;
        if (last != null) {
            unconfirmed = null;
            last.doneThrough(cause);
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
        framesLost(channelGone()); // frames given to the writer and not written are lost
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
