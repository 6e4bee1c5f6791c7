package io.github.wsrouter.server.internal;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Refused handshakes, counted by reason. */
public final class Rejections {

    private final Map<String, LongAdder> byReason = new ConcurrentHashMap<>();

    public void count(String reason) {
        byReason.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    public Map<String, Long> snapshot() {
        Map<String, Long> snapshot = new TreeMap<>();
        byReason.forEach((reason, count) -> snapshot.put(reason, count.sum()));
        return snapshot;
    }
}
