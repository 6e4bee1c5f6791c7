package io.github.wsrouter.internal;

import io.github.wsrouter.SendOverflow;
import java.util.concurrent.atomic.LongAdder;

/**
 * A connection's send buffer bound and what happens over it, with the counters a transport
 * reports: messages dropped, and connections closed as slow consumers.
 *
 * @param maxQueuedBytes the bound; 0 or less for none
 */
public record SendLimits(long maxQueuedBytes, SendOverflow overflow, LongAdder drops, LongAdder slowConsumerCloses) {

    /** No bound: for transports whose writes complete at once, like the test kit. */
    public static SendLimits unbounded() {
        return new SendLimits(0, SendOverflow.CLOSE, new LongAdder(), new LongAdder());
    }

    public boolean isBounded() {
        return maxQueuedBytes > 0;
    }
}
