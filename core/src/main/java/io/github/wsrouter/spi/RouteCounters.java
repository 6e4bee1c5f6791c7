package io.github.wsrouter.spi;

import io.github.wsrouter.RouteStats;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of one route, shared by its connections: cheap to increment from many threads
 * ({@link LongAdder}), read as a snapshot.
 */
public final class RouteCounters {

    final LongAdder opened = new LongAdder();
    final LongAdder closed = new LongAdder();
    final LongAdder messagesIn = new LongAdder();
    final LongAdder messagesOut = new LongAdder();
    final LongAdder bytesIn = new LongAdder();
    final LongAdder bytesOut = new LongAdder();
    final LongAdder slowConsumerCloses = new LongAdder();
    final LongAdder droppedMessages = new LongAdder();
    final LongAdder errorReplies = new LongAdder();

    public RouteStats snapshot() {
        long closedNow = closed.sum();
        long openedNow = opened.sum();
        return new RouteStats(
                Math.max(0, openedNow - closedNow),
                openedNow,
                closedNow,
                messagesIn.sum(),
                messagesOut.sum(),
                bytesIn.sum(),
                bytesOut.sum(),
                slowConsumerCloses.sum(),
                droppedMessages.sum(),
                errorReplies.sum());
    }
}
