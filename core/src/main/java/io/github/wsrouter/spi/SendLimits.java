package io.github.wsrouter.spi;

import io.github.wsrouter.RateLimit;
import io.github.wsrouter.SendOverflow;

/**
 * A connection's send buffer bound and what happens over it, and its inbound rate limit.
 *
 * @param maxQueuedBytes the bound; 0 or less for none
 * @param rateLimit the inbound message rate limit, or {@code null} for none
 */
public record SendLimits(long maxQueuedBytes, SendOverflow overflow, RateLimit rateLimit) {

    public SendLimits(long maxQueuedBytes, SendOverflow overflow) {
        this(maxQueuedBytes, overflow, null);
    }

    /** No bound: for transports whose writes complete at once, like the test kit. */
    public static SendLimits unbounded() {
        return new SendLimits(0, SendOverflow.CLOSE, null);
    }

    public boolean isBounded() {
        return maxQueuedBytes > 0;
    }
}
