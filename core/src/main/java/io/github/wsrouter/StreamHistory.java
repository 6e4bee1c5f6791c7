package io.github.wsrouter;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;

/**
 * The recent messages of a route's streams, in this server's memory, so that a client that
 * reconnects can resume where it stopped. Each stream numbers its messages from 1 (the offset);
 * each stream is bounded by a count and an age, the oldest forgotten first. The epoch names this
 * store's life: it is new each time a store is made (a restart), so that a client never takes the
 * offsets of an earlier life for this one's.
 *
 * <p>Appending a message and delivering it happen under the stream's lock, and so do reading what
 * a resuming connection missed and making it a recipient: a connection sees every message of a
 * stream once and in offset order, whether it comes from the replay or live.
 */
final class StreamHistory {

    /** A message as it was delivered, with its offset. */
    record Entry(long offset, String text) {}

    /** What a connection that resumes from an offset gets: the messages after it, or why not. */
    record Replay(List<Entry> entries, String failure) {
        boolean recovered() {
            return failure == null;
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final int maxMessages;
    private final long maxAgeNanos;
    private final String epoch;
    private final Map<String, Stream> streams = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong lastSweep =
            new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    StreamHistory(int maxMessages, Duration maxAge) {
        this.maxMessages = maxMessages;
        this.maxAgeNanos = maxAge.toNanos();
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        StringBuilder text = new StringBuilder();
        for (byte b : bytes) {
            text.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        this.epoch = text.toString();
    }

    String epoch() {
        return epoch;
    }

    /** The stream, made on first use; its monitor is the stream's lock. */
    Stream stream(String name) {
        return streams.computeIfAbsent(name, n -> new Stream());
    }

    /** The stream if it exists. */
    Stream existing(String name) {
        return streams.get(name);
    }

    /**
     * Forgets streams whose last message and last use are older than the age bound; at most once
     * a second, so that a close costs nothing much however many streams there are.
     */
    void sweep() {
        long now = System.nanoTime();
        long previous = lastSweep.get();
        if (now - previous < 1_000_000_000L || !lastSweep.compareAndSet(previous, now)) {
            return;
        }
        streams.forEach((name, stream) -> {
            synchronized (stream) {
                stream.expire(now);
                if (stream.entries.isEmpty() && stream.users == 0 && now - stream.lastUse > maxAgeNanos) {
                    streams.remove(name, stream);
                }
            }
        });
    }

    /** One stream: guarded by its own monitor. */
    final class Stream {
        private final ArrayDeque<Entry> entries = new ArrayDeque<>();
        private final ArrayDeque<Long> times = new ArrayDeque<>();
        private long last;
        private long lastUse = System.nanoTime();
        /** Connections that read this stream now (a user's own stream). */
        private int users;

        /** The offset of the last message; 0 before the first. Hold the lock. */
        long head() {
            return last;
        }

        /** Appends the message the offset's text gives, and returns that text. Hold the lock. */
        String append(LongFunction<String> render) {
            long now = System.nanoTime();
            expire(now);
            String text = render.apply(++last);
            entries.addLast(new Entry(last, text));
            times.addLast(now);
            if (entries.size() > maxMessages) {
                entries.removeFirst();
                times.removeFirst();
            }
            lastUse = now;
            return text;
        }

        /** The messages after the offset of the epoch, or why they cannot be had. Hold the lock. */
        Replay since(String clientEpoch, long offset) {
            long now = System.nanoTime();
            expire(now);
            if (!epoch.equals(clientEpoch)) {
                return new Replay(List.of(), "epoch_changed");
            }
            if (offset > last || offset < 0) {
                return new Replay(List.of(), "unknown_offset");
            }
            long oldest = entries.isEmpty() ? last + 1 : entries.peekFirst().offset();
            if (offset + 1 < oldest) {
                return new Replay(List.of(), "history_gone");
            }
            List<Entry> missed = new ArrayList<>();
            for (Entry entry : entries) {
                if (entry.offset() > offset) {
                    missed.add(entry);
                }
            }
            return new Replay(missed, null);
        }

        /** A connection of the stream's user opened (+1) or closed (-1). Hold the lock. */
        void used(int delta) {
            users += delta;
            lastUse = System.nanoTime();
        }

        /** Whether a message to this stream should be kept: someone reads it, or did within the age bound. */
        boolean known() {
            return users > 0 || System.nanoTime() - lastUse <= maxAgeNanos;
        }

        private void expire(long now) {
            Iterator<Long> t = times.iterator();
            while (t.hasNext() && now - t.next() > maxAgeNanos) {
                t.remove();
                entries.removeFirst();
            }
        }
    }
}
