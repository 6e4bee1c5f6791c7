package io.github.wsrouter.server.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import org.xnio.StreamConnection;
import org.xnio.channels.StreamSourceChannel;
import org.xnio.conduits.AbstractStreamSinkConduit;
import org.xnio.conduits.ConduitStreamSinkChannel;
import org.xnio.conduits.ConduitWritableByteChannel;
import org.xnio.conduits.Conduits;
import org.xnio.conduits.StreamSinkConduit;
import org.xnio.conduits.WriteReadyHandler;

/**
 * Writes a connection's data frames itself, below Undertow's framed channel, which keeps writing
 * everything else: pongs, pings and close frames.
 *
 * <p>Undertow frames each message it is given with a frame channel object, a pooled header, a
 * priority queue insert and a flush pass of its own; for a server frame (never masked, never
 * fragmented here) the frame is a header of two to ten bytes before the payload. This conduit sits
 * between Undertow's framed channel and the socket, takes whole data frames already framed ({@link
 * #text}, {@link #binary}), and writes them with one gathering write per {@link #flushFrames}. A
 * text sent to many connections in a row (a broadcast) is framed once, and every connection writes
 * the same bytes.
 *
 * <p><b>One stream of frames.</b> Undertow's bytes pass through {@link #write} and are followed
 * frame header by frame header, so this conduit always knows whether Undertow is between two frames.
 * Its own frames go out only then, and Undertow's next bytes only once every frame of its own that
 * was queued before them is written: a pong or close frame is never cut into a data frame, and a
 * close frame Undertow sends by itself (for a protocol error it read) comes after the data frames
 * queued before it. Once Undertow has begun a close frame, frames of its own are refused: nothing
 * follows a close frame.
 *
 * <p><b>Readiness.</b> It waits for the socket to take more on behalf of both writers: when the
 * socket is ready it writes its own frames, then hands the event to Undertow if Undertow asked for
 * it. Its owner hears once every frame given is written ({@link Owner#framesWritten}) or lost
 * ({@link Owner#framesLost}).
 *
 * <p>Runs on the connection's IO thread only, like the framed channel above it.
 */
public final class FrameWriter extends AbstractStreamSinkConduit<StreamSinkConduit> {

    /** Who is told when the frames given are out. Called on the IO thread. */
    public interface Owner {
        /** Every frame given so far is written to the socket. */
        void framesWritten();

        /** The frames given and not yet written will not be: the socket failed or closed. */
        void framesLost(IOException cause);
    }

    private final Owner owner;
    private final ConduitStreamSinkChannel channel;

    /** Frames of its own not yet written, in order: {@code queue[head .. head + count)}. */
    private ByteBuffer[] queue;

    private int head;
    private int count;

    /** The handler of the channel above (Undertow's framed channel listens there). */
    private WriteReadyHandler upper;
    /** Whether the channel above asked to hear when the socket takes more. */
    private boolean upperResumed;
    /** Set once writes were shut or failed: nothing more of its own is taken. */
    private IOException gone;
    /** Undertow's bytes as written, header by header. */
    private final FrameScanner undertow = new FrameScanner();
    /** Its frames all went before bytes of Undertow's: the owner hears after those. */
    private boolean drainedBeforeUndertow;

    /** A writer over the conduit; {@code channel} is closed if the socket fails (null in unit tests). */
    FrameWriter(StreamSinkConduit next, ConduitStreamSinkChannel channel, Owner owner) {
        super(next);
        this.channel = channel;
        this.owner = owner;
    }

    /**
     * Puts a writer under the framed channel of a WebSocket connection that Undertow has just made
     * (on the IO thread, before anything is sent): from then on every byte the channel writes
     * passes through it.
     */
    public static FrameWriter install(StreamConnection connection, Owner owner) {
        ConduitStreamSinkChannel sink = connection.getSinkChannel();
        FrameWriter writer = new FrameWriter(sink.getConduit(), sink, owner);
        // the socket's readiness comes here first, then goes on to the channel's write listener
        writer.setWriteReadyHandler(new WriteReadyHandler.ChannelListenerHandler<>(sink));
        sink.setConduit(writer);
        return writer;
    }

    /**
     * The frame of a text message, final and unmasked as a server sends it: the header and the
     * UTF-8 bytes in one array. The text framed last on this thread is framed once, so a broadcast
     * that sends one {@code String} to every recipient in a row shares one array (nothing writes
     * into it).
     */
    public static byte[] textFrame(String text) {
        return LastText.LAST.get().frame(text);
    }

    /**
     * Queues a text frame made by {@link #textFrame}; it leaves at the next {@link #flushFrames}.
     * Returns {@code false}, queuing nothing, once the connection's writes are over (a close frame
     * begun, the output shut or failed).
     */
    public boolean text(byte[] frame) {
        if (isOver()) {
            return false;
        }
        add(ByteBuffer.wrap(frame));
        return true;
    }

    /** Queues a final binary frame of the bytes (a view of its own, not written into); as {@link #text}. */
    public boolean binary(ByteBuffer data) {
        if (isOver()) {
            return false;
        }
        add(ByteBuffer.wrap(header(0x2, data.remaining())));
        add(data);
        return true;
    }

    /**
     * Writes the frames queued, in one gathering write when the socket takes them all. Returns
     * {@code true} when every frame given is written; otherwise the rest leaves when the socket is
     * ready, and the {@link Owner} hears. Throws if the socket fails; the frames queued are then
     * lost (the owner is not told: the caller is).
     */
    public boolean flushFrames() throws IOException {
        if (count == 0) {
            return true;
        }
        if (undertow.betweenFrames()) {
            writeOwnOrDrop();
            if (count == 0) {
                return true;
            }
        } // else Undertow is within a frame: its bytes go first, when the socket is ready
        next.resumeWrites();
        return false;
    }

    /** The number of buffers queued and not yet written whole (a frame is one or two). */
    public int queued() {
        return count;
    }

    /** Whether the connection's writes are over: a close frame begun, the output shut or failed. */
    boolean isOver() {
        return gone != null || undertow.closeBegun;
    }

    private void add(ByteBuffer buffer) {
        ByteBuffer[] q = queue;
        if (q == null) {
            q = queue = new ByteBuffer[8];
        }
        if (head + count == q.length) {
            if (head > 0) {
                System.arraycopy(q, head, q, 0, count);
                java.util.Arrays.fill(q, count, head + count, null);
            } else {
                q = queue = java.util.Arrays.copyOf(q, q.length * 2);
            }
            head = 0;
        }
        q[head + count++] = buffer;
    }

    /** Writes what the socket takes of its own frames, which start at a frame boundary of Undertow's. */
    private void writeOwn() throws IOException {
        while (count > 0) {
            long written = next.write(queue, head, count);
            ByteBuffer[] q = queue;
            while (count > 0 && !q[head].hasRemaining()) {
                q[head++] = null;
                count--;
            }
            if (written <= 0) {
                break; // the socket is full
            }
        }
        if (count == 0) {
            head = 0;
        }
    }

    /** {@link #writeOwn}; if the socket fails, the frames queued are dropped before it throws. */
    private void writeOwnOrDrop() throws IOException {
        try {
            writeOwn();
        } catch (IOException | RuntimeException e) {
            clear(e instanceof IOException io ? io : new IOException(e));
            throw e;
        }
    }

    /** Drops every frame queued: they will not be written. */
    private void clear(IOException cause) {
        if (gone == null) {
            gone = cause;
        }
        if (count > 0) {
            java.util.Arrays.fill(queue, head, head + count, null);
        }
        head = 0;
        count = 0;
    }

    /**
     * Before bytes of Undertow's at a frame boundary: writes its own frames first. Returns whether
     * some could not go (Undertow's bytes wait: the socket is full). When they all went, the owner
     * hears once Undertow's bytes are written ({@link #drainedBeforeUndertow}): what it queues then
     * goes after them, so Undertow waits at most for the frames queued before it.
     */
    private boolean ownFirst() throws IOException {
        if (count == 0 || !undertow.betweenFrames()) {
            return false;
        }
        writeOwn();
        if (count > 0) {
            next.resumeWrites();
            return true;
        }
        drainedBeforeUndertow = true;
        return false;
    }

    /** Tells the owner of frames {@link #ownFirst} wrote, once Undertow's bytes are written. */
    private void tellDrained() {
        if (drainedBeforeUndertow) {
            drainedBeforeUndertow = false;
            owner.framesWritten();
        }
    }

    // Undertow's writes: its frames, followed header by header.

    @Override
    public int write(ByteBuffer src) throws IOException {
        return (int) write(new ByteBuffer[] {src}, 0, 1);
    }

    /**
     * Undertow's bytes: after every frame of its own queued before them, and, while frames of its
     * own wait, only up to the end of Undertow's frame under way (so that no frame of Undertow's,
     * a close frame above all, goes before frames queued before it).
     */
    @Override
    public long write(ByteBuffer[] srcs, int offs, int len) throws IOException {
        if (ownFirst()) {
            return 0;
        }
        // Undertow writes only its control frames here, and rarely: nothing is saved on allocation
        FrameScanner ahead = count == 0 ? null : undertow.copy();
        int[] from = new int[len];
        int[] limits = new int[len];
        boolean cut = false;
        for (int i = 0; i < len; i++) {
            ByteBuffer b = srcs[offs + i];
            from[i] = b.position();
            limits[i] = b.limit();
            if (cut) {
                b.limit(b.position());
            } else if (ahead != null) {
                b.limit(ahead.scan(b, b.position(), b.limit(), true));
                cut = ahead.betweenFrames();
            }
        }
        long written;
        try {
            written = next.write(srcs, offs, len);
        } finally {
            for (int i = 0; i < len; i++) {
                srcs[offs + i].limit(limits[i]);
            }
        }
        for (int i = 0; i < len; i++) {
            ByteBuffer b = srcs[offs + i];
            undertow.scan(b, from[i], b.position(), false);
        }
        tellDrained();
        return written;
    }

    @Override
    public int writeFinal(ByteBuffer src) throws IOException {
        return Conduits.writeFinalBasic(this, src);
    }

    @Override
    public long writeFinal(ByteBuffer[] srcs, int offs, int len) throws IOException {
        return Conduits.writeFinalBasic(this, srcs, offs, len);
    }

    @Override
    public long transferFrom(FileChannel src, long position, long count) throws IOException {
        return src.transferTo(position, count, new ConduitWritableByteChannel(this));
    }

    @Override
    public long transferFrom(StreamSourceChannel source, long count, ByteBuffer throughBuffer) throws IOException {
        return Conduits.transfer(source, count, throughBuffer, this);
    }

    // Readiness, shared by both writers.

    @Override
    public void setWriteReadyHandler(WriteReadyHandler handler) {
        upper = handler;
        next.setWriteReadyHandler(new Ready());
    }

    @Override
    public void resumeWrites() {
        upperResumed = true;
        next.resumeWrites();
    }

    @Override
    public void wakeupWrites() {
        upperResumed = true;
        next.wakeupWrites();
    }

    @Override
    public void suspendWrites() {
        upperResumed = false;
        if (count == 0) {
            next.suspendWrites();
        }
    }

    @Override
    public boolean isWriteResumed() {
        return upperResumed;
    }

    @Override
    public boolean flush() throws IOException {
        if (ownFirst()) {
            return false;
        }
        boolean flushed = next.flush();
        tellDrained();
        return flushed;
    }

    @Override
    public void terminateWrites() throws IOException {
        clear(new IOException("the WebSocket's output is shut"));
        next.terminateWrites();
    }

    @Override
    public void truncateWrites() throws IOException {
        clear(new IOException("the WebSocket's output is shut"));
        next.truncateWrites();
    }

    /** The socket's readiness: its own frames first (at a boundary), then Undertow's if it asked. */
    private final class Ready implements WriteReadyHandler {
        @Override
        public void writeReady() {
            boolean drained = false;
            if (count > 0 && undertow.betweenFrames()) {
                try {
                    writeOwnOrDrop();
                } catch (IOException | RuntimeException e) {
                    owner.framesLost(gone);
                    org.xnio.IoUtils.safeClose(channel);
                    return;
                }
                if (count > 0) {
                    return; // the socket is full again: still resumed
                }
                drained = true;
            }
            if (upperResumed) {
                upper.writeReady(); // Undertow's turn, before the owner queues more
            }
            if (drained) {
                owner.framesWritten();
            }
            if (!upperResumed && count == 0) {
                next.suspendWrites();
            }
        }

        @Override
        public void forceTermination() {
            upper.forceTermination();
        }

        @Override
        public void terminated() {
            boolean had = count > 0;
            IOException cause = new IOException("the WebSocket channel is closed");
            clear(cause);
            if (had) {
                owner.framesLost(cause);
            }
            upper.terminated();
        }
    }

    /** A final unmasked frame header for a payload of the length. */
    private static byte[] header(int opcode, int length) {
        if (length < 126) {
            return new byte[] {(byte) (0x80 | opcode), (byte) length};
        }
        if (length < 65536) {
            return new byte[] {(byte) (0x80 | opcode), 126, (byte) (length >>> 8), (byte) length};
        }
        byte[] h = new byte[10];
        h[0] = (byte) (0x80 | opcode);
        h[1] = 127;
        for (int i = 0; i < 4; i++) {
            h[9 - i] = (byte) (length >>> (8 * i)); // a length under 2^31: the high four bytes stay 0
        }
        return h;
    }

    /** The frame of the text framed last on this thread. */
    private static final class LastText {
        static final ThreadLocal<LastText> LAST = ThreadLocal.withInitial(LastText::new);
        private String text;
        private byte[] frame;

        byte[] frame(String s) {
            if (s != text) {
                byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
                byte[] h = header(0x1, utf8.length);
                byte[] f = new byte[h.length + utf8.length];
                System.arraycopy(h, 0, f, 0, h.length);
                System.arraycopy(utf8, 0, f, h.length, utf8.length);
                frame = f;
                text = s;
            }
            return frame;
        }
    }
}
