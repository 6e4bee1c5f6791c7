package io.github.wsrouter.spi;

import io.github.wsrouter.CloseStatus;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * One frame of a connection's send queue, as handed to the transport in a batch ({@link
 * AbstractConnection#write}). It is its own write callback: the transport calls {@link #done} once
 * for it, or {@link #doneThrough} once for the last frame of a batch, from any thread.
 */
public final class OutboundFrame implements AbstractConnection.WriteCallback {

    /** What a frame carries. */
    public enum Kind {
        TEXT,
        BINARY,
        CLOSE
    }

    final Kind kind;
    final String text;
    final ByteBuffer data;
    final CloseStatus status;
    /** Whether this close frame is for a violation: the transport keeps reading and discarding (linger). */
    final boolean lingers;

    final long size;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    /** The queue that owns the frame; set when it is enqueued. */
    SendQueue queue;
    /** The frame's place in the order of hand-over; set when handed to the transport. */
    long sequence;
    /** Whether it has been called back; guarded by the queue's monitor. */
    boolean called;

    private OutboundFrame(Kind kind, String text, ByteBuffer data, CloseStatus status, boolean lingers, long size) {
        this.kind = kind;
        this.text = text;
        this.data = data;
        this.status = status;
        this.lingers = lingers;
        this.size = size;
    }

    static OutboundFrame text(String text, long size) {
        return new OutboundFrame(Kind.TEXT, text, null, null, false, size);
    }

    static OutboundFrame binary(ByteBuffer data) {
        return new OutboundFrame(Kind.BINARY, null, data, null, false, data.remaining());
    }

    static OutboundFrame close(CloseStatus status, boolean lingers) {
        return new OutboundFrame(Kind.CLOSE, null, null, status, lingers, 0);
    }

    public Kind kind() {
        return kind;
    }

    /** A text frame's text; {@code null} for other kinds. */
    public String text() {
        return text;
    }

    /** A binary frame's bytes, as a view of its own (position and limit are the transport's). */
    public ByteBuffer data() {
        return data == null ? null : data.duplicate();
    }

    /** A close frame's status; {@code null} for other kinds. */
    public CloseStatus status() {
        return status;
    }

    /**
     * Whether this close frame answers a violation by the peer (1002, 1007, 1008, 1009): after
     * writing it, the transport stops delivering what it reads and reads and discards, bounded,
     * until the peer's close or end of stream (a lingering close), so that the peer reads the code.
     */
    public boolean lingers() {
        return lingers;
    }

    /** This frame was written ({@code null}) or could not be; the first call counts. */
    @Override
    public void done(Throwable failure) {
        queue.called(this, failure, false);
    }

    /**
     * This frame and every frame handed to the transport before it were written ({@code null}) or
     * could not be: for a transport that writes in order, one call per batch (its last frame).
     */
    public void doneThrough(Throwable failure) {
        queue.called(this, failure, true);
    }
}
