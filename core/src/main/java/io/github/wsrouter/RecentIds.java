package io.github.wsrouter;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The message ids each user sent recently, so that a message sent again under the same id (a
 * client retrying after a reconnect) is acknowledged but not delivered twice. Bounded per user by
 * a count (the oldest id is forgotten first) and everywhere by a time: an id is forgotten once it
 * is older than the window, and users whose ids all expired are dropped by a sweep that runs every
 * {@value #SWEEP_EVERY} remembered ids.
 */
final class RecentIds {

    private static final int SWEEP_EVERY = 1024;

    private final int perUser;
    private final long windowNanos;
    private final Map<String, LinkedHashMap<String, Long>> byUser = new ConcurrentHashMap<>();
    private final AtomicInteger sinceSweep = new AtomicInteger();

    RecentIds(int perUser, Duration window) {
        this.perUser = perUser;
        this.windowNanos = window.toNanos();
    }

    /** Remembers the id; {@code false} if the user sent it within the window already. */
    boolean firstTime(String user, String id) {
        long now = System.nanoTime();
        if (sinceSweep.incrementAndGet() >= SWEEP_EVERY) {
            sinceSweep.set(0);
            sweep(now);
        }
        while (true) {
            LinkedHashMap<String, Long> ids = byUser.computeIfAbsent(user, u -> new LinkedHashMap<>());
            synchronized (ids) {
                if (byUser.get(user) != ids) {
                    continue; // a sweep dropped this map meanwhile
                }
                return remember(ids, id, now);
            }
        }
    }

    private boolean remember(LinkedHashMap<String, Long> ids, String id, long now) {
        expire(ids, now);
        if (ids.containsKey(id)) {
            return false;
        }
        ids.put(id, now);
        if (ids.size() > perUser) {
            Iterator<String> oldest = ids.keySet().iterator();
            oldest.next();
            oldest.remove();
        }
        return true;
    }

    /** Forgets the id: its message was not delivered, so sending it again should try again. */
    void forget(String user, String id) {
        LinkedHashMap<String, Long> ids = byUser.get(user);
        if (ids != null) {
            synchronized (ids) {
                ids.remove(id);
            }
        }
    }

    /** The number of ids remembered over all users (for tests). */
    int size() {
        int size = 0;
        for (LinkedHashMap<String, Long> ids : byUser.values()) {
            synchronized (ids) {
                size += ids.size();
            }
        }
        return size;
    }

    private void expire(LinkedHashMap<String, Long> ids, long now) {
        Iterator<Long> times = ids.values().iterator();
        while (times.hasNext() && now - times.next() > windowNanos) {
            times.remove();
        }
    }

    private void sweep(long now) {
        byUser.forEach((user, ids) -> {
            synchronized (ids) {
                expire(ids, now);
                if (ids.isEmpty()) {
                    byUser.remove(user, ids);
                }
            }
        });
    }
}
