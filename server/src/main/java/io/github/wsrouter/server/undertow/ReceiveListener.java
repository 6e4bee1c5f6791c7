package io.github.wsrouter.server.undertow;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.server.internal.FrameGuard;
import io.github.wsrouter.server.internal.TextMessages;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.CloseMessage;
import io.undertow.websockets.core.StreamSourceFrameChannel;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.nio.ByteBuffer;
import org.xnio.Pooled;

/** A native connection's receive listener: its messages, pings, pongs, closes and errors, to the connection. */
final class ReceiveListener extends AbstractReceiveListener {
    private final UndertowConnection connection;

    ReceiveListener(UndertowConnection connection) {
        this.connection = connection;
    }

    private int maxMessageSize() {
        return connection.limits().maxMessageSize();
    }

    @Override
    protected void onText(WebSocketChannel channel, StreamSourceFrameChannel message) throws java.io.IOException {
        if (!announcedTooBig(channel, message)) {
            // bytes gathered, then decoded in bulk: not Undertow's byte-at-a-time BufferedTextMessage
            TextMessages.read(message, maxMessageSize(), connection, this::deliverText, this::onError);
        }
    }

    private void deliverText(String text) {
        connection.handledByUndertow();
        connection.deliverText(text);
    }

    @Override
    protected void onBinary(WebSocketChannel channel, StreamSourceFrameChannel message) throws java.io.IOException {
        if (!announcedTooBig(channel, message)) {
            super.onBinary(channel, message);
        }
    }

    /**
     * A fallback for a connection without a {@link FrameGuard} (the one check of a message's
     * size, which never lets such a frame reach Undertow): a frame whose header announces more
     * than the limit is refused at once with 1009, before
     * any of it is read or buffered (Undertow closes the frame's stream when its announced
     * length is over the stream limit).
     *
     * <p>Only a stream that setMaxStreamSize itself closes is too big: a message with an empty
     * final frame (Autobahn 1.1.1, 1.2.1, 6.1.1, 9.7.1, 9.8.1) arrives already closed, as
     * Undertow ends a zero-length final frame's stream at once; it is an ordinary empty
     * message and goes on to Undertow's reader like any other.
     */
    private boolean announcedTooBig(WebSocketChannel channel, StreamSourceFrameChannel message) {
        boolean openBefore = message.isOpen();
        message.setMaxStreamSize(maxMessageSize());
        if (!openBefore || message.isOpen()) {
            return false;
        }
        connection.deliverError(new java.io.IOException("a frame announced more than " + maxMessageSize() + " bytes"));
        connection.closeForViolation(
                CloseStatus.MESSAGE_TOO_BIG.withReason("message over " + maxMessageSize() + " bytes"));
        return true;
    }

    @Override
    protected void onFullBinaryMessage(WebSocketChannel channel, BufferedBinaryMessage message) {
        Pooled<ByteBuffer[]> pooled = message.getData();
        try {
            ByteBuffer[] buffers = pooled.getResource();
            int size = 0;
            for (ByteBuffer buffer : buffers) {
                size += buffer.remaining();
            }
            ByteBuffer copy = ByteBuffer.allocate(size);
            for (ByteBuffer buffer : buffers) {
                copy.put(buffer);
            }
            connection.handledByUndertow();
            connection.deliverBinary(copy.flip());
        } finally {
            pooled.free();
        }
    }

    /**
     * Reads the peer's close status and answers with the same one. (Undertow's default reads
     * an empty close frame as 1000; RFC 6455 reports it as 1005. It is answered with 1000.)
     */
    @Override
    protected void onFullCloseMessage(WebSocketChannel channel, BufferedBinaryMessage message) {
        Pooled<ByteBuffer[]> data = message.getData();
        try {
            ByteBuffer payload = WebSockets.mergeBuffers(data.getResource());
            CloseStatus status = CloseStatus.NO_STATUS;
            if (payload.remaining() >= 2) {
                CloseMessage close = new CloseMessage(payload);
                try {
                    status = CloseStatus.of(close.getCode(), close.getReason());
                } catch (IllegalArgumentException invalid) {
                    status = CloseStatus.PROTOCOL_ERROR;
                }
            }
            connection.peerClosed(status); // answered through the send queue
        } finally {
            data.free();
        }
    }

    /**
     * A read failed. After a close frame for a violation (ours, or Undertow's own for a protocol
     * error, invalid UTF-8, or a binary message over the limit) the connection lingers before
     * its socket is closed, and the router hears the status that was sent; otherwise the
     * channel is closed at once, as Undertow's listener does.
     */
    @Override
    protected void onError(WebSocketChannel channel, Throwable error) {
        connection.deliverError(error);
        if (channel.isCloseFrameSent() && channel.isOpen()) {
            int code = channel.getCloseCode();
            CloseStatus sent = CloseStatus.PROTOCOL_ERROR; // Undertow's bare protocol errors
            try {
                sent = code > 0 ? CloseStatus.of(code, channel.getCloseReason()) : sent;
            } catch (IllegalArgumentException notAStatus) {
                // 1002 it is
            }
            connection.closeForViolation(sent); // Undertow's frame is out: the path records it and lingers
        } else {
            org.xnio.IoUtils.safeClose(channel);
        }
    }

    @Override
    protected void onFullPongMessage(WebSocketChannel channel, BufferedBinaryMessage message)
            throws java.io.IOException {
        connection.markInbound();
        connection.handledByUndertow();
        super.onFullPongMessage(channel, message);
    }

    @Override
    protected void onFullPingMessage(WebSocketChannel channel, BufferedBinaryMessage message)
            throws java.io.IOException {
        connection.markInbound();
        connection.handledByUndertow();
        super.onFullPingMessage(channel, message);
    }

    // Undertow's buffers, bounded as a last fallback: the FrameGuard checks the size first
    @Override
    protected long getMaxTextBufferSize() {
        return maxMessageSize();
    }

    @Override
    protected long getMaxBinaryBufferSize() {
        return maxMessageSize();
    }
}
