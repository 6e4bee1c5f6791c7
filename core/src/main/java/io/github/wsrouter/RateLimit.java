package io.github.wsrouter;

import java.util.Objects;

/**
 * An inbound message rate limit per connection: a token bucket that refills {@code perSecond}
 * tokens a second up to {@code burst}; each message takes one. A message over the limit is not
 * given to the router's {@code onText} or {@code onBinary}: the router answers it in its own wire
 * format, or its connection is closed.
 *
 * @param perSecond the sustained rate
 * @param burst the most messages accepted at once after a quiet spell
 * @param onExceeded what happens to a message over the limit
 */
public record RateLimit(double perSecond, int burst, Exceeded onExceeded) {

    /** What happens to a message over the limit. */
    public enum Exceeded {
        /**
         * The message is dropped and the router answers it in its own wire format, through {@link
         * MessageRouter#onRateLimited}: {@link DirectedJsonRouter} sends {@code
         * {"error":"rate_limited","detail":"..."}} and the connection stays open; a router that
         * has no error replies (echo, broadcast: the default) closes the connection with 1008.
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
