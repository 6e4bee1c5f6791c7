package io.github.wsrouter.internal;

import io.github.wsrouter.Relay;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link Relay#local()}'s history: a route's streams in this node's memory. Each stream keeps at
 * most a count of entries, none older than an age, the oldest forgotten first; a stream nobody has
 * read for the age bound is forgotten. The epoch is new for each store, so a restart changes it.
 *
 * <p>An append and its hand-over to the receiver happen under the stream's lock, and so does a
 * reader's open: the receiver sees a stream's entries in offset order, and a reader that opens
 * gets every entry after the position it is told. Every stage completes before it is returned.
 */
public final class MemoryHistory implements Relay.History {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final int maxMessages;
    private final long maxAgeNanos;
    private final String epoch;
    private final Relay.History.Receiver receiver;
    private final Map<String, Stream> streams = new ConcurrentHashMap<>();
    private final AtomicLong lastSweep = new AtomicLong(System.nanoTime());

    public MemoryHistory(int maxMessages, Duration maxAge, Relay.History.Receiver receiver) {
        this.maxMessages = Checks.positive("history messages", maxMessages);
        this.maxAgeNanos = Checks.positive("history age", maxAge).toNanos();
        this.receiver = receiver;
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        StringBuilder text = new StringBuilder();
        for (byte b : bytes) {
            text.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        this.epoch = text.toString();
    }

    @Override
    public CompletionStage<Position> open(String stream) {
        Stream s = streams.computeIfAbsent(stream, n -> new Stream());
        synchronized (s) {
            s.readers++;
            s.lastUse = System.nanoTime();
            return CompletableFuture.completedFuture(new Position(epoch, s.last));
        }
    }

    @Override
    public void close(String stream) {
        Stream s = streams.get(stream);
        if (s != null) {
            synchronized (s) {
                s.readers--;
                s.lastUse = System.nanoTime();
            }
        }
        sweep();
    }

    @Override
    public CompletionStage<Long> append(String stream, String text, boolean mustExist) {
        Stream s = mustExist ? streams.get(stream) : streams.computeIfAbsent(stream, n -> new Stream());
        if (s == null) {
            return CompletableFuture.completedFuture(0L);
        }
        synchronized (s) {
            long now = System.nanoTime();
            if (mustExist && s.readers == 0 && now - s.lastUse > maxAgeNanos) {
                return CompletableFuture.completedFuture(0L);
            }
            long offset = s.add(text, now);
            if (s.readers > 0) {
                receiver.onEntry(stream, offset, text);
            }
            return CompletableFuture.completedFuture(offset);
        }
    }

    @Override
    public CompletionStage<Replay> since(String stream, String clientEpoch, long offset) {
        Stream s = streams.computeIfAbsent(stream, n -> new Stream());
        synchronized (s) {
            s.expire(System.nanoTime());
            Position position = new Position(epoch, s.last);
            String failure = null;
            if (!epoch.equals(clientEpoch)) {
                failure = "epoch_changed";
            } else if (offset < 0 || offset > s.last) {
                failure = "unknown_offset";
            } else if (offset + 1 < s.oldest()) {
                failure = "history_gone";
            }
            List<Entry> missed = new ArrayList<>();
            if (failure == null) {
                for (long o = offset + 1; o <= s.last; o++) {
                    missed.add(new Entry(o, s.text(o)));
                }
            }
            return CompletableFuture.completedFuture(new Replay(missed, failure, position));
        }
    }

    /** Forgets streams nobody read within the age bound and whose entries expired; at most once a second. */
    private void sweep() {
        long now = System.nanoTime();
        long previous = lastSweep.get();
        if (now - previous < 1_000_000_000L || !lastSweep.compareAndSet(previous, now)) {
            return;
        }
        streams.forEach((name, s) -> {
            synchronized (s) {
                s.expire(now);
                if (s.size == 0 && s.readers == 0 && now - s.lastUse > maxAgeNanos) {
                    streams.remove(name, s);
                }
            }
        });
    }

    @Override
    public String toString() {
        return "MemoryHistory[epoch " + epoch + ", " + streams.size() + " streams]";
    }

    /**
     * One stream, guarded by its own monitor. Its entries have consecutive offsets, so it keeps
     * them in a ring of texts and times (two arrays that grow up to the bound), the oldest at
     * {@code head}: no object per entry besides its text.
     */
    private final class Stream {
        String[] texts = new String[8];
        long[] times = new long[8];
        int head;
        int size;
        long last;
        long lastUse = System.nanoTime();
        int readers;

        /** Appends; forgets what is too old or over the bound; returns the entry's offset. */
        long add(String text, long now) {
            expire(now);
            if (size == maxMessages) {
                drop();
            } else if (size == texts.length) {
                grow();
            }
            int at = (head + size) % texts.length;
            texts[at] = text;
            times[at] = now;
            size++;
            return ++last;
        }

        /** The offset of the oldest entry kept; {@code last + 1} when none is. */
        long oldest() {
            return last - size + 1;
        }

        /** The text of a kept entry. */
        String text(long offset) {
            return texts[(int) ((head + (offset - oldest())) % texts.length)];
        }

        void expire(long now) {
            while (size > 0 && now - times[head] > maxAgeNanos) {
                drop();
            }
        }

        private void drop() {
            texts[head] = null;
            head = (head + 1) % texts.length;
            size--;
        }

        private void grow() {
            int capacity = (int) Math.min((long) texts.length * 2, Math.max(maxMessages, 8));
            String[] moreTexts = new String[capacity];
            long[] moreTimes = new long[capacity];
            for (int i = 0; i < size; i++) {
                moreTexts[i] = texts[(head + i) % texts.length];
                moreTimes[i] = times[(head + i) % texts.length];
            }
            texts = moreTexts;
            times = moreTimes;
            head = 0;
        }
    }
}
