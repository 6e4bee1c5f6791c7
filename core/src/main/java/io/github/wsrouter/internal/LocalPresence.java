package io.github.wsrouter.internal;

import io.github.wsrouter.Relay;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The presence of a single node ({@link Relay#presence} returned {@code null}): this node's members
 * are everybody's, and the receiver hears each change at once, on the thread that made it, after
 * this presence let go of its lock. Lets a router keep one code path for one node and several.
 */
public final class LocalPresence implements Relay.Presence {

    private final Receiver receiver;
    private final Map<String, Set<String>> groups = new HashMap<>();

    public LocalPresence(Receiver receiver) {
        this.receiver = Objects.requireNonNull(receiver, "receiver");
    }

    @Override
    public void add(String group, String member) {
        synchronized (groups) {
            if (!groups.computeIfAbsent(group, g -> new HashSet<>()).add(member)) {
                return;
            }
        }
        receiver.onJoin(group, member);
    }

    @Override
    public void remove(String group, String member) {
        synchronized (groups) {
            Set<String> members = groups.get(group);
            if (members == null || !members.remove(member)) {
                return;
            }
            if (members.isEmpty()) {
                groups.remove(group);
            }
        }
        receiver.onLeave(group, member);
    }

    @Override
    public SortedSet<String> members(String group) {
        synchronized (groups) {
            return new TreeSet<>(groups.getOrDefault(group, Set.of()));
        }
    }

    @Override
    public boolean stale() {
        return false;
    }
}
