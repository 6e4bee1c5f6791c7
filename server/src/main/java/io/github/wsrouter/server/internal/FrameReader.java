package io.github.wsrouter.server.internal;

import io.github.wsrouter.CloseStatus;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.xnio.ChannelListener;
import org.xnio.channels.StreamSinkChannel;
import org.xnio.conduits.AbstractStreamSourceConduit;
import org.xnio.conduits.ConduitReadableByteChannel;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Reads the plain data frames of one native WebSocket connection itself, above the {@link
 * FrameGuard} and in place of Undertow's frame parser, and hands Undertow every other byte.
 *
 * <p>A <em>plain</em> frame is a whole message in one frame: final, text or binary, masked, no
 * reserved bit set, and small enough for the IO thread's read array (up to 64 KiB of payload, and
 * never over the route's message size, which the guard below has already enforced). That is almost
 * every message a chat, a game or a dashboard sends, and for it Undertow's reading costs more than
 * the message: a frame channel, a pooled buffer and a slice of it, a lock, and unmasking and UTF-8
 * checking one byte at a time. Here the socket's bytes are read into the IO thread's array, each
 * plain frame is unmasked in place eight bytes at a time, a text is checked and decoded (an ASCII
 * text by one pass that finds no byte over 127, any other by the JDK's strict UTF-8 decoder), and
 * the message goes to the connection.
 *
 * <p>Everything else is Undertow's, as before: fragmented messages, control frames (pings, pongs,
 * the close handshake), frames with reserved bits, frames larger than the array, a text frame that
 * has not arrived whole and already holds a byte over 127 (Undertow checks such a text as it comes
 * and fails an invalid one at once), the end of the stream, a failed read, and everything once a
 * close has begun. The reader is installed as the socket's read listener, in front of Undertow's,
 * and as the conduit Undertow reads from. It reads frames itself only when Undertow is idle: every
 * message and control frame Undertow was given has been handled ({@link #handledByUndertow}, from
 * the receive listener), and Undertow holds no part of a frame. (While a fragmented message is
 * open, the frames that may come are continuations and control frames, none of them plain; a plain
 * one there is a protocol error, which the guard refuses before it is read.) The bytes it has read
 * and not handled (a frame not whole yet, or frames for Undertow) are held for the connection, and
 * Undertow reads them first, one frame at a time, so that the reader takes over again after the
 * ping or the fragment; a {@link FrameScanner} follows what Undertow is given. So messages reach
 * the connection in the order they were sent, whoever read them.
 *
 * <p><b>The end of the stream.</b> When the reader meets the end of the stream or a failed read
 * with nothing held, Undertow meets it in a task of the IO thread rather than at once, and the
 * socket's reads are suspended until then, which takes it off the selector. Undertow closes the
 * socket in that task. The reason is XNIO's: closing a socket on its own IO thread cancels its key
 * and polls the selector at once ({@code WorkerThread.cancelKey}), and the JDK's level-triggered
 * epoll reports every other socket still readable. When thousands of clients go at once (a
 * network cut, a balancer restarting), each close in the pass that read its end polled every
 * other end still waiting; in tasks, the others are off the selector and each poll finds next to
 * nothing.
 *
 * <p>A text frame that is not UTF-8 closes the connection with 1007, as Undertow does, and nothing
 * after it is read. The connection holds no buffer between reads unless a frame is incomplete.
 * Runs on the connection's IO thread only.
 */
public final class FrameReader extends AbstractStreamSourceConduit<StreamSourceConduit>
        implements ChannelListener<ConduitStreamSourceChannel> {

    /** What the reader needs of its connection: {@code AbstractConnection} has each of them. */
    public interface Owner extends GuardedConnection {
        /** Whether the connection is open: false from the first close on, sent or received. */
        boolean isOpen();

        /** A whole text message arrived. */
        void deliverText(String text);

        /** A whole binary message arrived; the buffer is the connection's. */
        void deliverBinary(ByteBuffer data);

        /** A read failed or the peer broke the protocol: the router hears of it. */
        void deliverError(Throwable error);
    }

    /** The payload of the largest frame read here: larger ones are Undertow's. */
    static final int MAX_PAYLOAD = 64 * 1024;

    private static final int MAX_HEADER = 14;
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final long HIGH_BITS = 0x8080808080808080L;

    /** The array of each IO thread that the socket is read into. */
    private static final class Scratch {
        final byte[] bytes = new byte[MAX_HEADER + MAX_PAYLOAD];
        final ByteBuffer buffer = ByteBuffer.wrap(bytes);
        final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder(); // reports what is not UTF-8
        boolean inUse;
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final Owner owner;
    /** Undertow's read listener, which this one stands in front of. */
    private final ChannelListener<? super ConduitStreamSourceChannel> undertow;
    /** The channel Undertow's listener is called with; null in unit tests, where no end is deferred. */
    private ConduitStreamSourceChannel source;
    /** The end of the stream, or a failed read, waits for Undertow in a task of the IO thread ({@link #deferEnd}). */
    private boolean endDeferred;
    /** Whether Undertow wants to hear when the socket is readable: it resumed reads and has not suspended them since. */
    private boolean upperResumed;
    /** The largest payload read here: the array's, or the route's message size if smaller. */
    private final int maxPayload;

    /** Bytes read and not handled yet: a frame that is not whole, or frames for Undertow. */
    private byte[] held;

    private int heldFrom;
    private int heldLength;
    /** Of a text frame held incomplete: how many of its payload bytes were found to be ASCII. */
    private int heldChecked;
    /** The held bytes begin with a frame for Undertow. */
    private boolean undertowNext;
    /** A read that failed, for Undertow to meet after the held bytes. */
    private IOException failure;
    /** A text was not UTF-8: the connection is closing with 1007 and nothing more is read. */
    private boolean stopped;

    /** Follows the frames given to Undertow. */
    private final FrameScanner given = new FrameScanner();
    /** Messages and control frames given to Undertow, and those it has handled. */
    private int givenEnds;

    private int handledEnds;

    FrameReader(
            StreamSourceConduit next,
            Owner owner,
            ChannelListener<? super ConduitStreamSourceChannel> undertow,
            int maxPayload) {
        super(next);
        this.owner = owner;
        this.undertow = undertow;
        this.maxPayload = maxPayload;
    }

    /**
     * Puts a reader in front of Undertow's frame parser on a WebSocket connection whose channel
     * exists and has read nothing yet (after the {@link FrameGuard}, before receives are resumed).
     * Returns it: the receive listener tells it of each message and control frame Undertow handled.
     */
    public static FrameReader install(Owner owner, org.xnio.StreamConnection socket) {
        ConduitStreamSourceChannel source = socket.getSourceChannel();
        int maxPayload = (int) Math.min(MAX_PAYLOAD, owner.limits().maxMessageSize());
        FrameReader reader = new FrameReader(source.getConduit(), owner, source.getReadListener(), maxPayload);
        reader.source = source;
        source.setConduit(reader);
        source.setReadListener(reader);
        return reader;
    }

    /**
     * Undertow handled a message or a control frame it was given (delivered it, or answered a
     * ping): once it has handled all of them, the reader reads the next frames itself.
     */
    public void handledByUndertow() {
        handledEnds++;
    }

    private boolean undertowIdle() {
        return !undertowNext && given.betweenFrames() && givenEnds == handledEnds && owner.isOpen();
    }

    // The socket is readable

    @Override
    public void handleEvent(ConduitStreamSourceChannel channel) {
        if (stopped) {
            next.suspendReads(); // until the guard lingers, or the socket closes
            return;
        }
        for (; ; ) {
            if (!undertowIdle()) {
                int before = heldLength;
                undertow.handleEvent(channel); // it reads the held bytes first, then the socket
                if (heldLength == 0 || heldLength == before || stopped) {
                    return; // it goes on from its own buffer, or from the next readiness
                }
                continue; // it took part of what is held: again, or read the rest here if it is idle
            }
            Scratch scratch = SCRATCH.get();
            if (scratch.inUse) { // a read inside a delivery (not expected): Undertow reads this one
                undertowNext = heldLength > 0;
                undertow.handleEvent(channel);
                return;
            }
            scratch.inUse = true;
            boolean forUndertow;
            try {
                forUndertow = readFrames(scratch);
            } finally {
                scratch.inUse = false;
            }
            if (!forUndertow || stopped) {
                return;
            }
        }
    }

    /**
     * Reads what the socket has, after the held bytes, and delivers the plain frames at the head.
     * Returns whether it stopped at bytes for Undertow (held, and {@link #undertowNext} set).
     */
    private boolean readFrames(Scratch scratch) {
        byte[] a = scratch.bytes;
        ByteBuffer buffer = scratch.buffer;
        buffer.clear();
        int checked = heldChecked;
        if (heldLength > 0) {
            buffer.put(held, heldFrom, heldLength);
            dropHeld();
        }
        int read;
        try {
            read = next.read(buffer);
        } catch (IOException e) {
            failure = e;
            read = 0;
        }
        int end = buffer.position();
        int at = 0;
        boolean forUndertow = false;
        while (at < end && !stopped) {
            if (!owner.isOpen()) {
                forUndertow = true; // a close has begun: what follows is Undertow's
                break;
            }
            int available = end - at;
            if (available < 2) {
                break;
            }
            int b0 = a[at];
            int b1 = a[at + 1];
            int opcode = b0 & 0x0F;
            if ((b0 & 0xF0) != 0x80 || (opcode != 1 && opcode != 2) || (b1 & 0x80) == 0) {
                forUndertow = true; // not final, a reserved bit, a control frame, unmasked
                break;
            }
            int lengthByte = b1 & 0x7F;
            int header = lengthByte < 126 ? 6 : lengthByte == 126 ? 8 : 14;
            if (available < header) {
                break;
            }
            long length = lengthByte < 126
                    ? lengthByte
                    : lengthByte == 126 ? ((a[at + 2] & 0xFF) << 8) | (a[at + 3] & 0xFF) : (long) LONGS.get(a, at + 2);
            if (length < 0 || length > maxPayload) {
                forUndertow = true;
                break;
            }
            int size = (int) length;
            int payload = at + header;
            int mask = (int) INTS.get(a, payload - 4);
            if (available < header + size) { // not whole yet
                if (opcode == 1) {
                    checked = asciiSoFar(a, payload, end - payload, mask, checked);
                    forUndertow = checked < 0;
                }
                break;
            }
            checked = 0;
            boolean ascii = unmask(a, payload, size, mask);
            at = payload + size;
            if (opcode == 2) {
                owner.deliverBinary(ByteBuffer.wrap(Arrays.copyOfRange(a, payload, payload + size)));
            } else {
                String text = ascii
                        ? new String(a, payload, size, StandardCharsets.ISO_8859_1)
                        : utf8(scratch.utf8, a, payload, size);
                if (text == null) {
                    notUtf8();
                    return false;
                }
                owner.deliverText(text);
            }
        }
        boolean ended = read < 0 || failure != null;
        forUndertow |= ended; // Undertow meets the end of the stream, or the failure
        if (at < end && !stopped) {
            hold(a, at, end - at);
            heldChecked = forUndertow ? 0 : Math.max(checked, 0);
        }
        if (ended && heldLength == 0 && !stopped && deferEnd()) {
            undertowNext = false;
            return false;
        }
        undertowNext = forUndertow;
        return forUndertow;
    }

    /**
     * Unmasks {@code size} bytes in place, eight at a time; whether all of them are ASCII. The
     * mask's first byte applies at {@code from}.
     */
    private static boolean unmask(byte[] a, int from, int size, int mask) {
        long mask8 = ((long) mask << 32) | (mask & 0xFFFFFFFFL);
        long high = 0;
        int i = from;
        int end = from + size;
        for (; i <= end - 8; i += 8) {
            long word = (long) LONGS.get(a, i) ^ mask8;
            LONGS.set(a, i, word);
            high |= word;
        }
        boolean ascii = (high & HIGH_BITS) == 0;
        for (; i < end; i++) {
            byte b = (byte) (a[i] ^ (mask >>> (24 - 8 * ((i - from) & 3))));
            a[i] = b;
            ascii &= b >= 0;
        }
        return ascii;
    }

    /**
     * Of a text payload not whole yet, still masked: whether the {@code available} bytes are
     * ASCII, looking at those after the first {@code checked}. Returns how many are known ASCII,
     * or -1 at the first that is not.
     */
    private static int asciiSoFar(byte[] a, int from, int available, int mask, int checked) {
        for (int i = checked; i < available; i++) {
            if (((a[from + i] ^ (mask >>> (24 - 8 * (i & 3)))) & 0x80) != 0) {
                return -1;
            }
        }
        return available;
    }

    /** The text, or {@code null} if the bytes are not UTF-8. */
    private static String utf8(CharsetDecoder decoder, byte[] a, int from, int size) {
        try {
            CharBuffer chars = decoder.reset().decode(ByteBuffer.wrap(a, from, size));
            return chars.toString();
        } catch (CharacterCodingException notUtf8) {
            return null;
        }
    }

    private void notUtf8() {
        stopped = true;
        dropHeld();
        next.suspendReads();
        CloseStatus status = CloseStatus.INVALID_PAYLOAD.withReason("text message not UTF-8");
        owner.deliverError(new IOException(status.reason()));
        owner.closeForViolation(status);
    }

    private void hold(byte[] a, int from, int length) {
        held = Arrays.copyOfRange(a, from, from + length);
        heldFrom = 0;
        heldLength = length;
    }

    private void dropHeld() {
        held = null;
        heldFrom = 0;
        heldLength = 0;
        heldChecked = 0;
    }

    // The conduit Undertow reads from: the held bytes first

    @Override
    public int read(ByteBuffer dst) throws IOException {
        if (stopped) {
            return next.isReadShutdown() ? -1 : 0;
        }
        int start = dst.position();
        if (heldLength > 0) {
            // up to the end of the first frame that ends: the frames after it may be the reader's
            dst.put(held, heldFrom, Math.min(dst.remaining(), heldLength));
            int end = follow(dst, start, dst.position(), true);
            dst.position(end);
            int read = end - start;
            heldFrom += read;
            heldLength -= read;
            heldChecked = 0;
            if (heldLength == 0) {
                dropHeld();
            }
            return read;
        } else if (failure != null) {
            IOException e = failure;
            failure = null;
            throw e;
        }
        int read = next.read(dst);
        if (read > 0) {
            follow(dst, start, start + read, false);
        }
        return read;
    }

    @Override
    public long read(ByteBuffer[] dsts, int offs, int len) throws IOException {
        for (int i = offs; i < offs + len; i++) {
            if (dsts[i].hasRemaining()) {
                return read(dsts[i]);
            }
        }
        return 0;
    }

    /**
     * Follows the bytes given to Undertow, counting the messages and control frames among them;
     * with {@code oneFrame}, only to the end of the first frame that ends. Returns where it stopped.
     */
    private int follow(ByteBuffer bytes, int from, int to, boolean oneFrame) {
        undertowNext = false;
        int i = from;
        while (i < to) {
            i = given.scan(bytes, i, to, true);
            if (given.betweenFrames()) {
                if (given.opcode >= 8 || given.fin) {
                    givenEnds++; // a control frame, or a message's last frame
                }
                if (oneFrame) {
                    break;
                }
            }
        }
        return i;
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
     * The end of the stream or a failed read, with nothing held: Undertow meets it in a task of
     * the IO thread ({@link #endNow}), and the socket's reads are suspended until then, which takes
     * it off the selector. Returns {@code false} when it goes to Undertow now instead (in unit
     * tests, or when the IO thread takes no more tasks).
     */
    private boolean deferEnd() {
        ConduitStreamSourceChannel channel = source;
        if (channel == null || endDeferred) {
            return false;
        }
        endDeferred = true;
        next.suspendReads();
        try {
            channel.getIoThread().execute(this::endNow);
        } catch (RuntimeException rejected) {
            endDeferred = false;
            return false;
        }
        return true;
    }

    /** The deferred end goes to Undertow, which closes the socket; if Undertow does not read now, it reads it when it resumes. */
    private void endNow() {
        endDeferred = false;
        org.xnio.channels.CloseableChannel webSocket = owner.webSocketChannel();
        if (stopped || webSocket == null || !webSocket.isOpen() || !upperResumed) {
            return; // closed meanwhile, or Undertow reads it when it resumes reading
        }
        undertowNext = true;
        undertow.handleEvent(source);
        if (!stopped && webSocket.isOpen() && upperResumed) {
            next.resumeReads();
        }
    }

    @Override
    public void suspendReads() {
        upperResumed = false;
        next.suspendReads();
    }

    /** Undertow's view: while an end is deferred the socket's reads are suspended, but not for Undertow. */
    @Override
    public boolean isReadResumed() {
        return endDeferred ? upperResumed : next.isReadResumed();
    }

    @Override
    public void wakeupReads() {
        upperResumed = true;
        if (!endDeferred) {
            next.wakeupReads();
        }
    }

    /** Undertow resumes reading: held bytes are read without waiting for the socket. */
    @Override
    public void resumeReads() {
        upperResumed = true;
        if (stopped || endDeferred) {
            return;
        }
        next.resumeReads();
        if (heldLength > 0 && !stopped) {
            next.wakeupReads();
        }
    }

    /** The read side closes (a close for a violation lingers in the guard below): nothing more is handed on. */
    @Override
    public void terminateReads() throws IOException {
        stopped = true;
        dropHeld();
        next.terminateReads();
    }
}
