package io.github.wsrouter.server.undertow;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.server.internal.GuardedConnection;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.RouteCounters;
import io.undertow.util.ImmediatePooledByteBuffer;
import io.undertow.websockets.core.StreamSinkFrameChannel;
import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSocketFrameType;
import io.undertow.websockets.core.WebSockets;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.xnio.ChannelListener;
import org.xnio.IoUtils;

/**
 * A connection on Undertow's native WebSocket channel.
 *
 * <p>Data frames are corked: a send hands its frame to this connection's {@link Writer}, which
 * runs once on the channel's IO thread for everything handed to it since it last ran. There it
 * queues the frames on the channel with flushing held back, then flushes once, so the frames a
 * read cycle produced (the echoes of several pipelined messages, the several broadcasts one read
 * of a sender delivers to a recipient) leave in one gathering write instead of one system call
 * each. Up to {@value #MAX_FRAMES_IN_FLIGHT} frames of a connection are with Undertow at a time,
 * below its high-water mark of queued frames; the rest wait in {@link AbstractConnection}'s
 * bounded queue. Close frames go through {@link WebSockets} once every data frame is written.
 */
final class UndertowConnection extends AbstractConnection
        implements GuardedConnection, ChannelListener<WebSocketChannel> {

    /** Below Undertow's default high-water mark of 50 queued frames, which would suspend receives. */
    static final int MAX_FRAMES_IN_FLIGHT = 32;

    /** Set once by {@link #attach}; until then frames wait in the send queue. */
    private volatile WebSocketChannel channel;
    /** The HTTP connection the upgrade is answered on: dropped by {@link #abort()} before the channel is there. */
    private final io.undertow.server.ServerConnection http;

    private final Settings.Limits limits;
    private final java.util.function.Consumer<UndertowConnection> terminated;
    /** Made at the first send: an idle connection does not pay for it. */
    private volatile Writer writer;
    /** The status we sent first, if we closed first; else the peer's is reported. */
    private volatile CloseStatus sentStatus;

    private volatile CloseStatus receivedStatus;

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

    @Override
    protected void writeText(String text, WriteCallback callback) {
        writer().add(WebSocketFrameType.TEXT, ByteBuffer.wrap(Utf8Cache.encode(text)), callback);
    }

    private Writer writer() {
        Writer w = writer;
        if (w == null) {
            synchronized (this) {
                w = writer;
                if (w == null) {
                    w = new Writer();
                    writer = w;
                }
            }
        }
        return w;
    }

    /**
     * Writes this connection's data frames in batches on the channel's IO thread, and calls each
     * frame's callback, in order, once Undertow has written it (or failed).
     */
    private final class Writer implements Runnable, ChannelListener<StreamSinkFrameChannel> {
        /** Handed over and not yet given to Undertow. Guarded by this. */
        private ArrayDeque<Frame> handed = new ArrayDeque<>(4);

        private ArrayDeque<Frame> spare = new ArrayDeque<>(4);
        /** Given to Undertow, not yet called back, in order. Guarded by this. */
        private final ArrayDeque<Frame> given = new ArrayDeque<>(4);
        /** Whether a run is queued on the IO thread. Guarded by this. */
        private boolean scheduled;
        /** The frame whose completion the writer listens for. Guarded by this. */
        private StreamSinkFrameChannel watched;
        /** Set when the channel is gone: later frames fail at once. Guarded by this. */
        private boolean failed;

        void add(WebSocketFrameType type, ByteBuffer data, WriteCallback callback) {
            Frame frame = new Frame(type, data, callback);
            boolean schedule;
            boolean closed;
            synchronized (this) {
                closed = failed;
                schedule = !closed && !scheduled;
                if (!closed) {
                    handed.add(frame);
                    scheduled = true;
                }
            }
            if (closed) {
                callback.done(channelGone());
                return;
            }
            if (channel.getIoThread() == Thread.currentThread()) {
                // Queued with Undertow at once, written with the rest of this pass: a close frame
                // Undertow sends by itself meanwhile (a protocol error in the next frame read)
                // goes out after this frame, not before it.
                give();
            }
            if (schedule) {
                try {
                    channel.getIoThread().execute(this);
                } catch (RuntimeException rejected) { // the IO thread is shutting down
                    failAll(rejected);
                }
            }
        }

        /** On the IO thread, once per pass that had frames: gives Undertow what is left, flushes once. */
        @Override
        public void run() {
            synchronized (this) {
                scheduled = false;
            }
            give();
            channel.flush(); // on the IO thread: writes now, as much as the socket takes
            complete();
        }

        /** On the IO thread: queues every frame handed over with Undertow, in order, without writing. */
        private void give() {
            ArrayDeque<Frame> batch;
            synchronized (this) {
                if (handed.isEmpty()) {
                    return;
                }
                batch = handed;
                handed = spare;
                spare = batch;
            }
            channel.setRequireExplicitFlush(true);
            try {
                for (Frame frame; (frame = batch.poll()) != null; ) {
                    try {
                        StreamSinkFrameChannel sink = channel.send(frame.type);
                        frame.sink = sink;
                        if (!sink.send(new ImmediatePooledByteBuffer(frame.data))) {
                            throw new java.io.IOException("Undertow refused a frame on a new channel");
                        }
                        sink.shutdownWrites();
                    } catch (java.io.IOException | RuntimeException e) {
                        frame.failure = e;
                    }
                    boolean gone;
                    synchronized (this) {
                        gone = failed;
                        if (!gone) {
                            given.add(frame);
                        }
                    }
                    if (gone) { // failAll ran meanwhile: this frame was not among those it failed
                        frame.callback.done(channelGone());
                    }
                }
            } finally {
                channel.setRequireExplicitFlush(false);
            }
        }

        /** On the IO thread: calls back the frames written, in order; listens for the first that is not. */
        private void complete() {
            for (; ; ) {
                Frame frame;
                Throwable failure = null;
                synchronized (this) {
                    frame = given.peek();
                    if (frame == null) {
                        return;
                    }
                    if (frame.failure != null) {
                        failure = frame.failure;
                    } else {
                        try {
                            if (!frame.sink.flush()) {
                                // a run to come flushes and calls back; else wait for Undertow
                                if (!scheduled && watched != frame.sink) {
                                    watched = frame.sink;
                                    frame.sink.getWriteSetter().set(this);
                                    frame.sink.resumeWrites();
                                }
                                return;
                            }
                        } catch (java.io.IOException | RuntimeException e) {
                            failure = e;
                        }
                    }
                    given.poll();
                }
                frame.callback.done(failure);
            }
        }

        /** The watched frame was written or broke. */
        @Override
        public void handleEvent(StreamSinkFrameChannel sink) {
            sink.getWriteSetter().set(null);
            sink.suspendWrites();
            complete();
        }

        /** The channel is gone: fails every frame not yet called back. */
        void failAll(Throwable cause) {
            java.util.List<Frame> left;
            synchronized (this) {
                failed = true;
                left = new java.util.ArrayList<>(given);
                left.addAll(handed);
                given.clear();
                handed.clear();
            }
            for (Frame frame : left) {
                frame.callback.done(cause);
            }
        }
    }

    /** What a frame fails with when the channel closed before it was written. */
    private static java.io.IOException channelGone() {
        return new java.io.IOException("the WebSocket channel is closed");
    }

    private static final class Frame {
        final WebSocketFrameType type;
        final ByteBuffer data;
        final WriteCallback callback;
        StreamSinkFrameChannel sink;
        Throwable failure;

        Frame(WebSocketFrameType type, ByteBuffer data, WriteCallback callback) {
            this.type = type;
            this.data = data;
            this.callback = callback;
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

    @Override
    protected void writeBinary(ByteBuffer data, WriteCallback callback) {
        writer().add(WebSocketFrameType.BINARY, data, callback);
    }

    @Override
    protected void writeClose(CloseStatus status, WriteCallback callback) {
        if (receivedStatus == null) {
            sentStatus = status;
        }
        if (channel.isCloseFrameSent() || !channel.isOpen()) {
            callback.done(null);
            return;
        }
        WebSockets.sendClose(status.code(), status.reason(), channel, new Callback(callback));
        // A peer that never answers our close frame is dropped after the close timeout.
        channel.getIoThread()
                .executeAfter(() -> IoUtils.safeClose(channel), limits.closeTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void slowConsumer() {
        closedBy(CloseStatus.SLOW_CONSUMER);
        WebSocketChannel channel = this.channel;
        if (channel == null) {
            return; // nothing in flight yet; the close frame goes first once attached, with its timeout
        }
        // the frame in flight may never complete for a peer that does not read: drop it in time
        channel.getIoThread()
                .executeAfter(() -> IoUtils.safeClose(channel), limits.closeTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    /** The peer's close frame arrived. */
    void closeReceived(CloseStatus status) {
        receivedStatus = status;
    }

    /** Undertow closed the channel: report the status of the closing handshake, or 1006. */
    void channelClosed() {
        Writer w = writer;
        if (w != null) {
            w.failAll(channelGone());
        }
        CloseStatus sent = sentStatus;
        CloseStatus received = receivedStatus;
        closed(sent != null ? sent : received != null ? received : CloseStatus.ABNORMAL_CLOSURE);
    }

    /** Records the status Undertow sent by itself (message too big) before it drops the channel. */
    @Override
    public void closedBy(CloseStatus status) {
        if (sentStatus == null && receivedStatus == null) {
            sentStatus = status;
        }
    }

    /** Drops a peer that has been silent for the idle timeout: the router sees 1001 "idle timeout". */
    @Override
    public void dropIdle() {
        closedBy(CloseStatus.GOING_AWAY.withReason("idle timeout"));
        abort();
    }

    /** Drops the channel without a closing handshake. */
    void abort() {
        WebSocketChannel webSocket = channel;
        if (webSocket != null) {
            IoUtils.safeClose(webSocket);
        } else {
            IoUtils.safeClose(http); // the upgrade fails: upgradeFailed follows from its close listener
            upgradeFailed();
        }
    }

    private static final class Callback implements WebSocketCallback<Void> {
        private final WriteCallback callback;

        Callback(WriteCallback callback) {
            this.callback = callback;
        }

        @Override
        public void complete(WebSocketChannel channel, Void context) {
            callback.done(null);
        }

        @Override
        public void onError(WebSocketChannel channel, Void context, Throwable throwable) {
            callback.done(throwable);
        }
    }
}
