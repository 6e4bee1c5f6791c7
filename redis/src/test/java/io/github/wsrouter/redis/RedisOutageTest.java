package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
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
