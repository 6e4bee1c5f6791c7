package io.github.wsrouter.redis;

import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * This node's life as far as presence goes: what it holds, and whether it is alive.
 *
 * <ul>
 *   <li>{@code <prefix>:presence:nodes}, a set of {@code <node id>\n<incarnation>}: every node
 *       life that holds or held members;
 *   <li>{@code <prefix>:presence:alive:<node id>}, this life's incarnation, expiring after two
 *       thirds of the presence timeout unless the node refreshes it (every third of that);
 *   <li>{@code <prefix>:presence:entries:<node id>:<incarnation>}, a set of what this life holds:
 *       {@code <route>\n<group>\n<member>}.
 * </ul>
 *
 * <p>Every node reaps, every quarter of the expiry: a life whose alive key is gone, or names
 * another incarnation (the node restarted with the same id), has its members taken out, each
 * leaving where it was its last holder, and is forgotten. So a node that dies has its members leave
 * everywhere within the timeout, and one that restarts never brings its old members back: its new
 * life has a new incarnation, and the old one is reaped at its start. A node that stops gracefully
 * reaps itself at once.
 */
final class NodeLiveness {

    /** Lua: {@code change(entry, delta)} as {@code RedisPresence.CHANGE} does, for a node's entry. ARGV[1] is the prefix. */
    private static final String CHANGE_ENTRY = """
            local function change(entry, delta)
              local first = string.find(entry, '\\n', 1, true)
              local second = string.find(entry, '\\n', first + 1, true)
              local route = string.sub(entry, 1, first - 1)
              local group = string.sub(entry, first + 1, second - 1)
              local member = string.sub(entry, second + 1)
              local channel = ARGV[1] .. ':' .. route .. ':presence'
              local count = redis.call('HINCRBY', channel .. ':' .. group, member, delta)
              local kind
              if delta == 1 and count == 1 then
                kind = 'join'
              elseif delta == -1 and count <= 0 then
                redis.call('HDEL', channel .. ':' .. group, member)
                kind = 'leave'
              end
              if kind then
                local seq = redis.call('INCR', channel .. ':seq')
                redis.call('PUBLISH', channel, cjson.encode({seq = seq, type = kind, group = group, member = member}))
              end
            end
            """;

    /** KEYS: alive, nodes; ARGV: incarnation, ttl (ms), this life's member of the nodes set. */
    static final RedisRelay.Script HEARTBEAT = new RedisRelay.Script("""
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            redis.call('SADD', KEYS[2], ARGV[3])
            return 1
            """, false);

    /** KEYS: nodes; ARGV: prefix. Takes out the members of every life that is not alive. */
    static final RedisRelay.Script REAP = new RedisRelay.Script(CHANGE_ENTRY + """
            local reaped = 0
            for _, life in ipairs(redis.call('SMEMBERS', KEYS[1])) do
              local at = string.find(life, '\\n', 1, true)
              local id = string.sub(life, 1, at - 1)
              local incarnation = string.sub(life, at + 1)
              if redis.call('GET', ARGV[1] .. ':presence:alive:' .. id) ~= incarnation then
                local entries = ARGV[1] .. ':presence:entries:' .. id .. ':' .. incarnation
                for _, entry in ipairs(redis.call('SMEMBERS', entries)) do
                  change(entry, -1)
                end
                redis.call('DEL', entries)
                redis.call('SREM', KEYS[1], life)
                reaped = reaped + 1
              end
            end
            return reaped
            """, false);

    /** KEYS: this life's entries; ARGV: prefix, then every entry it holds. Adds what is missing, takes out the rest. */
    static final RedisRelay.Script SYNC = new RedisRelay.Script(CHANGE_ENTRY + """
            local had = {}
            for _, entry in ipairs(redis.call('SMEMBERS', KEYS[1])) do
              had[entry] = true
            end
            for i = 2, #ARGV do
              local entry = ARGV[i]
              if had[entry] then
                had[entry] = nil
              elseif redis.call('SADD', KEYS[1], entry) == 1 then
                change(entry, 1)
              end
            end
            for entry, _ in pairs(had) do
              redis.call('SREM', KEYS[1], entry)
              change(entry, -1)
            end
            return 1
            """, false);

    static final List<RedisRelay.Script> SCRIPTS = List.of(HEARTBEAT, REAP, SYNC);

    private final RedisRelay relay;
    private final String incarnation;
    private final Duration ttl;
    private final ScheduledFuture<?> heartbeat;
    private final ScheduledFuture<?> reaper;

    NodeLiveness(RedisRelay relay, Duration timeout) {
        this.relay = relay;
        this.incarnation = Long.toHexString(ThreadLocalRandom.current().nextLong());
        this.ttl = Duration.ofMillis(Math.max(30, timeout.toMillis() * 2 / 3));
        long beat = Math.max(10, ttl.toMillis() / 3);
        long reap = Math.max(10, ttl.toMillis() / 4);
        beat().thenCompose(ok -> reap()); // a life of this id before is reaped at once
        this.heartbeat = relay.scheduler().scheduleAtFixedRate(this::beatQuietly, beat, beat, TimeUnit.MILLISECONDS);
        this.reaper = relay.scheduler().scheduleAtFixedRate(this::reapQuietly, reap, reap, TimeUnit.MILLISECONDS);
    }

    private String nodesKey() {
        return relay.prefix() + ":presence:nodes";
    }

    private String aliveKey() {
        return relay.prefix() + ":presence:alive:" + relay.nodeId();
    }

    String entriesKey() {
        return relay.prefix() + ":presence:entries:" + relay.nodeId() + ":" + incarnation;
    }

    CompletableFuture<Object> beat() {
        return relay.script(
                HEARTBEAT,
                ScriptOutputType.INTEGER,
                new String[] {aliveKey(), nodesKey()},
                incarnation,
                Long.toString(ttl.toMillis()),
                relay.nodeId() + "\n" + incarnation);
    }

    CompletableFuture<Object> reap() {
        return relay.script(REAP, ScriptOutputType.INTEGER, new String[] {nodesKey()}, relay.prefix());
    }

    private void beatQuietly() {
        try {
            beat().whenComplete((ok, failure) -> {
                if (failure != null) {
                    relay.presences().forEach(RedisPresence::markStale);
                }
            });
        } catch (RuntimeException e) {
            // the relay is closing
        }
    }

    private void reapQuietly() {
        try {
            reap();
        } catch (RuntimeException e) {
            // the relay is closing
        }
    }

    /** States in Redis everything this node holds (after Redis came back): joins and leaves meanwhile are reconciled. */
    CompletableFuture<Object> sync() {
        List<String> args = new ArrayList<>();
        args.add(relay.prefix());
        relay.presences().forEach(presence -> args.addAll(presence.entries()));
        return beat().thenCompose(ok ->
                relay.script(SYNC, ScriptOutputType.INTEGER, new String[] {entriesKey()}, args.toArray(String[]::new)));
    }

    /** A graceful stop: this life is not alive any more, and its members leave now. */
    void stop() {
        heartbeat.cancel(false);
        reaper.cancel(false);
        try {
            relay.<Object>script(
                            HEARTBEAT,
                            ScriptOutputType.INTEGER,
                            new String[] {aliveKey(), nodesKey()},
                            "stopped",
                            "1",
                            relay.nodeId() + "\n" + incarnation)
                    .thenCompose(ok -> reap())
                    .get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Redis away: the others reap this life once its key has expired
        }
    }
}
