package io.github.wsrouter.server.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.xnio.IoUtils;
import org.xnio.StreamConnection;
import org.xnio.XnioExecutor;
import org.xnio.conduits.ConduitStreamSourceChannel;
import org.xnio.conduits.ReadReadyHandler;
import org.xnio.conduits.StreamSourceConduit;

/**
 * Reads and discards until the peer's close frame, end of stream or a bound, then closes the
 * socket. Takes the socket's read readiness from Undertow meanwhile; the end of the socket still
 * reaches the channel's close listener, so that Undertow (and the router) hear of it. The
 * lingering close of a {@link FrameGuard}; bounded by {@link Settings.Limits#lingerBytes()} and
 * {@link Settings.Limits#lingerMillis()}. Runs on the connection's IO thread.
 */
final class Lingering implements ReadReadyHandler {
    /** The scratch buffer of each IO thread that lingering connections read into. */
    private static final ThreadLocal<ByteBuffer> DISCARD =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(64 * 1024));

    private final FrameGuard guard;
    private final StreamSourceConduit next;
    private final StreamConnection connection;
    private final ReadReadyHandler channelHandler;
    private final long maxBytes;
    private final long millis;
    private long discarded;
    private XnioExecutor.Key timer;
    private boolean done;

    Lingering(
            FrameGuard guard,
            StreamSourceConduit next,
            ConduitStreamSourceChannel source,
            StreamConnection connection,
            Settings.Limits limits) {
        this.guard = guard;
        this.next = next;
        this.connection = connection;
        this.channelHandler = new ReadReadyHandler.ChannelListenerHandler<>(source);
        this.maxBytes = limits.lingerBytes();
        this.millis = limits.lingerMillis();
    }

    void start() {
        if (done) {
            return;
        }
        next.setReadReadyHandler(this);
        timer = next.getReadThread().executeAfter(this::finish, millis, TimeUnit.MILLISECONDS);
        readReady(); // what is already there: its readiness may have been taken by Undertow
        if (!done) {
            next.resumeReads();
        }
    }

    @Override
    public void readReady() {
        if (done) {
            return;
        }
        ByteBuffer scratch = DISCARD.get();
        try {
            for (; ; ) {
                scratch.clear();
                int read = next.read(scratch);
                if (read < 0) {
                    finish();
                    return;
                }
                if (read == 0) {
                    return;
                }
                discarded += read;
                if (guard.scanDiscarded(scratch, read) || discarded > maxBytes) {
                    finish();
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            finish();
        }
    }

    /** Closes the socket; its end reaches Undertow's close listener through the channel's handler. */
    void finish() {
        if (done) {
            return;
        }
        done = true;
        if (timer != null) {
            timer.remove();
        }
        next.setReadReadyHandler(channelHandler);
        IoUtils.safeClose(connection);
    }

    @Override
    public void forceTermination() {
        channelHandler.forceTermination();
    }

    @Override
    public void terminated() {
        done = true;
        if (timer != null) {
            timer.remove();
        }
        channelHandler.terminated();
    }
}
