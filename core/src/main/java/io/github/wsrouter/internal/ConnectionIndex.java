package io.github.wsrouter.internal;

import io.github.wsrouter.Connection;
import java.util.Collection;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Live connections grouped by a key (a room, a user): thread-safe, and a key whose last
 * connection left is removed, so nothing of a closed connection stays reachable.
 */
public final class ConnectionIndex {

    private final ConcurrentHashMap<String, Set<Connection>> byKey = new ConcurrentHashMap<>();

    /** Adds a connection under a key. */
    public void add(String key, Connection connection) {
        byKey.compute(key, (k, set) -> {
            Set<Connection> members = set == null ? ConcurrentHashMap.newKeySet() : set;
            members.add(connection);
            return members;
        });
    }

    /** Removes a connection from a key, and the key if it was the last one. */
    public void remove(String key, Connection connection) {
        byKey.computeIfPresent(key, (k, set) -> {
            set.remove(connection);
            return set.isEmpty() ? null : set;
        });
    }

    /**
     * The connections under a key: a live, unmodifiable, weakly consistent view (safe to iterate
     * while connections come and go), empty if there are none.
     */
    public Collection<Connection> get(String key) {
        Set<Connection> set = byKey.get(key);
        return set == null ? Set.of() : Collections.unmodifiableSet(set);
    }

    /** Whether any connection is under the key. */
    public boolean contains(String key) {
        return byKey.containsKey(key);
    }

    /** The keys that have at least one connection: a snapshot. */
    public Set<String> keys() {
        return Set.copyOf(byKey.keySet());
    }

    /** The number of connections, summed over all keys. */
    public int size() {
        int size = 0;
        for (Set<Connection> set : byKey.values()) {
            size += set.size();
        }
        return size;
    }
}
