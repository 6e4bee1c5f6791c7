package io.github.wsrouter.server.internal;

import io.github.wsrouter.CloseStatus;
import io.undertow.websockets.core.WebSocketChannel;
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
 * frame parser, and enforces four bounds where Undertow falls short:
 * <ul>
 *   <li>the message size, as the sum of the lengths the frames of one message announce: closed
 *       with 1009 at the first header that goes over, before any of its payload is read. (Undertow's
 *       JSR container buffers a text message that spans reads whole whatever its size, and waits
 *       for the payload of a bare header announcing 2^63-1 bytes; its native frame stream drops a
 *       fragmented message over the limit with a TCP reset instead of 1009.)</li>
 *   <li>fragments per message, and pings per minute: closed with 1008. Neither costs memory in
 *       Undertow, but each costs a little work forever: a message in a million empty fragments, or
 *       pings without pause.</li>
 *   <li>the headers RFC 6455 forbids (reserved opcodes and bits, unmasked, fragmented or long
 *       control frames, a data frame out of its message's order): closed with 1002 at the header's
 *       second byte, where Undertow's parser would refuse it and drop the socket at once.</li>
 * </ul>
 *
 * <p>This is the one check of a message's size. The others only back it up where no guard could
 * be installed (Undertow's connection out of reach, or a container that is not Undertow's): the
 * receive listener's announced-length check and {@link TextMessages}' count on the native adapter,
 * Undertow's buffer limits, the Jakarta session's message buffer sizes. Every one of them closes
 * through the connection's one close path ({@link GuardedConnection#closeForViolation}); none
 * reads an exception's text.
 *
 * <p>It reads nothing itself while Undertow reads: it scans the bytes Undertow reads, in place, so
 * it adds no copy and no buffer. The frame that breaks a bound and everything after it is
 * discarded; the connection is answered with the close status.
 *
 * <p><b>Lingering close.</b> When the read side is closed while the peer may still be writing
 * (after a close for a violation, ours or Undertow's: 1002, 1007, 1008, 1009), the guard does not
 * shut the socket's input at once: dropping a socket with unread bytes makes the kernel answer
 * with a TCP reset, and a reset discards our close frame on the peer's side before it reads it.
 * Instead it reads and discards what comes, still following the frame headers, until the peer's
 * close frame, end of stream, {@link Settings.Limits#lingerBytes()} or {@link
 * Settings.Limits#lingerMillis()}, and then closes the socket (Undertow has shut the output once
 * our close frame was written). A peer that has sent its close frame is not lingered for.
 *
 * <p>Runs on the connection's IO thread only. Over 400 lines on purpose: the header scanner, the
 * bounds it checks and the conduit methods that hand the read side over to the {@link Lingering}
 * close share one state machine; the linger itself is a class of its own.
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

    private final StreamConnection connection;
    private final ConduitStreamSourceChannel source;

    private int state = FIRST;
    private boolean fin;
    /** The frame's RSV bits (0 to 7). */
    private int rsv;

    private int opcode;
    private boolean masked;
    private int pending;
    private long length;
    private long remaining;
    private int fragments;
    /** Whether a fragmented data message has begun and not ended. */
    private boolean inMessage;
    /** The payload bytes the frames of the current message announced so far. */
    private long messageBytes;
    /** Where the header being read began in the buffer being scanned; -1 if in an earlier read. */
    private int headerAt = -1;

    private int pings;
    private long pingWindowStart;
    private boolean violated;
    /** Where the header that broke a bound began in the buffer being scanned; -1 if in an earlier read. */
    private int violatedAt = -1;
    /** Whether the frame being read is a close frame. */
    private boolean closeFrame;
    /** Whether the peer's close frame has been read whole: it sends nothing after it. */
    private boolean peerClosed;
    /** Set once the read side is closed for Undertow: the guard reads and discards the rest. */
    private Lingering lingering;

    private FrameGuard(
            StreamSourceConduit next,
            GuardedConnection owner,
            StreamConnection connection,
            ConduitStreamSourceChannel source) {
        super(next);
        this.owner = owner;
        this.connection = connection;
        this.source = source;
    }

    /**
     * Puts a guard under the frame parser of a WebSocket connection that has not read any frame
     * yet (call it before receives are resumed). On a violation the channel is answered with the
     * status (1009 for a message over the size limit, 1008 for too many fragments or pings) through
     * the connection's one close path ({@link GuardedConnection#closeForViolation}), on the IO thread. The limits are the connection's route's. When
     * Undertow's connection cannot be reached the guard is not installed (logged once by {@code
     * underlying}); Undertow's own limits still apply.
     */
    public static void install(GuardedConnection owner) {
        install(owner, underlying(owner.webSocketChannel()));
    }

    /** The same, where the adapter has the socket under the channel at hand (the native upgrade). */
    public static void install(GuardedConnection owner, StreamConnection connection) {
        if (connection != null) {
            ConduitStreamSourceChannel source = connection.getSourceChannel();
            source.setConduit(new FrameGuard(source.getConduit(), owner, connection, source));
        }
    }

    /**
     * Closes the read side for Undertow after a close frame for a violation has been sent: where a
     * guard is in place it lingers, then closes the socket; else the channel is closed at once.
     */
    public static void stopReading(WebSocketChannel channel) {
        StreamConnection connection = underlying(channel);
        StreamSourceConduit top =
                connection == null ? null : connection.getSourceChannel().getConduit();
        if (!(top instanceof FrameGuard || top instanceof FrameReader)) { // a reader closes through to its guard
            IoUtils.safeClose(channel);
            return;
        }
        IoUtils.safeClose(connection.getSourceChannel()); // terminateReads below: the linger
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
                method = io.undertow.server.protocol.framed.AbstractFramedChannel.class.getDeclaredMethod(
                        "getUnderlyingConnection");
                method.setAccessible(true);
                underlyingConnection = method;
            }
            return (StreamConnection) method.invoke(channel);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "cannot reach Undertow's connection; fragment and ping limits are off: " + e);
            return null;
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (lingering != null) {
            return -1;
        }
        int start = dst.position();
        int read = next.read(dst);
        return inspect(dst, start, read);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        if (len == 1 || lingering != null) {
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
            scan(dst, start, start + read); // still following the frames, for the peer's close frame
            dst.position(start);
            return 0;
        }
        headerAt = state == FIRST ? start : -1;
        violatedAt = -1;
        scan(dst, start, start + read);
        if (violated) {
            int keep = Math.max(violatedAt, start);
            dst.position(keep);
            return keep - start;
        }
        return read;
    }

    private void scan(ByteBuffer buffer, int from, int to) {
        int i = from;
        while (i < to) {
            switch (state) {
                case PAYLOAD -> {
                    long skip = Math.min(remaining, to - i);
                    i += (int) skip;
                    remaining -= skip;
                    if (remaining == 0) {
                        frameRead();
                    }
                }
                case FIRST -> {
                    headerAt = i;
                    int b = buffer.get(i++) & 0xFF;
                    fin = (b & 0x80) != 0;
                    rsv = (b >> 4) & 0x07;
                    opcode = b & 0x0F;
                    state = SECOND;
                }
                case SECOND -> {
                    int b = buffer.get(i++) & 0xFF;
                    masked = (b & 0x80) != 0;
                    int len = b & 0x7F;
                    length = 0;
                    if (!violated && lingering == null) { // judged where Undertow's parser judges it
                        CloseStatus framing = framingError(len);
                        if (framing != null) {
                            violation(framing);
                        }
                    }
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
        if (!violated && lingering == null) {
            check();
        }
        closeFrame = opcode == 8;
        remaining = length < 0 ? Long.MAX_VALUE : length; // a negative 64-bit length is Undertow's to refuse
        if (remaining == 0) {
            frameRead();
        } else {
            state = PAYLOAD;
        }
    }

    private void frameRead() {
        state = FIRST;
        if (closeFrame) {
            peerClosed = true;
        }
    }

    /** Checks a whole header against the bounds that need its length: size, fragments, pings. */
    private void check() {
        if (opcode < 8) {
            inMessage = !fin;
            boolean first = opcode != 0;
            fragments = first ? 1 : fragments + 1;
            long announced = length < 0 ? Long.MAX_VALUE : length;
            messageBytes = first ? announced : saturatedAdd(messageBytes, announced);
            Settings.Limits limits = owner.limits();
            long maxMessageSize = limits.maxMessageSize();
            if (messageBytes > maxMessageSize) {
                violation(CloseStatus.MESSAGE_TOO_BIG.withReason("message over " + maxMessageSize + " bytes"));
            } else if (fragments > limits.maxFragments()) {
                violation(CloseStatus.POLICY_VIOLATION.withReason(
                        "more than " + limits.maxFragments() + " fragments in one message"));
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
                violation(CloseStatus.POLICY_VIOLATION.withReason(
                        "more than " + maxPingsPerMinute + " pings in a minute"));
            }
        }
    }

    /**
     * A header RFC 6455 forbids, refused here rather than by Undertow's parser, and at the same
     * byte: the second. Undertow answers those with its close frame, puts it ahead of the replies
     * still queued, and then drops the socket at once (it sends a second close frame, which
     * fails): the peer may read neither the replies nor the close code, and with no linger its
     * next bytes are answered with a reset. Judging at the second byte matters when a header
     * arrives over two reads, as it does from a client that writes byte by byte: judged only once
     * whole, the header's second byte had already reached Undertow. A continuation frame with no
     * message to continue is refused here too: the fragmented message just before it is still
     * answered first (Autobahn 5.15), as the close waits for what Undertow does with the bytes
     * before it ({@link #violation}).
     */
    private CloseStatus framingError(int firstLength) {
        String error = null;
        if (rsv != 0 && !extensionsNegotiated()) {
            error = "RSV bits without an extension";
        } else if (!masked) {
            error = "unmasked client frame";
        } else if ((opcode >= 3 && opcode <= 7) || opcode >= 11) {
            error = "reserved opcode " + opcode;
        } else if (opcode >= 8 && !fin) {
            error = "fragmented control frame";
        } else if (opcode >= 8 && firstLength > 125) {
            error = "control frame over 125 bytes";
        } else if (opcode == 0 && !inMessage) {
            error = "continuation frame with no message";
        } else if ((opcode == 1 || opcode == 2) && inMessage) {
            error = "new message inside a fragmented one";
        }
        return error == null ? null : CloseStatus.PROTOCOL_ERROR.withReason(error);
    }

    /** Whether the connection negotiated an extension, which may give the RSV bits a meaning. */
    private boolean extensionsNegotiated() {
        WebSocketChannel channel = owner.webSocketChannel();
        return channel == null || channel.areExtensionsSupported();
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    private void violation(CloseStatus status) {
        violated = true;
        violatedAt = headerAt;
        WebSocketChannel channel = owner.webSocketChannel();
        // After what Undertow does with the bytes before the violation: its replies go before the
        // close frame. Two tasks, not one: Undertow's Jakarta container delivers a message in a
        // task it queues while it reads (after this one), and a message that came just before the
        // violation was closed over unanswered (Autobahn 4.1.5's order, broken 9 times in 10 by a
        // client that writes byte by byte). Nothing after the violation reaches Undertow meanwhile.
        org.xnio.XnioIoThread thread = channel.getIoThread();
        Runnable close = () -> owner.closeForViolation(status);
        thread.execute(() -> {
            try {
                thread.execute(close);
            } catch (RuntimeException shuttingDown) {
                close.run(); // the IO thread takes no more tasks: close now
            }
        });
    }

    // The read side, closed for Undertow while the guard lingers.

    /**
     * Undertow closes the read side (after its own close for a protocol error, or ours through
     * {@link #stopReading}): linger, unless the peer has sent its close frame or lingering is off.
     */
    @Override
    public void terminateReads() throws IOException {
        if (lingering != null) {
            return;
        }
        Settings.Limits limits = owner.limits();
        if (peerClosed || limits.lingerMillis() <= 0 || limits.lingerBytes() <= 0 || next.isReadShutdown()) {
            next.terminateReads();
            return;
        }
        lingering = new Lingering(this, next, source, connection, limits);
        if (next.getReadThread() == Thread.currentThread()) {
            lingering.start();
        } else {
            next.getReadThread().execute(lingering::start);
        }
    }

    @Override
    public boolean isReadShutdown() {
        return lingering != null || next.isReadShutdown();
    }

    @Override
    public void resumeReads() {
        if (lingering == null) {
            next.resumeReads();
        }
    }

    @Override
    public void suspendReads() {
        if (lingering == null) {
            next.suspendReads();
        }
    }

    @Override
    public void wakeupReads() {
        if (lingering == null) {
            next.wakeupReads();
        }
    }

    @Override
    public boolean isReadResumed() {
        return lingering == null && next.isReadResumed();
    }

    /** Follows the frames of bytes read while lingering: whether the peer's close frame has been read. */
    boolean scanDiscarded(ByteBuffer buffer, int read) {
        scan(buffer, 0, read);
        return peerClosed;
    }
}
