package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.wsrouter.Relay;
import io.github.wsrouter.Relay.History;
import io.github.wsrouter.Relay.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node that keeps running but cannot keep up: its routes burn CPU on every message, while another
 * node publishes at full speed for 60 s ({@code -Dwsrouter.slowNode.seconds} to change it). What it
 * received and could not yet hand over never passes its bound, and what it dropped over the bound
 * is never silent: the stream with history hands every entry once and in order, with a gap notice
 * before any jump (when more was dropped than the history keeps); the topic without history hands
 * its messages in order, with a gap notice before any jump.
 */
@Tag("redis") // left out by -Pfast
@Timeout(300)
class SlowNodeTest {

    private static final String ROUTE = "/feed/";
    private static final long BOUND = 256 * 1024;
    private static final Duration PUBLISHING = Duration.ofSeconds(Long.getLong("wsrouter.slowNode.seconds", 60));
    private static final long BURN_NANOS = 200_000;
    private static final String PADDING = "x".repeat(1000);

    private RedisServerProcess redis;
    private final List<RedisRelay> relays = new ArrayList<>();

    @AfterEach
    void stop() {
        relays.forEach(RedisRelay::close);
        if (redis != null) {
            redis.close();
        }
    }

    /** What one receiver got, in order: a sequence number or offset, or a gap and where it goes on from. */
    private record Event(long number, boolean gap) {}

    private static final class Events {
        private final List<Event> events = new ArrayList<>();

        synchronized void add(long number, boolean gap) {
            events.add(new Event(number, gap));
        }

        synchronized List<Event> snapshot() {
            return new ArrayList<>(events);
        }

        synchronized long last() {
            return events.isEmpty() ? -1 : events.get(events.size() - 1).number();
        }
    }

    /** A route that cannot keep up: 0.2 ms of CPU per message. */
    private static void burn() {
        long end = System.nanoTime() + BURN_NANOS;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    @Test
    void aNodeThatCannotKeepUpStaysWithinItsBoundAndNeverDropsSilently() throws Exception {
        redis = RedisServerProcess.start();
        RedisRelay slow = relay(RedisRelay.builder(redis.uri()).nodeId("slow").maxInboundBacklog(BOUND));
        RedisRelay fast = relay(RedisRelay.builder(redis.uri()).nodeId("fast"));

        Events plain = new Events();
        Relay.Channel slowChannel = slow.open(ROUTE, new Relay.Receiver() {
            @Override
            public void onText(Topic topic, String text) {
                burn();
                plain.add(Long.parseLong(text.substring(0, text.indexOf(' '))), false);
            }

            @Override
            public void onGap(Topic topic, String reason) {
                plain.add(-1, true);
            }
        });
        slowChannel.subscribe(Topic.route());
        Events entries = new Events();
        History slowHistory = slow.history(ROUTE, 20_000, Duration.ofMinutes(5), new History.Receiver() {
            @Override
            public void onEntry(String stream, long offset, String text) {
                burn();
                entries.add(offset, false);
            }

            @Override
            public void onGap(String stream, String reason, History.Position position) {
                entries.add(position.offset(), true);
            }
        });
        History.Position start = slowHistory.open("feed").toCompletableFuture().get(10, TimeUnit.SECONDS);
        await().atMost(Duration.ofSeconds(10)).until(() -> slow.isSubscribed(ROUTE, Topic.route()));

        Relay.Channel fastChannel = fast.open(ROUTE, new Relay.Receiver() {
            @Override
            public void onText(Topic topic, String text) {}
        });
        History fastHistory = fast.history(ROUTE, 20_000, Duration.ofMinutes(5), (stream, offset, text) -> {});

        // full speed, with at most 256 commands of each kind in flight
        Semaphore published = new Semaphore(256);
        Semaphore appended = new Semaphore(256);
        AtomicLong lastOffset = new AtomicLong(start.offset());
        long highestPending = 0;
        long sequence = 0;
        long deadline = System.nanoTime() + PUBLISHING.toNanos();
        while (System.nanoTime() < deadline) {
            published.acquire();
            fastChannel
                    .publishText(Topic.route(), sequence + " " + PADDING)
                    .whenComplete((n, f) -> published.release());
            appended.acquire();
            fastHistory.append("feed", "{\"n\":" + sequence + "}", false).whenComplete((offset, f) -> {
                if (offset != null) {
                    lastOffset.accumulateAndGet(offset, Math::max);
                }
                appended.release();
            });
            sequence++;
            if (sequence % 256 == 0) {
                highestPending = Math.max(highestPending, slow.stats().inboundPending());
            }
        }
        assertThat(published.tryAcquire(256, 30, TimeUnit.SECONDS)).isTrue();
        assertThat(appended.tryAcquire(256, 30, TimeUnit.SECONDS)).isTrue();
        long lastSequence = sequence - 1;

        // the slow node fell behind and dropped, yet never held more than its bound
        Relay.Stats stats = slow.stats();
        assertThat(stats.inboundDropped()).isPositive();
        assertThat(highestPending).isLessThanOrEqualTo(BOUND);
        assertThat(slow.inboundHighWater()).isPositive().isLessThanOrEqualTo(BOUND);
        System.out.printf(
                "slow node: %d published and %d appended in %s; %d dropped, %d read back, %d gaps told,"
                        + " at most %d characters waiting (bound %d)%n",
                sequence,
                lastOffset.get() - start.offset(),
                PUBLISHING,
                stats.inboundDropped(),
                stats.repaired(),
                stats.gapsReported(),
                slow.inboundHighWater(),
                BOUND);

        // once the publisher stops it catches up: the stream to its end, the topic to a message or
        // a gap after everything else
        await().atMost(Duration.ofSeconds(60)).until(() -> entries.last() == lastOffset.get());
        await().atMost(Duration.ofSeconds(60)).until(() -> slow.stats().inboundPending() == 0);
        assertNeverSilent(entries.snapshot(), start.offset(), lastOffset.get(), "stream");
        List<Event> topic = plain.snapshot();
        assertNeverSilent(topic, -1, topic.get(topic.size() - 1).gap() ? -1 : lastSequence, "topic");
        assertThat(topic).as("the topic's receiver was told of the drops").anyMatch(Event::gap);
    }

    /**
     * Every number is the one after the last, or comes after a gap: nothing skipped silently,
     * nothing twice, and (when {@code end} is not -1) nothing missing at the end. A gap with a
     * position (a stream's) says exactly where it goes on; one without (a topic's) only that
     * some are missing.
     */
    private static void assertNeverSilent(List<Event> events, long first, long end, String what) {
        long last = first;
        boolean afterGap = false;
        int index = -1;
        for (Event event : events) {
            index++;
            if (!event.gap() && !afterGap && event.number() != last + 1) {
                System.out.println("DEBUG " + what + " "
                        + events.subList(Math.max(0, index - 10), Math.min(events.size(), index + 5)));
            }
            if (event.gap()) {
                if (event.number() >= 0) {
                    assertThat(event.number())
                            .as("%s: a gap goes forward", what)
                            .isGreaterThanOrEqualTo(last);
                    last = event.number();
                } else {
                    afterGap = true;
                }
                continue;
            }
            if (afterGap) {
                assertThat(event.number()).as("%s: after a gap, onward", what).isGreaterThan(last);
            } else {
                assertThat(event.number())
                        .as("%s: the next, with no gap told", what)
                        .isEqualTo(last + 1);
            }
            last = event.number();
            afterGap = false;
        }
        if (end != -1) {
            assertThat(last).as("%s: nothing missing at the end", what).isEqualTo(end);
        }
    }

    private RedisRelay relay(RedisRelay.Builder builder) {
        RedisRelay relay = builder.commandTimeout(Node.COMMAND_TIMEOUT).build();
        relays.add(relay);
        return relay;
    }
}
