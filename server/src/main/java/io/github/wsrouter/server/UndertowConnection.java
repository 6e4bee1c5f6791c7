package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.internal.AbstractConnection;
import io.github.wsrouter.internal.Handshake;
import io.github.wsrouter.internal.RouteCounters;
import io.github.wsrouter.internal.SendLimits;
import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.xnio.IoUtils;

/**
 * A connection on Undertow's native WebSocket channel. Frames go out through {@link WebSockets}'
 * asynchronous sends, one at a time (the queue is {@link AbstractConnection}'s).
 */
final class UndertowConnection extends AbstractConnection {

    private final WebSocketChannel channel;
    private final long closeTimeoutMillis;
    /** The status we sent first, if we closed first; else the peer's is reported. */
    private volatile CloseStatus sentStatus;
    private volatile CloseStatus receivedStatus;

    UndertowConnection(Handshake handshake, MessageRouter router, Executor callbackExecutor, SendLimits limits,
                       RouteCounters counters, WebSocketChannel channel, long closeTimeoutMillis) {
        super(handshake, router, callbackExecutor, limits, counters);
        this.channel = channel;
        this.closeTimeoutMillis = closeTimeoutMillis;
    }

    @Override
    protected void writeText(String text, WriteCallback callback) {
        WebSockets.sendText(ByteBuffer.wrap(Utf8Cache.encode(text)), channel, new Callback(callback));
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
        WebSockets.sendBinary(data, channel, new Callback(callback));
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
        channel.getIoThread().executeAfter(() -> IoUtils.safeClose(channel), closeTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void slowConsumer() {
        closedBy(CloseStatus.SLOW_CONSUMER);
        // the frame in flight may never complete for a peer that does not read: drop it in time
        channel.getIoThread().executeAfter(() -> IoUtils.safeClose(channel), closeTimeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** The peer's close frame arrived. */
    void closeReceived(CloseStatus status) {
        receivedStatus = status;
    }

    /** Undertow closed the channel: report the status of the closing handshake, or 1006. */
    void channelClosed() {
        CloseStatus sent = sentStatus;
        CloseStatus received = receivedStatus;
        closed(sent != null ? sent : received != null ? received : CloseStatus.ABNORMAL_CLOSURE);
    }

    /** Records the status Undertow sent by itself (message too big) before it drops the channel. */
    void closedBy(CloseStatus status) {
        if (sentStatus == null && receivedStatus == null) {
            sentStatus = status;
        }
    }

    /** Drops a peer that has been silent for the idle timeout: the router sees 1001 "idle timeout". */
    void dropIdle() {
        closedBy(CloseStatus.GOING_AWAY.withReason("idle timeout"));
        abort();
    }

    /** Drops the channel without a closing handshake. */
    void abort() {
        IoUtils.safeClose(channel);
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
