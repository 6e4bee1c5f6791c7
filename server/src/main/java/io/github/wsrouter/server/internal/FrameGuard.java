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
 * frame parser, and enforces three bounds where Undertow falls short:
 * <ul>
 *   <li>the message size, as the sum of the lengths the frames of one message announce: closed
 *       with 1009 at the first header that goes over, before any of its payload is read. (Undertow's
 *       JSR container buffers a text message that spans reads whole whatever its size, and waits
 *       for the payload of a bare header announcing 2^63-1 bytes; its native frame stream drops a
 *       fragmented message over the limit with a TCP reset instead of 1009.)</li>
 *   <li>fragments per message, and pings per minute: closed with 1008. Neither costs memory in
 *       Undertow, but each costs a little work forever: a message in a million empty fragments, or
 *       pings without pause.</li>
 * </ul>
 *
 * <p>It reads nothing itself: it scans the bytes Undertow reads, in place, so it adds no copy and
 * no buffer. The frame that breaks a bound and everything after it is discarded; the connection is
 * answered with the close status and closed as soon as the close frame is written.
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

    /** The guarded connection: its limits, its channel, and whom to tell of a violation. */
    private final GuardedConnection owner;

    private int state = FIRST;
    private boolean fin;
    private int opcode;
    private boolean masked;
    private int pending;
    private long length;
    private long remaining;
    private int fragments;
    /** The payload bytes the frames of the current message announced so far. */
    private long messageBytes;
    /** Where the header being read began in the buffer being scanned; -1 if in an earlier read. */
    private int headerAt = -1;
    private int pings;
    private long pingWindowStart;
    private boolean violated;

    private FrameGuard(StreamSourceConduit next, GuardedConnection owner) {
        super(next);
        this.owner = owner;
    }

    /**
     * Puts a guard under the frame parser of a WebSocket connection that has not read any frame
     * yet (call it before receives are resumed). On a violation the channel is answered with the
     * status (1009 for a message over the size limit, 1008 for too many fragments or pings) and
     * closed; the connection's {@link GuardedConnection#closedBy} hears the status first, on the IO
     * thread. The limits are the connection's route's.
     *
     * @return whether the guard is in place (it is not when Undertow's connection cannot be reached)
     */
    public static boolean install(GuardedConnection owner) {
        WebSocketChannel channel = owner.webSocketChannel();
        StreamConnection connection = underlying(channel);
        if (connection == null) {
            return false;
        }
        ConduitStreamSourceChannel source = connection.getSourceChannel();
        source.setConduit(new FrameGuard(source.getConduit(), owner));
        return true;
    }

    private static void closeForViolation(WebSocketChannel channel, CloseStatus status, GuardedConnection closing) {
        LOG.log(System.Logger.Level.INFO, () -> "closing WebSocket connection from " + channel.getSourceAddress()
                + ": " + status.code() + " " + status.reason());
        closing.closedBy(status);
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

    /**
     * Scans what a read put in {@code dst} from {@code start}. Once a frame header breaks a bound,
     * that frame and everything after it is discarded (what came before it goes on to Undertow).
     */
    private int inspect(ByteBuffer dst, int start, int read) {
        if (read <= 0) {
            return read;
        }
        if (violated) {
            dst.position(start);
            return 0;
        }
        headerAt = state == FIRST ? start : -1;
        scan(dst, start, start + read);
        if (violated) {
            int keep = Math.max(headerAt, start);
            dst.position(keep);
            return keep - start;
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
                    headerAt = i;
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
            boolean first = opcode != 0;
            fragments = first ? 1 : fragments + 1;
            long announced = length < 0 ? Long.MAX_VALUE : length;
            messageBytes = first ? announced : saturatedAdd(messageBytes, announced);
            Settings.Limits limits = owner.limits();
            long maxMessageSize = limits.maxMessageSize();
            if (messageBytes > maxMessageSize) {
                violation(CloseStatus.MESSAGE_TOO_BIG.withReason("message over " + maxMessageSize + " bytes"));
            } else if (fragments > limits.maxFragments()) {
                violation(CloseStatus.POLICY_VIOLATION.withReason("more than " + limits.maxFragments()
                        + " fragments in one message"));
            }
            if (fin) {
                fragments = 0;
                messageBytes = 0;
            }
        } else if (opcode == 9) {
            long now = System.nanoTime();
            if (pings == 0 || now - pingWindowStart > MINUTE_NANOS) {
                pingWindowStart = now;
                pings = 0;
            }
            int maxPingsPerMinute = owner.limits().maxPingsPerMinute();
            if (++pings > maxPingsPerMinute) {
                violation(CloseStatus.POLICY_VIOLATION.withReason("more than " + maxPingsPerMinute + " pings in a minute"));
            }
        }
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    private void violation(CloseStatus status) {
        violated = true;
        WebSocketChannel channel = owner.webSocketChannel();
        channel.getIoThread().execute(() -> closeForViolation(channel, status, owner));
    }
}
