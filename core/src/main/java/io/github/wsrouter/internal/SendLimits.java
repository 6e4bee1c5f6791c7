package io.github.wsrouter.internal;

import io.github.wsrouter.SendOverflow;

/**
 * A connection's send buffer bound and what happens over it.
 *
 * @param maxQueuedBytes the bound; 0 or less for none
 */
public record SendLimits(long maxQueuedBytes, SendOverflow overflow) {

    /** No bound: for transports whose writes complete at once, like the test kit. */
    public static SendLimits unbounded() {
        return new SendLimits(0, SendOverflow.CLOSE);
    }

    public boolean isBounded() {
        return maxQueuedBytes > 0;
    }
}
