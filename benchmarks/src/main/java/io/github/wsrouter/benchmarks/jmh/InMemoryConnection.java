package io.github.wsrouter.benchmarks.jmh;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.OutboundFrame;
import io.github.wsrouter.spi.RouteCounters;
import io.github.wsrouter.spi.SendLimits;
import java.util.List;
import java.util.Map;

/**
 * A connection whose transport writes nothing: each frame is "written" at once (the callback runs
 * synchronously), so a benchmark measures the router, the registry and the send queue, not a
 * socket. It counts the frames and characters it was given so the JIT cannot drop the work.
 */
final class InMemoryConnection extends AbstractConnection {

    long frames;
    long chars;

    InMemoryConnection(String path, Map<String, String> pathParameters, MessageRouter router) {
        super(
                accepted(new Handshake(path, pathParameters, Map.of(), Map.of("Host", List.of("127.0.0.1"))), router),
                router,
                Runnable::run,
                new SendLimits(1 << 20, SendOverflow.CLOSE),
                new RouteCounters());
    }

    /** The handshake as the router decided it, as a transport does before the upgrade (the user a directed router accepts as). */
    private static Handshake accepted(Handshake handshake, MessageRouter router) {
        Handshake.Decided decided = handshake.decide(null, router);
        if (decided.accepted() == null) {
            throw new IllegalStateException("the router refused " + handshake.path() + ": " + decided.refusal());
        }
        return decided.accepted();
    }

    /** The whole batch is "written" at once, and called back once through its last frame. */
    @Override
    protected void write(List<OutboundFrame> batch) {
        CloseStatus close = null;
        for (OutboundFrame frame : batch) {
            switch (frame.kind()) {
                case TEXT -> {
                    frames++;
                    chars += frame.text().length();
                }
                case BINARY -> {
                    frames++;
                    chars += frame.data().remaining();
                }
                case CLOSE -> close = frame.status();
                default -> throw new AssertionError(frame.kind());
            }
        }
        batch.get(batch.size() - 1).doneThrough(null);
        if (close != null) {
            closed(close);
        }
    }
}
