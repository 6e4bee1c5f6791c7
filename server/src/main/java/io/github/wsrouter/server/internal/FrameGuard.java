package io.github.wsrouter.server.internal;

import io.github.wsrouter.CloseStatus;
import io.undertow.websockets.core.WebSocketCallback;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Watches the frame headers of one WebSocket connection as its bytes are read, below Undertow's
 * frame parser, and enforces the two bounds that parser has no setting for: fragments per message
 * and pings per minute. Neither costs memory in Undertow (an empty continuation frame or a ping is
 * cheap to read), but each costs a little work forever: a peer that sends a message in a million
 * empty fragments, or pings without pause, is closed with 1008 instead.
 *
 * <p>It reads nothing itself: it scans the bytes Undertow reads, in place, so it adds no copy and
 * no buffer. After a violation it discards whatever the peer sends next, answers 1008 and closes
 * the socket as soon as the close frame is written.
 *
 * <p>Runs on the connection's IO thread only.
 */
public final class FrameGuard extends AbstractStreamSourceConduit<StreamSourceConduit> {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");
    private static final long MINUTE_NANOS = TimeUnit.MINUTES.toNanos(1);

    private static final int FIRST = 0;
    private static final int SECOND = 1;
    private static final int LENGTH = 2;
    private static final int MASK = 3;
    private static final int PAYLOAD = 4;

    private final int maxFragments;
    private final int maxPingsPerMinute;
    private final Consumer<String> onViolation;

    private int state = FIRST;
    private boolean fin;
    private int opcode;
    private boolean masked;
    private int pending;
    private long length;
    private long remaining;
    private int fragments;
    private int pings;
    private long pingWindowStart;
    private boolean violated;

    private FrameGuard(StreamSourceConduit next, int maxFragments, int maxPingsPerMinute, Consumer<String> onViolation) {
        super(next);
        this.maxFragments = maxFragments;
        this.maxPingsPerMinute = maxPingsPerMinute;
        this.onViolation = onViolation;
    }

    /**
     * Puts a guard under the frame parser of a WebSocket connection that has not read any frame
     * yet (call it before receives are resumed). On a violation the channel is answered with 1008
     * and the reason, and closed; {@code closing} hears the status first, on the IO thread.
     *
     * @return whether the guard is in place (it is not when Undertow's connection cannot be reached)
     */
    public static boolean install(WebSocketChannel channel, int maxFragments, int maxPingsPerMinute,
                                  Consumer<CloseStatus> closing) {
        StreamConnection connection = underlying(channel);
        if (connection == null) {
            return false;
        }
        ConduitStreamSourceChannel source = connection.getSourceChannel();
        source.setConduit(new FrameGuard(source.getConduit(), maxFragments, maxPingsPerMinute,
                reason -> channel.getIoThread().execute(() -> closeForViolation(channel, reason, closing))));
        return true;
    }

    private static void closeForViolation(WebSocketChannel channel, String reason, Consumer<CloseStatus> closing) {
        CloseStatus status = CloseStatus.POLICY_VIOLATION.withReason(reason);
        LOG.log(System.Logger.Level.INFO, () -> "closing WebSocket connection from " + channel.getSourceAddress()
                + ": 1008 " + reason);
        closing.accept(status);
        if (channel.isCloseFrameSent() || !channel.isOpen()) {
            IoUtils.safeClose(channel);
            return;
        }
        WebSockets.sendClose(status.code(), status.reason(), channel, new WebSocketCallback<Void>() {
            @Override
            public void complete(WebSocketChannel ch, Void context) {
                IoUtils.safeClose(ch);
            }

            @Override
            public void onError(WebSocketChannel ch, Void context, Throwable throwable) {
                IoUtils.safeClose(ch);
            }
        });
    }

    private static volatile Method underlyingConnection;

    /**
     * The socket under a WebSocket channel. Undertow keeps it behind a protected accessor; both the
     * native handler and the Jakarta container build their channels on it.
     */
    private static StreamConnection underlying(WebSocketChannel channel) {
        try {
            Method method = underlyingConnection;
            if (method == null) {
                method = io.undertow.server.protocol.framed.AbstractFramedChannel.class
                        .getDeclaredMethod("getUnderlyingConnection");
                method.setAccessible(true);
                underlyingConnection = method;
            }
            return (StreamConnection) method.invoke(channel);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot reach Undertow's connection; fragment and ping limits are off: " + e);
            return null;
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int start = dst.position();
        int read = next.read(dst);
        return inspect(dst, start, read);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        if (len == 1) {
            return read(dsts[offs]);
        }
        int[] starts = new int[len];
        for (int i = 0; i < len; i++) {
            starts[i] = dsts[offs + i].position();
        }
        long read = next.read(dsts, offs, len);
        if (read <= 0) {
            return read;
        }
        long kept = 0;
        for (int i = 0; i < len; i++) {
            ByteBuffer dst = dsts[offs + i];
            int n = dst.position() - starts[i];
            if (n > 0) {
                kept += inspect(dst, starts[i], n);
            }
        }
        return kept;
    }

    @Override
    public long transferTo(long position, long count, FileChannel target) throws IOException {
        return target.transferFrom(new ConduitReadableByteChannel(this), position, count);
    }

    @Override
    public long transferTo(long count, ByteBuffer throughBuffer, StreamSinkChannel target) throws IOException {
        return Conduits.transfer(this, count, throughBuffer, target);
    }

    /** Scans what a read put in {@code dst} from {@code start}; after a violation, discards it. */
    private int inspect(ByteBuffer dst, int start, int read) {
        if (read <= 0) {
            return read;
        }
        if (!violated) {
            scan(dst, start, start + read);
        }
        if (violated) {
            dst.position(start);
            return 0;
        }
        return read;
    }

    private void scan(ByteBuffer buffer, int from, int to) {
        int i = from;
        while (i < to && !violated) {
            switch (state) {
                case PAYLOAD -> {
                    long skip = Math.min(remaining, to - i);
                    i += (int) skip;
                    remaining -= skip;
                    if (remaining == 0) {
                        state = FIRST;
                    }
                }
                case FIRST -> {
                    int b = buffer.get(i++) & 0xFF;
                    fin = (b & 0x80) != 0;
                    opcode = b & 0x0F;
                    state = SECOND;
                }
                case SECOND -> {
                    int b = buffer.get(i++) & 0xFF;
                    masked = (b & 0x80) != 0;
                    int len = b & 0x7F;
                    length = 0;
                    if (len == 126 || len == 127) {
                        pending = len == 126 ? 2 : 8;
                        state = LENGTH;
                    } else {
                        length = len;
                        lengthRead();
                    }
                }
                case LENGTH -> {
                    length = (length << 8) | (buffer.get(i++) & 0xFF);
                    if (--pending == 0) {
                        lengthRead();
                    }
                }
                case MASK -> {
                    i++;
                    if (--pending == 0) {
                        headerRead();
                    }
                }
                default -> throw new IllegalStateException("state " + state);
            }
        }
    }

    private void lengthRead() {
        if (masked) {
            pending = 4;
            state = MASK;
        } else {
            headerRead();
        }
    }

    private void headerRead() {
        check();
        remaining = length < 0 ? Long.MAX_VALUE : length; // a negative 64-bit length is Undertow's to refuse
        state = remaining == 0 ? FIRST : PAYLOAD;
    }

    private void check() {
        if (opcode < 8) {
            fragments = opcode == 0 ? fragments + 1 : 1;
            if (fragments > maxFragments) {
                violation("more than " + maxFragments + " fragments in one message");
            }
            if (fin) {
                fragments = 0;
            }
        } else if (opcode == 9) {
            long now = System.nanoTime();
            if (pings == 0 || now - pingWindowStart > MINUTE_NANOS) {
                pingWindowStart = now;
                pings = 0;
            }
            if (++pings > maxPingsPerMinute) {
                violation("more than " + maxPingsPerMinute + " pings in a minute");
            }
        }
    }

    private void violation(String reason) {
        violated = true;
        onViolation.accept(reason);
    }
}
