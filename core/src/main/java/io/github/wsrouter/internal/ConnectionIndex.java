package io.github.wsrouter.internal;

import io.github.wsrouter.Connection;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Collections;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Live connections grouped by a key (a room, a user): thread-safe, and a key whose last
 * connection left is removed, so nothing of a closed connection stays reachable.
 */
public final class ConnectionIndex {

    private final ConcurrentHashMap<String, Set<Connection>> byKey = new ConcurrentHashMap<>();

    /**
     * Adds a connection under a key.
     *
     * @return whether the key is new: this is its first connection
     */
    public boolean add(String key, Connection connection) {
        boolean[] created = new boolean[1];
        byKey.compute(key, (k, set) -> {
            created[0] = set == null;
            Set<Connection> members = set == null ? ConcurrentHashMap.newKeySet() : set;
            members.add(connection);
            return members;
        });
        return created[0];
    }

    /**
     * Removes a connection from a key, and the key if it was the last one.
     *
     * @return whether the key is gone: this was its last connection
     */
    public boolean remove(String key, Connection connection) {
        boolean[] removed = new boolean[1];
        byKey.computeIfPresent(key, (k, set) -> {
            if (set.remove(connection) && set.isEmpty()) {
                removed[0] = true;
                return null;
            }
            return set;
        });
        return removed[0];
    }

    /** Every connection under every key: a snapshot. */
    public List<Connection> all() {
        List<Connection> all = new ArrayList<>();
        for (Set<Connection> set : byKey.values()) {
            all.addAll(set);
        }
        return all;
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
