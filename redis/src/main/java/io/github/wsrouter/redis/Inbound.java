package io.github.wsrouter.redis;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * What this node received from Redis and has not yet handed to its routes: a bounded queue with
 * one thread of its own, so that a slow route never stops Lettuce's event loop (which also
 * carries this node's publishes) and a node that falls behind cannot fill its heap.
 *
 * <p>The bound counts the characters of the messages waiting. A message that would pass it is
 * dropped, and a gap ({@code overflowed}) is queued at the drop's place, so the route hears of it
 * in order with its messages: one gap for each run of drops on a channel (a channel whose last
 * queued item is a gap gets no second one). Gaps and other control items are never dropped, and
 * there are at most as many gaps as messages queued. The node is behind from the first drop until
 * the queue has drained to half the bound: one WARNING when it falls behind, one when it caught up.
 */
final class Inbound {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.redis");

    /** A message from a channel, or a control item ({@code channel} null). */
    private record Item(String channel, String text, Runnable control) {}

    private final long maxChars;
    private final BiConsumer<String, String> deliver;
    private final Consumer<String> overflowed;
    private final Thread thread;
    private final ArrayDeque<Item> queue = new ArrayDeque<>();
    /** The channels whose last queued item is a gap; guarded by the queue. */
    private final Set<String> gapQueued = new HashSet<>();
    /** The channels that dropped messages since the node fell behind; guarded by the queue. */
    private final Set<String> lost = new HashSet<>();

    private long pending;
    private long highWater;
    private long dropped;
    private boolean closed;

    /**
     * @param deliver hands one message (channel, text) to its route, on this queue's thread
     * @param overflowed a channel lost messages here: called on this queue's thread, in order
     */
    Inbound(String name, long maxChars, BiConsumer<String, String> deliver, Consumer<String> overflowed) {
        this.maxChars = maxChars;
        this.deliver = deliver;
        this.overflowed = overflowed;
        this.thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a message, or drops it (and marks its channel) if it would pass the bound. */
    void offer(String channel, String text) {
        synchronized (queue) {
            if (closed) {
                return;
            }
            long size = text.length();
            if (pending + size > maxChars) {
                dropped++;
                if (lost.isEmpty()) {
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "this node fell behind Redis by more than " + maxChars
                                    + " characters: messages are dropped until it catches up (first on " + channel
                                    + "); their routes repair them from history or tell their connections");
                }
                lost.add(channel);
                if (gapQueued.add(channel)) {
                    queue.add(new Item(null, null, () -> overflowed.accept(channel)));
                    queue.notifyAll();
                }
                return;
            }
            if (!gapQueued.isEmpty()) {
                gapQueued.remove(channel);
            }
            pending += size;
            highWater = Math.max(highWater, pending);
            queue.add(new Item(channel, text, null));
            if (queue.size() == 1) {
                queue.notifyAll();
            }
        }
    }

    /** Runs the action on this queue's thread after everything queued before it; never dropped. */
    void control(Runnable action) {
        synchronized (queue) {
            if (!closed) {
                queue.add(new Item(null, null, action));
                queue.notifyAll();
            }
        }
    }

    /** Whether the node is behind: it dropped since it last drained to half the bound. */
    boolean behind() {
        synchronized (queue) {
            return !lost.isEmpty();
        }
    }

    /** Characters received and not yet handed over. */
    long pending() {
        synchronized (queue) {
            return pending;
        }
    }

    /** The most characters that ever waited at once. */
    long highWater() {
        synchronized (queue) {
            return highWater;
        }
    }

    /** Messages dropped over the bound. */
    long dropped() {
        synchronized (queue) {
            return dropped;
        }
    }

    /** Stops the thread; what waits is dropped. */
    void close() {
        synchronized (queue) {
            closed = true;
            queue.clear();
            pending = 0;
            queue.notifyAll();
        }
    }

    private void run() {
        for (; ; ) {
            Item item;
            synchronized (queue) {
                while (queue.isEmpty() && !closed) {
                    try {
                        queue.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                item = queue.poll();
            }
            try {
                if (item.control() != null) {
                    item.control().run();
                } else {
                    deliver.accept(item.channel(), item.text());
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "delivering a message from Redis failed", e);
            }
            if (item.control() == null) {
                synchronized (queue) {
                    pending -= item.text().length();
                    if (!lost.isEmpty() && pending <= maxChars / 2) {
                        LOG.log(
                                System.Logger.Level.WARNING,
                                "this node caught up with Redis; " + lost.size() + " channels lost messages: "
                                        + RedisRelay.some(lost));
                        lost.clear();
                    }
                }
            }
        }
    }
}
