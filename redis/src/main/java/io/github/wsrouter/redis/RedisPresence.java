package io.github.wsrouter.redis;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.Relay;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * One route's presence across nodes in Redis ({@link RedisRelay#presence}).
 *
 * <ul>
 *   <li>{@code <prefix>:<route>:presence:<group>}, a hash: member → the number of nodes that hold it;
 *   <li>{@code <prefix>:<route>:presence:seq}, the number of the route's last change;
 *   <li>{@code <prefix>:<route>:presence}, the channel each change goes out on, {@code {"seq": n,
 *       "type": "join"|"leave", "group": ..., "member": ...}};
 *   <li>per node ({@link NodeLiveness}): what it holds, and a key that expires unless it is alive.
 * </ul>
 *
 * <p>Each change is one script that updates the hash, numbers the change and publishes it, so the
 * channel carries the route's changes in order. Every node keeps a view: a snapshot (one script:
 * the members and the number of the last change), then the changes after it, in order. A change
 * that skips numbers (the subscription dropped, or the node fell behind) makes the view read a
 * snapshot again and tell the receiver the difference, so that joins and leaves that happened
 * meanwhile are reconciled. While Redis cannot be reached the view is {@linkplain #stale stale};
 * when it comes back the node states again everything it holds ({@code SYNC}), then reads a
 * snapshot.
 */
final class RedisPresence implements Relay.Presence {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.redis");

    /** KEYS: hash, seq, node's entries; ARGV: member, entry, channel, group, +1 or -1. */
    static final RedisRelay.Script CHANGE = new RedisRelay.Script("""
            local held
            if ARGV[5] == '1' then
              held = redis.call('SADD', KEYS[3], ARGV[2])
            else
              held = redis.call('SREM', KEYS[3], ARGV[2])
            end
            if held == 0 then
              return 0
            end
            local count = redis.call('HINCRBY', KEYS[1], ARGV[1], tonumber(ARGV[5]))
            local kind
            if ARGV[5] == '1' and count == 1 then
              kind = 'join'
            elseif ARGV[5] ~= '1' and count <= 0 then
              redis.call('HDEL', KEYS[1], ARGV[1])
              kind = 'leave'
            end
            if kind then
              local seq = redis.call('INCR', KEYS[2])
              redis.call('PUBLISH', ARGV[3], cjson.encode({seq = seq, type = kind, group = ARGV[4], member = ARGV[1]}))
            end
            return 1
            """, true);

    /** KEYS: seq, then one hash per group; returns {seq, count of group 1, members..., count of group 2, ...}. */
    static final RedisRelay.Script SNAPSHOT = new RedisRelay.Script("""
            local result = {tonumber(redis.call('GET', KEYS[1]) or '0')}
            for i = 2, #KEYS do
              local members = redis.call('HKEYS', KEYS[i])
              result[#result + 1] = #members
              for _, member in ipairs(members) do
                result[#result + 1] = member
              end
            end
            return result
            """, false);

    static final List<RedisRelay.Script> SCRIPTS = List.of(CHANGE, SNAPSHOT);

    private final RedisRelay relay;
    private final NodeLiveness liveness;
    private final String route;
    private final Receiver receiver;
    private final String channel;
    /** What this node holds: group → members. Guarded by {@link #lock}. */
    private final Map<String, Set<String>> local = new HashMap<>();
    /** Every node's, as last known: group → members. Guarded by {@link #lock}. */
    private final Map<String, Set<String>> view = new HashMap<>();

    private final Object lock = new Object();
    /** The number of the last change in {@link #view}; -1 until the first snapshot. */
    private long seq = -1;
    /** Changes that came while a snapshot was being read. */
    private List<JsonObject> early;
    /** What the receiver is to hear, told outside the lock (always on the inbound thread): join?, group, member. */
    private final List<Object[]> toTell = new ArrayList<>();

    private boolean stale = true;
    /** Groups met for the first time, until a snapshot that covers them is applied. Guarded by {@link #lock}. */
    private final Map<String, CompletableFuture<Void>> unread = new HashMap<>();

    private volatile boolean closed;

    RedisPresence(RedisRelay relay, NodeLiveness liveness, String route, Receiver receiver) {
        this.relay = relay;
        this.liveness = liveness;
        this.route = route;
        this.receiver = receiver;
        this.channel = relay.prefix() + ":" + route + ":presence";
        view.put(USERS, new HashSet<>());
        relay.subscribeConfirmed(channel, this).whenComplete((ok, failure) -> resync());
    }

    String channel() {
        return channel;
    }

    String route() {
        return route;
    }

    private String hash(String group) {
        return channel + ":" + group;
    }

    private String seqKey() {
        return channel + ":seq";
    }

    /** A node's entry for a member: route, group and member, one per line. */
    String entry(String group, String member) {
        return route + "\n" + group + "\n" + member;
    }

    @Override
    public void add(String group, String member) {
        synchronized (lock) {
            if (!local.computeIfAbsent(group, g -> new HashSet<>()).add(member)) {
                return;
            }
        }
        read(group);
        change(group, member, true);
    }

    @Override
    public java.util.concurrent.CompletionStage<Void> read(String group) {
        CompletableFuture<Void> reading;
        synchronized (lock) {
            CompletableFuture<Void> pending = unread.get(group);
            if (pending != null) {
                return pending;
            }
            if (view.containsKey(group)) {
                return done();
            }
            // a group this node meets for the first time: its members before now are read
            view.put(group, new HashSet<>());
            reading = new CompletableFuture<>();
            unread.put(group, reading);
        }
        resync();
        return reading;
    }

    @Override
    public void remove(String group, String member) {
        synchronized (lock) {
            Set<String> held = local.get(group);
            if (held == null || !held.remove(member)) {
                return;
            }
        }
        change(group, member, false);
    }

    private void change(String group, String member, boolean add) {
        if (closed) {
            return;
        }
        relay.<Long>script(
                        CHANGE,
                        ScriptOutputType.INTEGER,
                        new String[] {hash(group), seqKey(), liveness.entriesKey()},
                        member,
                        entry(group, member),
                        channel,
                        group,
                        add ? "1" : "-1")
                .whenComplete((ok, failure) -> {
                    if (failure != null) {
                        // Redis away: the view is stale until it is back, when SYNC states it all again
                        markStale();
                    }
                });
    }

    @Override
    public SortedSet<String> members(String group) {
        synchronized (lock) {
            TreeSet<String> members = new TreeSet<>(view.getOrDefault(group, Set.of()));
            members.addAll(local.getOrDefault(group, Set.of()));
            return Collections.unmodifiableSortedSet(members);
        }
    }

    @Override
    public boolean stale() {
        synchronized (lock) {
            return stale;
        }
    }

    /** Everything this node holds now, as entries, for {@link NodeLiveness#sync}. */
    List<String> entries() {
        List<String> entries = new ArrayList<>();
        synchronized (lock) {
            local.forEach((group, members) -> members.forEach(member -> entries.add(entry(group, member))));
        }
        return entries;
    }

    void markStale() {
        synchronized (lock) {
            if (!stale) {
                stale = true;
                relay.countPresenceStale();
            }
        }
    }

    /** A change published on the route's channel, on the inbound thread. */
    void deliver(String message) {
        JsonObject change;
        try {
            change = JsonParser.parseString(message).getAsJsonObject();
        } catch (RuntimeException e) {
            return;
        }
        synchronized (lock) {
            if (early != null || seq < 0) {
                if (early == null) {
                    early = new ArrayList<>();
                }
                early.add(change);
                return;
            }
            long number = change.get("seq").getAsLong();
            if (number <= seq) {
                return; // in the snapshot already
            }
            if (number > seq + 1) {
                early = new ArrayList<>(List.of(change));
                resync(); // changes were missed: read the whole view again
                return;
            }
            apply(change);
        }
        flush();
    }

    /** Under the lock: one change, in order. */
    private void apply(JsonObject change) {
        seq = change.get("seq").getAsLong();
        String group = change.get("group").getAsString();
        String member = change.get("member").getAsString();
        Set<String> members = view.computeIfAbsent(group, g -> new HashSet<>());
        boolean join = change.get("type").getAsString().equals("join");
        if (!join && local.getOrDefault(group, Set.of()).contains(member)) {
            // another node took this node for dead (a pause longer than the timeout) and reaped it:
            // what it holds is stated again, and the member joins again everywhere
            relay.inbound(this::reconnected);
        }
        if (join ? members.add(member) : members.remove(member)) {
            tell(join, group, member);
        }
    }

    /** Under the lock: the receiver hears it once the lock is let go ({@link #flush}). */
    private void tell(boolean join, String group, String member) {
        toTell.add(new Object[] {join, group, member});
    }

    /** Outside the lock, on the inbound thread: tells the receiver what the view changed, in order. */
    private void flush() {
        List<Object[]> told;
        synchronized (lock) {
            if (toTell.isEmpty()) {
                return;
            }
            told = new ArrayList<>(toTell);
            toTell.clear();
        }
        for (Object[] change : told) {
            try {
                if ((Boolean) change[0]) {
                    receiver.onJoin((String) change[1], (String) change[2]);
                } else {
                    receiver.onLeave((String) change[1], (String) change[2]);
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "the presence receiver of " + route + " failed", e);
            }
        }
    }

    /**
     * Reads the view again (at the start, after a gap in the changes, after an outage): the
     * receiver hears the difference, then the changes that came meanwhile.
     */
    void resync() {
        if (closed) {
            return;
        }
        List<String> groups;
        synchronized (lock) {
            if (early == null) {
                early = new ArrayList<>();
            }
            groups = new ArrayList<>(view.keySet());
        }
        List<String> keys = new ArrayList<>();
        keys.add(seqKey());
        groups.forEach(group -> keys.add(hash(group)));
        relay.<List<Object>>script(SNAPSHOT, ScriptOutputType.MULTI, keys.toArray(String[]::new))
                .whenComplete((answer, failure) -> relay.inbound(() -> snapshot(groups, answer, failure)));
    }

    private void snapshot(List<String> groups, List<Object> answer, Throwable failure) {
        if (failure != null) {
            markStale();
            relay.scheduler().schedule(this::resync, 500, java.util.concurrent.TimeUnit.MILLISECONDS);
            return;
        }
        synchronized (lock) {
            int at = 0;
            long number = (Long) answer.get(at++);
            for (String group : groups) {
                long count = (Long) answer.get(at++);
                Set<String> now = new HashSet<>();
                for (long i = 0; i < count; i++) {
                    now.add((String) answer.get(at++));
                }
                Set<String> was = view.computeIfAbsent(group, g -> new HashSet<>());
                for (String member : new TreeSet<>(was)) {
                    if (!now.contains(member)) {
                        was.remove(member);
                        tell(false, group, member);
                    }
                }
                for (String member : new TreeSet<>(now)) {
                    if (was.add(member)) {
                        tell(true, group, member);
                    }
                }
            }
            seq = number;
            stale = false;
            for (String group : groups) {
                CompletableFuture<Void> reading = unread.remove(group);
                if (reading != null) {
                    relay.inbound(() -> reading.complete(null)); // after the changes this snapshot tells
                }
            }
            List<JsonObject> waited = early;
            early = null;
            if (waited != null) {
                for (JsonObject change : waited) {
                    long n = change.get("seq").getAsLong();
                    if (n == seq + 1) {
                        apply(change);
                    } else if (n > seq + 1) {
                        early = new ArrayList<>();
                        resync();
                        break;
                    }
                }
            }
        }
        flush();
    }

    /** Redis is back (or the subscription is): state everything held here again, then read the view. */
    void reconnected() {
        if (closed) {
            return;
        }
        markStale();
        liveness.sync().whenComplete((ok, failure) -> {
            if (failure == null) {
                resync();
            } else if (!closed) {
                relay.scheduler().schedule(this::reconnected, 500, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        relay.unsubscribe(channel);
    }

    @Override
    public String toString() {
        return "RedisPresence[" + route + "]";
    }

    /** Whether this is the channel of a route's presence. */
    static boolean isChannel(String channel) {
        return channel.endsWith(":presence");
    }

    /** Completed at once: nothing to wait for. */
    static CompletableFuture<Void> done() {
        return CompletableFuture.completedFuture(null);
    }
}
