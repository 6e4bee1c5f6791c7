package io.github.wsrouter.server;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Refused handshakes, counted by reason. */
final class Rejections {

    private final Map<String, LongAdder> byReason = new ConcurrentHashMap<>();

    void count(String reason) {
        byReason.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    Map<String, Long> snapshot() {
        Map<String, Long> snapshot = new TreeMap<>();
        byReason.forEach((reason, count) -> snapshot.put(reason, count.sum()));
        return snapshot;
    }
}
