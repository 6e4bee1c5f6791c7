package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import io.github.wsrouter.Relay;
import io.github.wsrouter.Relay.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Redis killed under two running nodes: local delivery goes on, cross-node sends fail fast and
 * are counted; Redis back on the same port: cross-node delivery resumes by itself.
 */
@Tag("redis") // left out by -Pfast
@Timeout(90)
class RedisOutageTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(1);

    private RedisServerProcess redis;
    private final List<Node> nodes = new ArrayList<>();
    private final List<WsClient> clients = new ArrayList<>();

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
        nodes.forEach(Node::close);
        if (redis != null) {
            redis.close();
        }
    }

    private WsClient connect(Node node, String path) {
        WsClient client = node.connect(path);
        clients.add(client);
        return client;
    }

    @Test
    void localDeliveryContinuesCrossNodeFailsFastAndResumesWhenRedisReturns() {
        redis = RedisServerProcess.start();
        Node one = Node.start("node1", redis.uri(), COMMAND_TIMEOUT);
        nodes.add(one);
        Node two = Node.start("node2", redis.uri(), COMMAND_TIMEOUT);
        nodes.add(two);
        WsClient alice = connect(one, "/ws/alice/");
        WsClient carol = connect(one, "/ws/carol/");
        WsClient bob = connect(two, "/ws/bob/");
        WsClient room1 = connect(one, "/rooms/lobby/");
        WsClient room2 = connect(two, "/rooms/lobby/");
        await().atMost(WAIT)
                .until(() -> two.subscribed(Node.DIRECTED, Topic.user("bob"))
                        && one.subscribed(Node.ROOMS, Topic.room("lobby"))
                        && two.subscribed(Node.ROOMS, Topic.room("lobby")));
        alice.send(direct("bob", "before"));
        assertThat(message(bob.awaitText())).isEqualTo("before");

        redis.kill();

        // local delivery keeps working
        alice.send(direct("carol", "local"));
        assertThat(message(carol.awaitText())).isEqualTo("local");
        room1.send("lobby, local");
        assertThat(room1.awaitText()).isEqualTo("lobby, local");

        // a user on the other node: the sender is told at once (well within the command timeout
        // plus a margin), and the failure is counted
        long failuresBefore = one.relay.stats().publishFailures();
        long start = System.nanoTime();
        alice.send(direct("bob", "during"));
        JsonObject error = ThreeNodesTest.json(alice.awaitText());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(error.get("error").getAsString()).isEqualTo("relay_unavailable");
        assertThat(error.get("to_user").getAsString()).isEqualTo("bob");
        assertThat(took).isLessThan(COMMAND_TIMEOUT.plusSeconds(1));
        assertThat(one.relay.stats().publishFailures()).isGreaterThan(failuresBefore);

        // dave connects on node 2 while Redis is away: his SUBSCRIBE cannot reach it yet
        WsClient dave = connect(two, "/ws/dave/");

        redis.restart();

        // nothing was lost silently: once its node is subscribed again, each connection that held
        // a topic is told it may have missed messages (directed JSON: a gap notice per stream; a
        // room, which has no wire format of its own: closed with 4010, to reconnect). dave, who
        // connected during the outage, may have missed messages to everyone, not to him.
        assertThat(List.of(gapStream(bob), gapStream(bob))).containsExactlyInAnyOrder("user", "everyone");
        assertThat(List.of(gapStream(alice), gapStream(alice))).containsExactlyInAnyOrder("user", "everyone");
        assertThat(List.of(gapStream(carol), gapStream(carol))).containsExactlyInAnyOrder("user", "everyone");
        assertThat(room1.closeCode()).isEqualTo(4010);
        assertThat(room2.closeCode()).isEqualTo(4010);
        for (Node node : List.of(one, two)) {
            Relay.Stats stats = node.relay.stats();
            assertThat(stats.subscriptionLosses()).as(node.name).isGreaterThanOrEqualTo(1);
            assertThat(stats.resubscriptions()).as(node.name).isGreaterThanOrEqualTo(1);
            assertThat(stats.gapsReported()).as(node.name).isGreaterThanOrEqualTo(3);
        }
        assertThat(gapStream(dave)).isEqualTo("everyone");
        room1 = connect(one, "/rooms/lobby/");
        room2 = connect(two, "/rooms/lobby/");

        // without restarting a node: bob (resubscribed) and dave (subscribed late) are reachable
        // again within a few seconds. Each probe ends with bob's copy or alice's error.
        AtomicInteger probes = new AtomicInteger();
        await().atMost(WAIT).until(() -> probe(alice, bob, "bob", probes.incrementAndGet()));
        await().atMost(WAIT)
                .until(() -> two.subscribed(Node.DIRECTED, Topic.user("dave"))
                        && two.subscribed(Node.ROOMS, Topic.room("lobby"))
                        && one.subscribed(Node.ROOMS, Topic.room("lobby")));
        alice.send(direct("dave", "after"));
        assertThat(message(dave.awaitText())).isEqualTo("after");
        room1.send("lobby, across");
        assertThat(room2.awaitTextSkipping(text -> !text.equals("lobby, across")))
                .isEqualTo("lobby, across");
        alice.send(direct("bob", "after"));
        assertThat(message(bob.awaitTextSkipping(text -> message(text).startsWith("probe"))))
                .isEqualTo("after");
    }

    /** The stream of the gap notice that must come next. */
    private static String gapStream(WsClient client) {
        JsonObject notice = ThreeNodesTest.json(client.awaitText());
        assertThat(notice.has("gap")).as(notice.toString()).isTrue();
        assertThat(notice.getAsJsonObject("gap").get("reason").getAsString()).isEqualTo("subscription_lost");
        return notice.getAsJsonObject("gap").get("stream").getAsString();
    }

    /** Sends a probe to a user on the other node: true when it arrives, false when the sender gets an error. */
    private static boolean probe(WsClient sender, WsClient recipient, String user, int number) {
        sender.send(direct(user, "probe " + number));
        String arrived = recipient.poll(Duration.ofMillis(500));
        if (arrived != null) {
            return true;
        }
        String error = sender.poll(COMMAND_TIMEOUT.plusSeconds(1));
        assertThat(error).as("probe %s neither arrived nor failed", number).isNotNull();
        assertThat(ThreeNodesTest.json(error).has("error")).as(error).isTrue();
        return false;
    }

    private static String direct(String to, String message) {
        JsonObject json = new JsonObject();
        json.addProperty("to_user", to);
        json.addProperty("message", message);
        return json.toString();
    }

    private static String message(String text) {
        return ThreeNodesTest.json(text).get("message").getAsString();
    }
}
