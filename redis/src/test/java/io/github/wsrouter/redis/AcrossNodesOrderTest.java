package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.wsrouter.Relay;
import io.github.wsrouter.Relay.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Nothing lost and each sender's order kept when the recipients are on another node. */
@Tag("redis") // left out by -Pfast
@Timeout(120)
class AcrossNodesOrderTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private static RedisServerProcess redis;
    private final List<Node> nodes = new ArrayList<>();
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisServerProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        if (redis != null) {
            redis.close();
        }
    }

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
        nodes.forEach(Node::close);
    }

    private Node node(String name) {
        Node node = Node.start(name, redis.uri());
        nodes.add(node);
        return node;
    }

    private WsClient connect(Node node, String path) {
        WsClient client = node.connect(path);
        clients.add(client);
        return client;
    }

    @Test
    void fiveThousandNumberedMessagesToAUserOnAnotherNodeArriveAllInOrder() {
        Node one = node("node1");
        Node two = node("node2");
        WsClient alice = connect(one, "/ws/alice/");
        WsClient bob = connect(two, "/ws/bob/");
        await().atMost(WAIT).until(() -> two.subscribed(Node.DIRECTED, Topic.user("bob")));

        int count = 5_000;
        List<String> messages = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            messages.add("{\"to_user\":\"bob\",\"message\":" + n + "}");
        }
        alice.sendAll(messages);
        for (int n = 0; n < count; n++) {
            assertThat(ThreeNodesTest.json(bob.awaitText()).get("message").getAsInt())
                    .isEqualTo(n);
        }
        // the publisher counts on Redis's answer, which may come after bob has the message
        await().atMost(WAIT)
                .until(() -> one.relay.stats().published() + one.relay.stats().publishFailures() == count);
        assertThat(one.relay.stats())
                .extracting(Relay.Stats::published, Relay.Stats::publishFailures)
                .as("node1 %s", one.relay.stats())
                .containsExactly((long) count, 0L);
        assertThat(two.relay.stats().received()).isEqualTo(count);
        assertThat(alice.pending()).as("errors sent to alice").isZero();
    }

    @Test
    void eightSendersToFiftyListenersOnTwoNodesLoseNothingAndKeepEachSendersOrder() throws Exception {
        int senders = 8;
        int listeners = 50;
        int perSender = 500;
        Node one = node("node1");
        Node two = node("node2");
        List<WsClient> listening = new ArrayList<>();
        for (int i = 0; i < listeners; i++) {
            listening.add(connect(i % 2 == 0 ? one : two, Node.BROADCAST));
        }
        List<WsClient> sending = new ArrayList<>();
        for (int i = 0; i < senders; i++) {
            sending.add(connect(i % 2 == 0 ? one : two, Node.BROADCAST));
        }
        int perNode = (listeners + senders) / 2;
        await().atMost(WAIT)
                .until(() -> one.broadcast.connectionCount() == perNode
                        && two.broadcast.connectionCount() == perNode
                        && one.subscribed(Node.BROADCAST, Topic.route())
                        && two.subscribed(Node.BROADCAST, Topic.route()));

        ExecutorService pool = Executors.newFixedThreadPool(senders + listeners + senders);
        try {
            List<Future<?>> sends = new ArrayList<>();
            for (int s = 0; s < senders; s++) {
                WsClient sender = sending.get(s);
                int id = s;
                sends.add(pool.submit(() -> {
                    for (int n = 0; n < perSender; n++) {
                        sender.send(id + ":" + n);
                    }
                }));
            }
            List<Future<String>> checks = new ArrayList<>();
            List<WsClient> everyone = new ArrayList<>(listening);
            everyone.addAll(sending);
            for (WsClient client : everyone) {
                checks.add(pool.submit(() -> verifyAllInOrder(client, senders, perSender)));
            }
            for (Future<?> send : sends) {
                send.get(60, TimeUnit.SECONDS);
            }
            for (Future<String> check : checks) {
                assertThat(check.get(60, TimeUnit.SECONDS)).isEqualTo("ok");
            }
        } finally {
            pool.shutdownNow();
        }
        long total = (long) senders * perSender;
        await().atMost(WAIT).until(() -> answered(one) + answered(two) == total);
        assertThat(one.relay.stats().publishFailures() + two.relay.stats().publishFailures())
                .as("%s, %s", one.relay.stats(), two.relay.stats())
                .isZero();
    }

    /** Publishes Redis answered, or that failed. */
    private static long answered(Node node) {
        return node.relay.stats().published() + node.relay.stats().publishFailures();
    }

    /** Reads senders × perSender messages; each sender's must come in order, none twice. */
    private static String verifyAllInOrder(WsClient client, int senders, int perSender) {
        int[] next = new int[senders];
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < senders * perSender; i++) {
            String message = client.awaitText();
            if (!seen.add(message)) {
                return "duplicate " + message;
            }
            int colon = message.indexOf(':');
            int sender = Integer.parseInt(message.substring(0, colon));
            int n = Integer.parseInt(message.substring(colon + 1));
            if (n != next[sender]) {
                return "sender " + sender + ": expected " + next[sender] + " but got " + n;
            }
            next[sender]++;
        }
        return "ok";
    }
}
