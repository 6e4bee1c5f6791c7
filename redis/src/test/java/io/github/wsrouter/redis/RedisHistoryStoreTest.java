package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.wsrouter.Relay;
import io.github.wsrouter.Relay.History;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link RedisRelay#history}'s contract ({@link Relay.History}) against a real Redis, two relays as two nodes. */
@Tag("redis") // left out by -Pfast
@Timeout(60)
class RedisHistoryStoreTest {

    private static final String ROUTE = "/ws/{username}/";
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static RedisServerProcess redis;
    private static RedisClient admin;
    private static StatefulRedisConnection<String, String> commands;
    private final List<RedisRelay> relays = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisServerProcess.start();
        admin = RedisClient.create(redis.uri().toString());
        commands = admin.connect();
    }

    @AfterAll
    static void stopRedis() {
        if (admin != null) {
            admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void stop() {
        relays.forEach(RedisRelay::close);
        commands.sync().flushall();
    }

    /** What a node's receiver got. */
    private record Got(String stream, long offset, String text) {}

    private History history(String node, int maxMessages, Duration maxAge, LinkedBlockingQueue<Got> got) {
        RedisRelay relay = RedisRelay.builder(redis.uri())
                .nodeId(node)
                .commandTimeout(Node.COMMAND_TIMEOUT)
                .build();
        relays.add(relay);
        return relay.history(
                ROUTE, maxMessages, maxAge, (stream, offset, text) -> got.add(new Got(stream, offset, text)));
    }

    private static <T> T get(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static Got next(LinkedBlockingQueue<Got> got) throws InterruptedException {
        Got entry = got.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(entry).as("an entry within %s", WAIT).isNotNull();
        return entry;
    }

    @Test
    void entriesFromEveryNodeReachEveryReaderInOffsetOrderAndReplayFromAnOffset() throws Exception {
        LinkedBlockingQueue<Got> gotA = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Got> gotB = new LinkedBlockingQueue<>();
        History a = history("a", 100, Duration.ofMinutes(5), gotA);
        History b = history("b", 100, Duration.ofMinutes(5), gotB);

        History.Position opened = get(a.open("user:bob"));
        assertThat(opened.offset()).isZero();
        assertThat(opened.epoch()).matches("[0-9a-f]{12}");
        assertThat(get(b.open("user:bob"))).isEqualTo(opened);

        for (int i = 1; i <= 20; i++) {
            History writer = i % 2 == 0 ? a : b;
            assertThat(get(writer.append("user:bob", "{\"n\":" + i + "}", true)))
                    .isEqualTo((long) i);
        }
        for (int i = 1; i <= 20; i++) {
            assertThat(next(gotA)).isEqualTo(new Got("user:bob", i, "{\"n\":" + i + "}"));
            assertThat(next(gotB)).isEqualTo(new Got("user:bob", i, "{\"n\":" + i + "}"));
        }

        History.Replay replay = get(b.since("user:bob", opened.epoch(), 17));
        assertThat(replay.failure()).isNull();
        assertThat(replay.position()).isEqualTo(new History.Position(opened.epoch(), 20));
        assertThat(replay.entries())
                .containsExactly(
                        new History.Entry(18, "{\"n\":18}"),
                        new History.Entry(19, "{\"n\":19}"),
                        new History.Entry(20, "{\"n\":20}"));
        assertThat(get(b.since("user:bob", opened.epoch(), 20)).entries()).isEmpty();
        assertThat(get(b.since("user:bob", opened.epoch(), 21)).failure()).isEqualTo("unknown_offset");
        assertThat(get(b.since("user:bob", "another", 3)).failure()).isEqualTo("epoch_changed");

        // b stops reading: a still gets the entries, b does not
        b.close("user:bob");
        a.append("user:bob", "{\"n\":21}", true);
        assertThat(next(gotA).offset()).isEqualTo(21);
        assertThat(gotB.poll(200, TimeUnit.MILLISECONDS)).isNull();
        assertThat(relays.get(0).stats().published()).isEqualTo(11);
        assertThat(relays.get(0).stats().received()).isEqualTo(21);
    }

    @Test
    void entriesPublishedWhileASubscriptionWasAwayAreReadFromTheStreamInOrder() throws Exception {
        LinkedBlockingQueue<Got> gotA = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Got> gotB = new LinkedBlockingQueue<>();
        History a = history("a", 100, Duration.ofMinutes(5), gotA);
        History b = history("b", 100, Duration.ofMinutes(5), gotB);
        get(a.open("user:bob"));
        get(b.open("user:bob"));
        String channel = base("user:bob");
        for (int round = 0; round < 3; round++) {
            long first = round * 11L + 1;
            get(a.append("user:bob", "{\"n\":" + first + "}", true));
            assertThat(next(gotA).offset()).isEqualTo(first);
            assertThat(next(gotB).offset()).isEqualTo(first);

            // both nodes' subscriber connections drop: what is appended meanwhile is published to nobody
            commands.sync().clientKill(io.lettuce.core.KillArgs.Builder.typePubsub());
            for (long n = first + 1; n < first + 10; n++) {
                get(a.append("user:bob", "{\"n\":" + n + "}", true));
            }
            await().atMost(WAIT)
                    .until(() -> commands.sync().pubsubNumsub(channel).get(channel) == 2L);
            get(b.append("user:bob", "{\"n\":" + (first + 10) + "}", true));

            for (LinkedBlockingQueue<Got> got : List.of(gotA, gotB)) {
                for (long n = first + 1; n <= first + 10; n++) {
                    assertThat(next(got)).isEqualTo(new Got("user:bob", n, "{\"n\":" + n + "}"));
                }
            }
        }
        assertThat(gotA.poll(100, TimeUnit.MILLISECONDS)).isNull();
        assertThat(gotB.poll(100, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void aReaderThatComesBackWhileItsUnsubscribeIsUnderWayMissesNothing() throws Exception {
        LinkedBlockingQueue<Got> gotA = new LinkedBlockingQueue<>();
        History a = history("a", 100, Duration.ofMinutes(5), gotA);
        History b = history("b", 100, Duration.ofMinutes(5), new LinkedBlockingQueue<>());
        get(a.open("user:bob"));
        for (int i = 1; i <= 30; i++) {
            a.close("user:bob"); // the last reader: UNSUBSCRIBE sent, not yet answered
            History.Position position = get(a.open("user:bob"));
            long offset = get(b.append("user:bob", "{\"n\":" + i + "}", true));
            assertThat(offset).isEqualTo(position.offset() + 1);
            assertThat(next(gotA).offset()).as("entry %s", i).isEqualTo(offset);
        }
    }

    @Test
    void appendsKeepTheirOrderWhenRedisForgotTheScripts() throws Exception {
        History a = history("a", 1000, Duration.ofMinutes(5), new LinkedBlockingQueue<>());
        get(a.open("user:bob"));
        long previous = 0;
        for (int round = 0; round < 3; round++) {
            commands.sync().scriptFlush(); // as a restarted Redis: NOSCRIPT for what follows
            List<java.util.concurrent.CompletableFuture<Long>> appends = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                appends.add(a.append("user:bob", "{}", true).toCompletableFuture());
            }
            int failed = 0;
            for (java.util.concurrent.CompletableFuture<Long> append : appends) {
                try {
                    long offset = append.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                    assertThat(offset).as("offsets in the order of the appends").isGreaterThan(previous);
                    previous = offset;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(io.lettuce.core.RedisNoScriptException.class);
                    failed++;
                }
            }
            assertThat(failed)
                    .as("the first appends fail, none after the scripts are loaded again")
                    .isPositive();
            long next = get(a.append("user:bob", "{}", true)); // the scripts are known again
            assertThat(next).isGreaterThan(previous);
            assertThat(commands.sync().hget(base("user:bob") + ":head", "offset"))
                    .isEqualTo(Long.toString(next));
            previous = next;
        }
    }

    @Test
    void aStreamReadIsKeptAndOneNobodyReadsExpiresAfterMaxAge() throws Exception {
        History a = history("a", 100, Duration.ofSeconds(1), new LinkedBlockingQueue<>());
        get(a.open("user:bob"));
        get(a.open("user:carol"));
        get(a.append("user:carol", "{}", true));
        a.close("user:carol");

        await().atMost(WAIT)
                .until(() ->
                        commands.sync().exists(base("user:carol") + ":head", base("user:carol") + ":entries") == 0);
        assertThat(get(a.append("user:carol", "{}", true))).as("unknown now").isZero();
        assertThat(commands.sync().exists(base("user:bob") + ":head"))
                .as("refreshed while read")
                .isEqualTo(1);
        assertThat(get(a.append("user:bob", "{}", true))).isEqualTo(1);
    }

    @Test
    void closingTheHistoryOrTheRelayUnsubscribesFromItsStreams() throws Exception {
        History a = history("a", 100, Duration.ofMinutes(5), new LinkedBlockingQueue<>());
        History b = history("b", 100, Duration.ofMinutes(5), new LinkedBlockingQueue<>());
        String bob = base("user:bob");
        String everyone = base("everyone");
        get(a.open("user:bob"));
        get(a.open("user:bob"));
        get(a.open("everyone"));
        get(b.open("everyone"));
        assertThat(commands.sync().pubsubNumsub(bob, everyone))
                .containsEntry(bob, 1L)
                .containsEntry(everyone, 2L);

        a.close();
        await().atMost(WAIT)
                .until(() -> commands.sync().pubsubNumsub(bob, everyone).equals(Map.of(bob, 0L, everyone, 1L)));
        assertThat(a.open("user:bob")).isCompletedExceptionally();

        relays.get(1).close();
        await().atMost(WAIT).until(() -> commands.sync().pubsubNumsub(everyone).get(everyone) == 0L);
        assertThat(b.append("everyone", "{}", false).toCompletableFuture()).failsWithin(WAIT);
    }

    @Test
    void anAppendThatMustFindTheStreamIsRefusedUntilSomebodyOpensIt() throws Exception {
        History a = history("a", 100, Duration.ofMinutes(5), new LinkedBlockingQueue<>());

        assertThat(get(a.append("user:nobody", "{}", true))).isZero();
        assertThat(get(a.append("everyone", "{}", false))).isEqualTo(1);
        get(a.open("user:nobody"));
        a.close("user:nobody");
        assertThat(get(a.append("user:nobody", "{}", true))).isEqualTo(1);
    }

    @Test
    void aStreamLostInRedisComesBackWithANewEpoch() throws Exception {
        History a = history("a", 100, Duration.ofMinutes(5), new LinkedBlockingQueue<>());
        History.Position before = get(a.open("user:bob"));
        get(a.append("user:bob", "{}", true));

        commands.sync().flushall();

        History.Replay replay = get(a.since("user:bob", before.epoch(), 1));
        assertThat(replay.failure()).isEqualTo("epoch_changed");
        assertThat(replay.position().epoch()).isNotEqualTo(before.epoch());
        assertThat(replay.position().offset()).isZero();
    }

    @Test
    void theStreamKeepsAboutMaxMessagesAndReplaysNoMore() throws Exception {
        History a = history("a", 10, Duration.ofMinutes(5), new LinkedBlockingQueue<>());
        History.Position opened = get(a.open("user:bob"));
        for (int i = 1; i <= 300; i++) {
            a.append("user:bob", "{\"n\":" + i + "}", true);
        }
        assertThat(get(a.append("user:bob", "{\"n\":301}", true))).isEqualTo(301);

        assertThat(get(a.since("user:bob", opened.epoch(), 0)).failure()).isEqualTo("history_gone");
        assertThat(get(a.since("user:bob", opened.epoch(), 290)).failure()).isEqualTo("history_gone");
        History.Replay replay = get(a.since("user:bob", opened.epoch(), 291));
        assertThat(replay.failure()).isNull();
        assertThat(replay.entries()).hasSize(10);
        assertThat(replay.entries().get(0)).isEqualTo(new History.Entry(292, "{\"n\":292}"));
        // MAXLEN ~ trims whole nodes of the stream: a little more than 10 entries, far fewer than 301
        assertThat(commands.sync().xlen(base("user:bob") + ":entries")).isBetween(10L, 200L);
    }

    @Test
    void entriesOlderThanMaxAgeAreNotReplayed() throws Exception {
        History a = history("a", 100, Duration.ofSeconds(2), new LinkedBlockingQueue<>());
        History.Position opened = get(a.open("user:bob")); // read: its expiry refreshed every 2/3 s
        get(a.append("user:bob", "{\"n\":1}", true));
        assertThat(get(a.since("user:bob", opened.epoch(), 0)).entries()).hasSize(1);

        await().atMost(WAIT)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> "history_gone"
                        .equals(get(a.since("user:bob", opened.epoch(), 0)).failure()));
        assertThat(get(a.since("user:bob", opened.epoch(), 1)).failure()).isNull();
    }

    @Test
    void theKeysAreTheRelaysAndExpireAfterMaxAge() throws Exception {
        History a = history("a", 100, Duration.ofMinutes(5), new LinkedBlockingQueue<>());
        History.Position opened = get(a.open("user:bob"));
        get(a.append("user:bob", "{\"n\":1}", true));

        String base = base("user:bob");
        Map<String, String> head = commands.sync().hgetall(base + ":head");
        assertThat(head).containsEntry("epoch", opened.epoch()).containsEntry("offset", "1");
        assertThat(commands.sync().xrange(base + ":entries", io.lettuce.core.Range.create("-", "+")))
                .singleElement()
                .satisfies(message -> {
                    assertThat(message.getId()).isEqualTo("1-0");
                    assertThat(message.getBody())
                            .containsEntry("m", "{\"n\":1}")
                            .containsKey("t");
                });
        assertThat(commands.sync().pttl(base + ":head"))
                .isBetween(1L, Duration.ofMinutes(5).toMillis());
        assertThat(commands.sync().pttl(base + ":entries"))
                .isBetween(1L, Duration.ofMinutes(5).toMillis());
    }

    private static String base(String stream) {
        return "wsrouter:" + ROUTE + ":history:" + stream;
    }
}
