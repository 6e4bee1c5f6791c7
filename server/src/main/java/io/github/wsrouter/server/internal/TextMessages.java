package io.github.wsrouter.server.internal;

import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.StreamSourceFrameChannel;
import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.xnio.Pooled;

/**
 * Reads a whole text message (every fragment) as bytes and decodes it in one pass.
 *
 * <p>Undertow's {@code BufferedTextMessage} decodes byte at a time into a {@code StringBuilder};
 * here the bytes are gathered by Undertow's {@link BufferedBinaryMessage} (same pooled buffers,
 * same size limit and 1009 close) and decoded with {@code new String(bytes, UTF_8)}, whose ASCII
 * path is vectorised. The decoding may be lenient because it never sees invalid input: Undertow's
 * frame channel checks every text frame's bytes as it reads them ({@code UTF8Checker}, across
 * fragments) and fails the read, and so the message, on the first invalid sequence or an
 * incomplete one at the end.
 */
public final class TextMessages {

    /** The scratch buffer of each IO thread, for messages up to this size. */
    private static final int SCRATCH_BYTES = 16 * 1024;
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[SCRATCH_BYTES]);

    private TextMessages() {
    }

    /**
     * Reads the message on the frame channel, then calls {@code onText} with its text, or
     * {@code onError} if the read failed (invalid UTF-8, over {@code maxBytes}, the socket).
     */
    public static void read(StreamSourceFrameChannel frames, long maxBytes, Consumer<String> onText,
                            BiConsumer<WebSocketChannel, Throwable> onError) {
        BufferedBinaryMessage message = new BufferedBinaryMessage(maxBytes, true);
        message.read(frames, new WebSocketCallback<>() {
            @Override
            public void complete(WebSocketChannel channel, BufferedBinaryMessage context) {
                Pooled<ByteBuffer[]> data = context.getData();
                String text;
                try {
                    text = decode(data.getResource());
                } finally {
                    data.free();
                }
                onText.accept(text);
            }

            @Override
            public void onError(WebSocketChannel channel, BufferedBinaryMessage context, Throwable error) {
                context.getData().close();
                onError.accept(channel, error);
            }
        });
    }

    /** Decodes the buffers' remaining bytes, which are valid UTF-8, consuming them. */
    static String decode(ByteBuffer[] buffers) {
        int size = 0;
        for (ByteBuffer buffer : buffers) {
            size += buffer.remaining();
        }
        if (size == 0) {
            return "";
        }
        if (buffers.length == 1 && buffers[0].hasArray()) {
            ByteBuffer only = buffers[0];
            String text = new String(only.array(), only.arrayOffset() + only.position(), size, StandardCharsets.UTF_8);
            only.position(only.limit());
            return text;
        }
        byte[] bytes = size <= SCRATCH_BYTES ? SCRATCH.get() : new byte[size];
        int at = 0;
        for (ByteBuffer buffer : buffers) {
            int n = buffer.remaining();
            buffer.get(bytes, at, n);
            at += n;
        }
        return new String(bytes, 0, size, StandardCharsets.UTF_8);
    }
}
