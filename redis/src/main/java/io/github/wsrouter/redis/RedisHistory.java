package io.github.wsrouter.redis;

import io.github.wsrouter.Relay;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One route's streams with history in Redis ({@link RedisRelay#history}). Each stream has
 *
 * <ul>
 *   <li>{@code <prefix>:<route>:history:<stream>:head}, a hash: {@code epoch} (random, made with
 *       the hash) and {@code offset} (the last entry's);
 *   <li>{@code <prefix>:<route>:history:<stream>:entries}, a Redis Stream whose ids are {@code
 *       <offset>-0}, each entry with fields {@code t} (Redis's time, ms) and {@code m} (the text),
 *       trimmed with {@code MAXLEN ~ maxMessages};
 *   <li>{@code <prefix>:<route>:history:<stream>}, the pub/sub channel its entries go out on.
 * </ul>
 *
 * <p>Both keys expire {@code maxAge} after the stream was last opened, closed or refreshed (each
 * node refreshes the streams it reads every third of {@code maxAge}): a stream is known while
 * somebody reads it and for {@code maxAge} after. Once they are gone (expired or flushed) the next
 * open or append makes them anew with a new epoch. Entries older than {@code maxAge} in a stream
 * still read are not trimmed (their ids are offsets, not times): {@link #since} looks at their time.
 *
 * <p>Appends are one script ({@code EVALSHA}): existence check, offset, {@code XADD} and {@code
 * PUBLISH} at once, so the channel carries entries in offset order. A node subscribes to a
 * stream's channel when its first reader opens, and reads the stream's position only once Redis
 * confirmed the subscription: every entry after that position reaches it.
 */
final class RedisHistory implements Relay.History {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.redis");

    /** Makes the stream if it is absent (new epoch, offset 0), refreshes its expiry, and returns {epoch, offset}. */
    static final RedisRelay.Script TOUCH = new RedisRelay.Script("""
            -- KEYS: head, entries; ARGV: epoch if new, ttl (ms)
            if redis.call('EXISTS', KEYS[1]) == 0 then
              redis.call('DEL', KEYS[2])
              redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'offset', 0)
            end
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            redis.call('PEXPIRE', KEYS[2], ARGV[2])
            return redis.call('HMGET', KEYS[1], 'epoch', 'offset')
            """, false);

    /** Appends and publishes an entry; returns its offset, or 0 when the stream must exist and does not. */
    static final RedisRelay.Script APPEND = new RedisRelay.Script("""
            -- KEYS: head, entries
            -- ARGV: must exist (1/0), epoch if new, ttl (ms), max entries, text, channel, envelope without its '}'
            if redis.call('EXISTS', KEYS[1]) == 0 then
              if ARGV[1] == '1' then
                return 0
              end
              redis.call('DEL', KEYS[2])
              redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'offset', 0)
              redis.call('PEXPIRE', KEYS[1], ARGV[3])
            end
            local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
            local time = redis.call('TIME')
            local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], offset .. '-0', 't', now, 'm', ARGV[5])
            local ttl = redis.call('PTTL', KEYS[1])
            if ttl > 0 then
              redis.call('PEXPIRE', KEYS[2], ttl)
            end
            local epoch = redis.call('HGET', KEYS[1], 'epoch')
            redis.call('PUBLISH', ARGV[6], ARGV[7] .. ',"epoch":"' .. epoch .. '","offset":' .. offset .. '}')
            return offset
            """, true);

    /**
     * The entries after an offset: {epoch, offset, failure ('' if none), id, text, id, text...}.
     * Makes the stream if it is absent, as {@link #TOUCH} does.
     */
    static final RedisRelay.Script SINCE = new RedisRelay.Script("""
            -- KEYS: head, entries; ARGV: epoch if new, ttl (ms), client's epoch, offset, max entries, max age (ms)
            if redis.call('EXISTS', KEYS[1]) == 0 then
              redis.call('DEL', KEYS[2])
              redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'offset', 0)
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            local head = redis.call('HMGET', KEYS[1], 'epoch', 'offset')
            local epoch = head[1]
            local last = tonumber(head[2])
            if epoch ~= ARGV[3] then
              return {epoch, last, 'epoch_changed'}
            end
            local offset = tonumber(ARGV[4])
            if offset == nil or offset < 0 or offset > last then
              return {epoch, last, 'unknown_offset'}
            end
            if offset == last then
              return {epoch, last, ''}
            end
            if last - offset > tonumber(ARGV[5]) then
              return {epoch, last, 'history_gone'}
            end
            local first = (offset + 1) .. '-0'
            local entries = redis.call('XRANGE', KEYS[2], first, '+')
            if #entries == 0 or entries[1][1] ~= first then
              return {epoch, last, 'history_gone'}
            end
            local time = redis.call('TIME')
            local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
            if tonumber(entries[1][2][2]) < now - tonumber(ARGV[6]) then
              return {epoch, last, 'history_gone'}
            end
            local result = {epoch, last, ''}
            for _, entry in ipairs(entries) do
              result[#result + 1] = entry[1]
              result[#result + 1] = entry[2][4]
            end
            return result
            """, false);

    /**
     * How many times a repair reads the stream before it tells the readers {@code
     * history_unavailable}: about 5 s in all, waiting 100 ms, doubling, up to 1 s between reads.
     */
    static final int REPAIR_ATTEMPTS = 8;

    /** The most entries a repair holds while it reads the stream; past it, it reads the stream again after. */
    static final int MAX_HELD = 1024;

    /** The scripts the relay loads into Redis. */
    static final List<RedisRelay.Script> SCRIPTS = List.of(TOUCH, APPEND, SINCE);

    private final RedisRelay relay;
    private final String route;
    private final int maxMessages;
    private final Duration maxAge;
    private final String ttl;
    private final Relay.History.Receiver receiver;
    /** How many readers of each stream are open on this node; guarded by itself. */
    private final Map<String, Integer> readers = new HashMap<>();
    /** The streams this node reads, with what it handed over: a tail while the stream has readers. */
    private final Map<String, Tail> tails = new ConcurrentHashMap<>();

    private final ScheduledFuture<?> refresh;
    private volatile boolean closed;

    RedisHistory(RedisRelay relay, String route, int maxMessages, Duration maxAge, Relay.History.Receiver receiver) {
        if (maxMessages < 1) {
            throw new IllegalArgumentException("history messages must be positive: " + maxMessages);
        }
        if (maxAge.toMillis() < 1) {
            throw new IllegalArgumentException("history age must be at least 1 ms: " + maxAge);
        }
        this.relay = relay;
        this.route = route;
        this.maxMessages = maxMessages;
        this.maxAge = maxAge;
        this.ttl = Long.toString(maxAge.toMillis());
        this.receiver = receiver;
        long period = Math.max(50, maxAge.toMillis() / 3);
        this.refresh = relay.scheduler().scheduleAtFixedRate(this::refresh, period, period, TimeUnit.MILLISECONDS);
    }

    /** The stream's pub/sub channel, and the first part of its keys. */
    String channel(String stream) {
        return relay.prefix() + ":" + route + ":history:" + stream;
    }

    private String[] keys(String stream) {
        String base = channel(stream);
        return new String[] {base + ":head", base + ":entries"};
    }

    /** A candidate epoch: used only if the script makes the stream. 48 random bits, as in memory. */
    private static String newEpoch() {
        return String.format("%012x", ThreadLocalRandom.current().nextLong() & 0xFFFF_FFFF_FFFFL);
    }

    @Override
    public CompletionStage<Position> open(String stream) {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("history closed"));
        }
        synchronized (readers) {
            if (readers.merge(stream, 1, Integer::sum) == 1) {
                tails.put(stream, new Tail(stream));
            }
        }
        return relay.subscribeConfirmed(channel(stream), this, stream)
                .thenCompose(subscribed -> touch(stream))
                .thenApply(position -> {
                    Tail tail = tails.get(stream);
                    if (tail != null) {
                        tail.opened(position);
                    }
                    return position;
                });
    }

    private CompletionStage<Position> touch(String stream) {
        return relay.<List<Object>>script(TOUCH, ScriptOutputType.MULTI, keys(stream), newEpoch(), ttl)
                .thenApply(head -> new Position((String) head.get(0), Long.parseLong((String) head.get(1))));
    }

    @Override
    public void close(String stream) {
        synchronized (readers) {
            Integer count = readers.get(stream);
            if (count == null) {
                return;
            }
            if (count > 1) {
                readers.put(stream, count - 1);
            } else {
                readers.remove(stream);
                tails.remove(stream);
            }
        }
        relay.unsubscribe(channel(stream));
        if (!closed) {
            // known for maxAge from now: a reader that comes back resumes, appends are kept meanwhile
            touch(stream).exceptionally(failure -> null);
        }
    }

    @Override
    public CompletionStage<Long> append(String stream, String text, boolean mustExist) {
        if (closed) {
            return relay.appendFailed(new IllegalStateException("history closed"));
        }
        String channel = channel(stream);
        return relay.append(relay.<Long>script(
                APPEND,
                ScriptOutputType.INTEGER,
                keys(stream),
                mustExist ? "1" : "0",
                newEpoch(),
                ttl,
                Integer.toString(maxMessages),
                text,
                channel,
                Envelope.encodeEntryHead(relay.nodeId(), route, stream, text)));
    }

    @Override
    public CompletionStage<Replay> since(String stream, String epoch, long offset) {
        return relay.<List<Object>>script(
                        SINCE,
                        ScriptOutputType.MULTI,
                        keys(stream),
                        newEpoch(),
                        ttl,
                        epoch,
                        Long.toString(offset),
                        Integer.toString(maxMessages),
                        Long.toString(maxAge.toMillis()))
                .thenApply(answer -> {
                    Position position = new Position((String) answer.get(0), (Long) answer.get(1));
                    String failure = (String) answer.get(2);
                    if (!failure.isEmpty()) {
                        return new Replay(List.of(), failure, position);
                    }
                    List<Entry> entries = new ArrayList<>((answer.size() - 3) / 2);
                    for (int i = 3; i + 1 < answer.size(); i += 2) {
                        String id = (String) answer.get(i);
                        entries.add(new Entry(
                                Long.parseLong(id.substring(0, id.indexOf('-'))), (String) answer.get(i + 1)));
                    }
                    return new Replay(entries, null, position);
                });
    }

    /** An entry published on the channel of one of this route's streams: to the receiver if this node reads the stream. */
    void deliver(Envelope.StreamEntry entry) {
        Tail tail = tails.get(entry.stream());
        if (tail != null) {
            tail.arrived(entry);
        }
    }

    /**
     * Reads back what this node may have missed of a stream (its subscription dropped, or it fell
     * behind and dropped entries), on the inbound thread in order with the entries.
     */
    void catchUp(String stream, String reason) {
        Tail tail = tails.get(stream);
        if (tail != null) {
            tail.catchUp(reason);
        }
    }

    String route() {
        return route;
    }

    /**
     * What this node handed to the receiver of one stream it reads: every entry once, in offset
     * order, or a gap where that cannot be. Pub/sub loses what is published while the
     * subscription is away, or what this node dropped to bound its memory: an entry whose offset
     * skips some, or a {@link #catchUp}, starts a repair, which reads the missing entries from the
     * stream ({@link #since}) and hands them over before what arrives meanwhile (held until then).
     * When the stream cannot give them (Redis lost it: a new epoch; or more was missed than it
     * keeps), the receiver hears {@link Relay.History.Receiver#onGap} and the stream goes on from
     * where Redis stands: a new epoch from its first entry, which is read back too.
     */
    private final class Tail {
        private final String stream;
        private String epoch;
        private long last;
        /** Entries that arrived during a repair; null when none is under way. */
        private ArrayDeque<Envelope.StreamEntry> held;
        /** Reads of the stream that failed in a row, in this repair. */
        private int failures;
        /** More arrived during the repair than {@link #MAX_HELD}: read the stream again after it. */
        private boolean readAgain;

        Tail(String stream) {
            this.stream = stream;
        }

        /** Where the stream stood when a reader opened: the start, if nothing arrived yet. */
        synchronized void opened(Position position) {
            if (epoch == null && held == null) {
                epoch = position.epoch();
                last = position.offset();
            }
        }

        synchronized void arrived(Envelope.StreamEntry entry) {
            if (held != null) {
                if (held.size() < MAX_HELD) {
                    held.add(entry);
                } else {
                    held.clear(); // in the stream anyway: read again once this repair is done
                    readAgain = true;
                }
            } else if (epoch == null) {
                take(entry); // before the reader's position came: that entry is its start
            } else if (!accept(entry)) {
                if (entry.epoch().equals(epoch)) {
                    relay.countOffsetGap();
                    LOG.log(
                            relay.gapLevel(),
                            "stream " + stream + " of " + route + " skipped from " + last + " to " + entry.offset()
                                    + ": reading the missing entries back");
                }
                held = new ArrayDeque<>();
                held.add(entry);
                repair();
            }
        }

        /** After a loss: whatever the stream has after {@link #last} is read back. */
        synchronized void catchUp(String reason) {
            if (held != null || epoch == null) {
                return; // a repair under way reads up to the stream's end anyway; or nothing handed yet
            }
            LOG.log(
                    System.Logger.Level.DEBUG,
                    () -> "reading back " + stream + " of " + route + " after " + last + " (" + reason + ")");
            held = new ArrayDeque<>();
            repair();
        }

        /** Hands the next entry, skips one handed already; false if it skips offsets or epochs. */
        private boolean accept(Envelope.StreamEntry entry) {
            if (!entry.epoch().equals(epoch) || entry.offset() > last + 1) {
                return false;
            }
            if (entry.offset() == last + 1) {
                take(entry);
            }
            return true;
        }

        private void take(Envelope.StreamEntry entry) {
            epoch = entry.epoch();
            last = entry.offset();
            hand(entry.offset(), entry.text());
        }

        private void repair() {
            String from = epoch;
            long after = last;
            // handed over on the inbound thread, in order with the entries, like everything else
            since(stream, from, after)
                    .whenComplete((replay, failure) -> relay.inbound(() -> repaired(from, replay, failure)));
        }

        private synchronized void repaired(String from, Replay replay, Throwable failure) {
            if (held == null || !from.equals(epoch)) {
                return; // closed, or overtaken
            }
            if (failure != null && ++failures < REPAIR_ATTEMPTS) {
                // Redis cannot be read yet (the commands' connection comes back after the subscription's)
                long delay = Math.min(1000, 50L << failures);
                try {
                    relay.scheduler().schedule(this::retry, delay, TimeUnit.MILLISECONDS);
                    return;
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // the relay is closing: told below
                }
            }
            if (failure != null) {
                // Redis cannot be read: what waited goes on as it is, the gaps in it told
                failures = 0;
                gap("history_unavailable", new Position(epoch, last));
                ArrayDeque<Envelope.StreamEntry> waited = held;
                held = null;
                for (Envelope.StreamEntry entry : waited) {
                    if (!entry.epoch().equals(epoch) || entry.offset() > last + 1) {
                        gap("history_unavailable", new Position(entry.epoch(), entry.offset() - 1));
                    }
                    if (entry.offset() > last || !entry.epoch().equals(epoch)) {
                        take(entry);
                    }
                }
                return;
            } else if (replay.failure() == null) {
                failures = 0;
                int count = 0;
                for (Entry missed : replay.entries()) {
                    if (missed.offset() > last) {
                        last = missed.offset();
                        hand(missed.offset(), missed.text());
                        count++;
                    }
                }
                relay.countRepaired(count);
                if (readAgain) {
                    readAgain = false;
                    held.clear();
                    repair();
                    return;
                }
            } else if (replay.failure().equals("epoch_changed")) {
                failures = 0;
                // Redis lost the stream: the new epoch is read from its start
                gap("epoch_changed", new Position(replay.position().epoch(), 0));
                repair();
                return;
            } else {
                failures = 0;
                gap(replay.failure(), replay.position());
            }
            ArrayDeque<Envelope.StreamEntry> waited = held;
            held = null;
            while (!waited.isEmpty()) {
                Envelope.StreamEntry entry = waited.poll();
                if (!accept(entry)) {
                    waited.addFirst(entry);
                    held = waited;
                    repair();
                    return;
                }
            }
        }

        private synchronized void retry() {
            if (held != null && !closed) {
                repair();
            }
        }

        /** The entries up to the position are lost here: the receiver is told, and the stream goes on from it. */
        private void gap(String reason, Position position) {
            LOG.log(
                    relay.gapLevel(),
                    "stream " + stream + " of " + route + " lost entries on this node after " + epoch + ":" + last
                            + " (" + reason + "); its readers are told and go on from " + position.epoch() + ":"
                            + position.offset());
            epoch = position.epoch();
            last = position.offset();
            relay.countGapReported();
            try {
                receiver.onGap(stream, reason, position);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "the history receiver of " + stream + " failed", e);
            }
        }

        private void hand(long offset, String text) {
            relay.countReceived();
            try {
                receiver.onEntry(stream, offset, text);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "the history receiver of " + stream + " failed", e);
            }
        }
    }

    /** Keeps the streams this node reads known (and made again, if Redis lost them). */
    private void refresh() {
        if (closed) {
            return;
        }
        List<String> streams;
        synchronized (readers) {
            streams = new ArrayList<>(readers.keySet());
        }
        for (String stream : streams) {
            try {
                touch(stream).exceptionally(failure -> null);
            } catch (RuntimeException e) {
                // Redis away: the next refresh tries again
            }
        }
    }

    /** Stops reading every stream on this node. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        refresh.cancel(false);
        Map<String, Integer> open;
        synchronized (readers) {
            open = new HashMap<>(readers);
            readers.clear();
            tails.clear();
        }
        open.forEach((stream, count) -> {
            for (int i = 0; i < count; i++) {
                relay.unsubscribe(channel(stream));
            }
        });
        relay.forget(route, this);
    }

    @Override
    public String toString() {
        return "RedisHistory[" + route + ", " + maxMessages + " messages, " + maxAge + "]";
    }
}
