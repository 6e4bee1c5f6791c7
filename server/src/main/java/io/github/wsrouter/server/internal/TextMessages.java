package io.github.wsrouter.server.internal;

import io.github.wsrouter.CloseStatus;
import io.undertow.websockets.core.StreamSourceFrameChannel;
import io.undertow.websockets.core.WebSocketChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.xnio.ChannelListener;

/**
 * Reads a whole text message (every fragment) as bytes and decodes it in one pass.
 *
 * <p>Undertow's {@code BufferedTextMessage} decodes byte at a time into a {@code StringBuilder},
 * and its {@code BufferedBinaryMessage} takes a pooled buffer per message (a synchronized lookup
 * of the thread's cache to take it and another to give it back). Here the bytes are read straight
 * into a scratch array of the IO thread, and decoded with {@code new String(bytes, UTF_8)}, whose
 * ASCII path is vectorised: a message that has arrived whole, the usual case, costs one copy and
 * one decode. One that is still arriving, or is larger than the scratch array, continues into an
 * array of its own as its bytes come.
 *
 * <p>The decoding may be lenient because it never sees invalid input: Undertow's frame channel
 * checks every text frame's bytes as it reads them ({@code UTF8Checker}, across fragments) and
 * fails the read, and so the message, on the first invalid sequence or an incomplete one at the
 * end. Over {@code maxBytes} (a fallback: the {@link FrameGuard} refuses such a message at its
 * headers) the connection is closed for the violation with 1009 and the read fails.
 */
public final class TextMessages {

    /** The scratch array of each IO thread: messages up to this size are read without allocating. */
    private static final int SCRATCH_BYTES = 16 * 1024;

    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[SCRATCH_BYTES]);

    private TextMessages() {}

    /**
     * Reads the message on the frame channel, then calls {@code onText} with its text, or
     * {@code onError} if the read failed (invalid UTF-8, over {@code maxBytes}, the socket).
     */
    public static void read(
            StreamSourceFrameChannel frames,
            long maxBytes,
            GuardedConnection owner,
            Consumer<String> onText,
            BiConsumer<WebSocketChannel, Throwable> onError) {
        byte[] scratch = SCRATCH.get();
        ByteBuffer into = ByteBuffer.wrap(scratch);
        try {
            for (; ; ) {
                int read = frames.read(into);
                if (read < 0) {
                    String text = new String(scratch, 0, into.position(), StandardCharsets.UTF_8);
                    onText.accept(text); // the scratch array is free again before the router runs
                    return;
                }
                if (into.position() > maxBytes) {
                    throw tooBig(owner, maxBytes);
                }
                if (read == 0 || !into.hasRemaining()) {
                    // still arriving, or larger than the scratch array: on into an array of its own
                    Arriving arriving = new Arriving(
                            Arrays.copyOf(scratch, Math.max(into.position() * 2, 1024)),
                            into.position(),
                            maxBytes,
                            owner,
                            onText,
                            onError);
                    if (read == 0) {
                        frames.getReadSetter().set(arriving);
                        frames.resumeReads();
                    } else {
                        arriving.handleEvent(frames);
                    }
                    return;
                }
            }
        } catch (IOException e) {
            onError.accept(frames.getWebSocketChannel(), e);
        }
    }

    private static IOException tooBig(GuardedConnection owner, long maxBytes) {
        CloseStatus status = CloseStatus.MESSAGE_TOO_BIG.withReason("message over " + maxBytes + " bytes");
        owner.closeForViolation(status);
        return new IOException(status.reason());
    }

    /** A message read over several readiness events, into an array that grows as needed. */
    private static final class Arriving implements ChannelListener<StreamSourceFrameChannel> {
        private byte[] bytes;
        private int size;
        private final long maxBytes;
        private final GuardedConnection owner;
        private final Consumer<String> onText;
        private final BiConsumer<WebSocketChannel, Throwable> onError;
        private boolean done;

        Arriving(
                byte[] bytes,
                int size,
                long maxBytes,
                GuardedConnection owner,
                Consumer<String> onText,
                BiConsumer<WebSocketChannel, Throwable> onError) {
            this.bytes = bytes;
            this.size = size;
            this.maxBytes = maxBytes;
            this.owner = owner;
            this.onText = onText;
            this.onError = onError;
        }

        @Override
        public void handleEvent(StreamSourceFrameChannel frames) {
            if (done) {
                return;
            }
            try {
                for (; ; ) {
                    if (size == bytes.length) {
                        long grown = Math.min((long) bytes.length * 2, maxBytes + 1);
                        bytes = Arrays.copyOf(
                                bytes, (int) Math.min(Math.max(grown, bytes.length + 1L), Integer.MAX_VALUE - 8));
                    }
                    int read = frames.read(ByteBuffer.wrap(bytes, size, bytes.length - size));
                    if (read < 0) {
                        done = true;
                        frames.suspendReads();
                        onText.accept(new String(bytes, 0, size, StandardCharsets.UTF_8));
                        return;
                    }
                    if (read == 0) {
                        return; // the rest comes with a later readiness event
                    }
                    size += read;
                    if (size > maxBytes) {
                        throw tooBig(owner, maxBytes);
                    }
                }
            } catch (IOException e) {
                done = true;
                frames.suspendReads();
                onError.accept(frames.getWebSocketChannel(), e);
            }
        }
    }
}
