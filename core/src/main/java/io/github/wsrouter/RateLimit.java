package io.github.wsrouter;

import java.util.Objects;

/**
 * An inbound message rate limit per connection: a token bucket that refills {@code perSecond}
 * tokens a second up to {@code burst}; each message takes one. A message over the limit is not
 * given to the router: it is answered with an error, or its connection is closed.
 *
 * @param perSecond the sustained rate
 * @param burst the most messages accepted at once after a quiet spell
 * @param onExceeded what happens to a message over the limit
 */
public record RateLimit(double perSecond, int burst, Exceeded onExceeded) {

    /** What happens to a message over the limit. */
    public enum Exceeded {
        /**
         * The message is dropped and the sender gets {@code {"error":"rate_limited","detail":"..."}};
         * the connection stays open.
         */
        REPLY,
        /** The connection is closed with 1008 "rate limit exceeded". */
        CLOSE
    }

    public RateLimit {
        if (!(perSecond > 0) || burst < 1) {
            throw new IllegalArgumentException("rate limit needs a positive rate and a burst of at least 1");
        }
        Objects.requireNonNull(onExceeded, "onExceeded");
    }
}
