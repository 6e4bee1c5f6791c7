package io.github.wsrouter.internal;

import io.github.wsrouter.RateLimit;

/** A token bucket for one connection's inbound messages; used by the transport's reading thread. */
public final class TokenBucket {

    private final double perNano;
    private final double burst;
    private double tokens;
    private long last;

    public TokenBucket(RateLimit limit) {
        this.perNano = limit.perSecond() / 1_000_000_000d;
        this.burst = limit.burst();
        this.tokens = burst;
        this.last = System.nanoTime();
    }

    /** Takes a token if there is one. */
    public synchronized boolean tryTake() {
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - last) * perNano);
        last = now;
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }
}
