package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import io.github.wsrouter.Relay;
import io.github.wsrouter.Relay.Topic;
import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node that loses its link to Redis misses what is published meanwhile: it must never go on as
 * if nothing happened. Two nodes on a real redis-server; node two's link is cut and kept down (its
 * Redis user is switched off and its connections killed) while node one publishes, so the loss is
 * certain, not a race. Then: the stream with history is read back (bob gets everything once and in
 * order), the topics without it tell their connections, and the counters and the log show it.
 */
@Tag("redis") // left out by -Pfast
@Timeout(120)
class GapsAcrossNodesTest {

    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String PASSWORD = "pw-two";

    private RedisServerProcess redis;
    private RedisClient admin;
    private StatefulRedisConnection<String, String> commands;
    private final List<Node> nodes = new ArrayList<>();
    /** Node one publishes; node two's link is the one that is cut. */
    private Node one;

    private Node two;
    private final List<WsClient> clients = new ArrayList<>();
    private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    private final Logger log = Logger.getLogger("io.github.wsrouter.redis");
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(record);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    void captureWarnings() {
        log.addHandler(capture);
    }

    @AfterEach
    void stop() {
        log.removeHandler(capture);
        clients.forEach(WsClient::close);
        nodes.forEach(Node::close);
        if (admin != null) {
            admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        if (redis != null) {
            redis.close();
        }
    }

    private void startRedis(RedisServerProcess server) {
        redis = server;
        admin = RedisClient.create(redis.uri().toString());
        commands = admin.connect();
    }

    /** Starts Redis, then the nodes: node two logs in as its own Redis user, so its link alone can be cut. */
    private void startNodes(RedisServerProcess server) {
        startRedis(server);
        allowTwo();
        one = Node.start("one", redis.uri());
        nodes.add(one);
        two = Node.start("two", URI.create("redis://two:" + PASSWORD + "@127.0.0.1:" + redis.port()));
        nodes.add(two);
    }

    /** Node two's Redis user (made again after a restart: users are not in the append-only file). */
    private void allowTwo() {
        commands.sync()
                .aclSetuser(
                        "two",
                        new AclSetuserArgs()
                                .on()
                                .addPassword(PASSWORD)
                                .allCommands()
                                .allKeys()
                                .allChannels());
    }

    /** Stops Redis with SHUTDOWN NOSAVE and starts it again on its port. */
    private void restartRedis() {
        admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        redis.shutdownNoSave();
        redis.restart();
        admin = RedisClient.create(redis.uri().toString());
        commands = admin.connect();
        allowTwo();
    }

    private WsClient connect(Node node, String path) {
        WsClient client = node.connect(path);
        clients.add(client);
        return client;
    }

    @RepeatedTest(3)
    void whatANodeMissedWhileItsLinkWasDownIsReadBackFromHistoryAndTheRestIsTold() {
        startNodes(RedisServerProcess.start());
        WsClient bob = connect(two, "/history/bob/");
        WsClient listener = connect(two, "/ws/");
        WsClient carol = connect(two, "/ws/carol/");
        WsClient alice = connect(one, "/history/alice/");
        WsClient sender = connect(one, "/ws/");
        assertThat(json(bob.awaitText()).has("streams")).isTrue(); // subscribed to the streams
        assertThat(json(alice.awaitText()).has("streams")).isTrue();
        await().atMost(WAIT)
                .until(() -> two.subscribed(Node.BROADCAST, Topic.route())
                        && two.subscribed(Node.DIRECTED, Topic.user("carol"))
                        && two.subscribed(Node.DIRECTED, Topic.route()));

        sendToEveryone(alice, 0, 100);
        sender.send("before");
        assertThat(listener.awaitText()).isEqualTo("before");

        // node two's link goes down, and stays down while node one publishes
        commands.sync().aclSetuser("two", new AclSetuserArgs().off());
        commands.sync().clientKill(KillArgs.Builder.user("two"));
        await().atMost(WAIT).until(() -> !two.subscribed(Node.BROADCAST, Topic.route()));
        sendToEveryone(alice, 100, 300);
        sender.send("during");
        // kept: alice's own copies come back through Redis, so all 300 were appended
        assertThat(everyoneMessages(alice, 300)).containsExactlyElementsOf(range(0, 300));

        // it comes back
        commands.sync().aclSetuser("two", new AclSetuserArgs().on());
        await().atMost(WAIT).until(() -> two.relay.stats().resubscriptions() >= 1);
        sendToEveryone(alice, 300, 400);

        // bob, with history: every message once and in order, the 200 he missed read back
        assertThat(everyoneMessages(bob, 400)).containsExactlyElementsOf(range(0, 400));
        // without history: told, in the route's way
        assertThat(listener.closeCode()).isEqualTo(4010);
        assertThat(List.of(gapStream(carol), gapStream(carol))).containsExactlyInAnyOrder("user", "everyone");

        Relay.Stats stats = two.relay.stats();
        assertThat(stats.subscriptionLosses()).isGreaterThanOrEqualTo(1);
        assertThat(stats.resubscriptions()).isGreaterThanOrEqualTo(1);
        assertThat(stats.repaired()).isGreaterThanOrEqualTo(200);
        assertThat(stats.gapsReported()).isGreaterThanOrEqualTo(3); // /ws/, carol, /ws/{username}/ everyone
        assertThat(warnings)
                .extracting(LogRecord::getMessage)
                .anySatisfy(message -> assertThat(message)
                        .contains("node two lost its Redis subscription")
                        .contains("/ws/ route:")
                        .contains("/history/{username}/ stream everyone"));
        assertThat(one.relay.stats().subscriptionLosses()).isZero();
    }

    @Test
    void aRedisRestartedWithItsAppendOnlyFileLosesNothingForReadersOfHistory() throws Exception {
        Path data = Files.createTempDirectory("wsrouter-redis-aof");
        startNodes(RedisServerProcess.startPersistent(data));
        WsClient bob = connect(two, "/history/bob/");
        WsClient listener = connect(two, "/ws/");
        WsClient alice = connect(one, "/history/alice/");
        assertThat(json(bob.awaitText()).has("streams")).isTrue();
        assertThat(json(alice.awaitText()).has("streams")).isTrue();
        await().atMost(WAIT).until(() -> two.subscribed(Node.BROADCAST, Topic.route()));
        sendToEveryone(alice, 0, 200);
        assertThat(everyoneMessages(alice, 200)).containsExactlyElementsOf(range(0, 200)); // all kept

        restartRedis(); // bob's copies may still be on their way

        // alice sends until her messages are kept again: each is either kept (her own copy comes
        // back) or refused with an error, so she knows which are kept
        List<Integer> kept = new ArrayList<>(range(0, 200));
        for (int i = 200; kept.size() < 300; i++) {
            alice.send(toEveryone(i));
            JsonObject answer = json(alice.awaitTextSkipping(GapsAcrossNodesTest::isGap));
            if (!answer.has("error")) {
                assertThat(answer.get("message").getAsString()).isEqualTo(Integer.toString(i));
                kept.add(i);
            }
        }
        // bob was connected throughout: he gets every kept message, once and in order, no gap
        assertThat(everyoneMessages(bob, kept.size())).containsExactlyElementsOf(kept);
        assertThat(listener.closeCode()).isEqualTo(4010); // no history on /ws/: told
        assertThat(two.relay.stats().subscriptionLosses()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aRedisRestartedEmptyIsAGapWithANewEpochAndWhatFollowsArrivesWhole() {
        startNodes(RedisServerProcess.start());
        WsClient bob = connect(two, "/history/bob/");
        WsClient alice = connect(one, "/history/alice/");
        String epoch = json(bob.awaitText())
                .getAsJsonObject("streams")
                .getAsJsonObject("everyone")
                .get("epoch")
                .getAsString();
        assertThat(json(alice.awaitText()).has("streams")).isTrue();
        sendToEveryone(alice, 0, 100);
        assertThat(everyoneMessages(bob, 100)).containsExactlyElementsOf(range(0, 100));
        assertThat(everyoneMessages(alice, 100)).containsExactlyElementsOf(range(0, 100));

        restartRedis(); // empty: the streams are gone

        List<Integer> kept = new ArrayList<>();
        for (int i = 100; kept.size() < 100; i++) {
            alice.send(toEveryone(i));
            JsonObject answer = json(alice.awaitTextSkipping(GapsAcrossNodesTest::isGap));
            if (!answer.has("error")) {
                kept.add(i);
            }
        }
        // bob is told that the stream began again (he may have lost what Redis lost), then gets
        // every message of the new epoch once and in order
        // every message of the new epoch once and in order; his own stream began again too
        List<String> gaps = new ArrayList<>();
        List<Integer> got = new ArrayList<>();
        while (got.size() < kept.size()) {
            JsonObject object = json(bob.awaitText());
            if (object.has("gap")) {
                JsonObject gap = object.getAsJsonObject("gap");
                assertThat(gap.get("reason").getAsString()).isEqualTo("epoch_changed");
                assertThat(gap.getAsJsonObject("position").get("offset").getAsLong())
                        .isZero();
                if (gap.get("stream").getAsString().equals("everyone")) {
                    assertThat(got)
                            .as("the gap comes before the new epoch's messages")
                            .isEmpty();
                    assertThat(gap.getAsJsonObject("position").get("epoch").getAsString())
                            .isNotEqualTo(epoch);
                }
                gaps.add(gap.get("stream").getAsString());
            } else if (object.has("message")) {
                got.add(Integer.parseInt(object.get("message").getAsString()));
            }
        }
        assertThat(got).containsExactlyElementsOf(kept);
        if (!gaps.contains("user")) { // nothing was sent to bob alone: his stream's gap may come last
            JsonObject gap = json(bob.awaitText()).getAsJsonObject("gap");
            assertThat(gap.get("reason").getAsString()).isEqualTo("epoch_changed");
            gaps.add(gap.get("stream").getAsString());
        }
        assertThat(gaps).containsExactlyInAnyOrder("user", "everyone");
        assertThat(two.relay.stats().gapsReported()).isGreaterThanOrEqualTo(1);
    }

    private static void sendToEveryone(WsClient client, int from, int to) {
        client.sendAll(IntStream.range(from, to)
                .mapToObj(GapsAcrossNodesTest::toEveryone)
                .toList());
    }

    private static String toEveryone(int i) {
        return "{\"to_user\":\"*\",\"message\":\"" + i + "\"}";
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    /** The next {@code count} messages to everyone, as numbers; a gap notice among them fails. */
    private static List<Integer> everyoneMessages(WsClient client, int count) {
        List<Integer> got = new ArrayList<>();
        while (got.size() < count) {
            JsonObject object = json(client.awaitText());
            assertThat(object.has("gap")).as("no gap expected: %s", object).isFalse();
            if (object.has("message")) {
                got.add(Integer.parseInt(object.get("message").getAsString()));
            }
        }
        return got;
    }

    private static boolean isGap(String text) {
        return json(text).has("gap");
    }

    /** The stream of the gap notice that must come next, for a route without history. */
    private static String gapStream(WsClient client) {
        JsonObject notice = json(client.awaitText());
        assertThat(notice.has("gap")).as(notice.toString()).isTrue();
        assertThat(notice.getAsJsonObject("gap").get("reason").getAsString()).isEqualTo("subscription_lost");
        return notice.getAsJsonObject("gap").get("stream").getAsString();
    }

    private static JsonObject json(String text) {
        return ThreeNodesTest.json(text);
    }
}
