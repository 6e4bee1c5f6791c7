package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Presence across three nodes (one on the Jakarta adapter) on a real redis-server: one online
 * list everywhere, one join and one leave per user whatever their tabs, a node that dies or is cut
 * off has its users leave everywhere within the timeout (3 s here), a node that restarts under the
 * same id brings none of its old users back, and the lists converge after Redis restarts.
 */
@Tag("redis") // left out by -Pfast
@Timeout(120)
class PresenceAcrossNodesTest {

    private static final Duration WAIT = Duration.ofSeconds(15);
    private static final String PASSWORD = "pw-three";

    private RedisServerProcess redis;
    private RedisClient admin;
    private StatefulRedisConnection<String, String> commands;
    private final List<Node> nodes = new ArrayList<>();
    private final List<WsClient> clients = new ArrayList<>();

    @BeforeEach
    void start() {
        redis = RedisServerProcess.start();
        admin = RedisClient.create(redis.uri().toString());
        commands = admin.connect();
        allowThree();
        nodes.add(Node.start("one", redis.uri()));
        nodes.add(Node.start("two", redis.uri()));
        nodes.add(Node.startJakarta("three", threeUri()));
    }

    @AfterEach
    void stop() {
        clients.forEach(WsClient::close);
        nodes.forEach(Node::close);
        admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        redis.close();
    }

    /** Node three logs in as its own Redis user, so it alone can be cut off. */
    private URI threeUri() {
        return URI.create("redis://three:" + PASSWORD + "@127.0.0.1:" + redis.port());
    }

    private void allowThree() {
        commands.sync()
                .aclSetuser(
                        "three",
                        new AclSetuserArgs()
                                .on()
                                .addPassword(PASSWORD)
                                .allCommands()
                                .allKeys()
                                .allChannels());
    }

    private Node node(int number) {
        return nodes.get(number - 1);
    }

    private WsClient connect(Node node, String user) {
        WsClient client = node.connect("/presence/" + user + "/");
        clients.add(client);
        return client;
    }

    /** Every node's view of who is online is the set, and stays fresh. */
    private void awaitEverywhere(Set<String> users) {
        await().atMost(WAIT)
                .until(() ->
                        nodes.stream().allMatch(n -> n.presence.onlineUsers().equals(users)));
    }

    /** The presence notices a client has received so far, as "join x" / "leave x", skipping its online list and other objects. */
    private static List<String> notices(WsClient client) {
        List<String> seen = new ArrayList<>();
        for (String text; (text = client.poll(Duration.ZERO)) != null; ) {
            JsonObject object = ThreeNodesTest.json(text);
            if (!object.has("presence")) {
                continue; // a gap notice after Redis came back, say
            }
            String event = object.get("presence").getAsString();
            if (event.equals("changes")) { // the changes of one window at once
                object.getAsJsonArray("joined").forEach(user -> seen.add("join " + user.getAsString()));
                object.getAsJsonArray("left").forEach(user -> seen.add("leave " + user.getAsString()));
            } else if (!event.equals("online")) {
                seen.add(event + " " + object.get("user").getAsString());
            }
        }
        return seen;
    }

    @Test
    void everyNodeSeesTheSameUsersAndEachJoinsAndLeavesOnceWhateverItsTabs() {
        WsClient alice = connect(node(1), "alice");
        WsClient bob = connect(node(2), "bob");
        WsClient carol = connect(node(3), "carol");
        awaitEverywhere(Set.of("alice", "bob", "carol"));

        // dave: a tab on node one, then one on node three, then both close
        WsClient dave1 = connect(node(1), "dave");
        awaitEverywhere(Set.of("alice", "bob", "carol", "dave"));
        WsClient dave3 = connect(node(3), "dave");
        JsonObject online = ThreeNodesTest.json(dave3.awaitText());
        assertThat(online.get("presence").getAsString()).isEqualTo("online");
        assertThat(online.getAsJsonArray("users").toString()).isEqualTo("[\"alice\",\"bob\",\"carol\",\"dave\"]");
        dave1.close();
        clients.remove(dave1);
        dave3.close();
        clients.remove(dave3);
        awaitEverywhere(Set.of("alice", "bob", "carol"));

        // the others heard dave join once and leave once, on every node
        for (WsClient other : List.of(alice, bob, carol)) {
            List<String> heard = new ArrayList<>();
            await().atMost(WAIT).until(() -> {
                heard.addAll(notices(other));
                return heard.contains("leave dave");
            });
            assertThat(heard).filteredOn(n -> n.endsWith(" dave")).containsExactly("join dave", "leave dave");
        }
    }

    @Test
    void joinsAndLeavesAreToldInWindowsNotOneObjectPerUser() {
        WsClient alice = connect(node(1), "alice");
        ThreeNodesTest.json(alice.awaitText()); // online
        int count = 200;
        long start = System.nanoTime();
        List<WsClient> crowd = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            crowd.add(connect(node(2 + i % 2), "user" + i));
        }
        Set<String> all = new java.util.TreeSet<>(Set.of("alice"));
        for (int i = 0; i < count; i++) {
            all.add("user" + i);
        }
        awaitEverywhere(all);
        // alice's list, kept from what she was told, is the truth; and she was told in windows
        Set<String> kept = new java.util.TreeSet<>(Set.of("alice"));
        int[] objects = {0};
        await().atMost(WAIT).until(() -> {
            for (String text; (text = alice.poll(Duration.ZERO)) != null; ) {
                objects[0]++;
                apply(kept, ThreeNodesTest.json(text));
            }
            return kept.equals(all);
        });
        long windows = Duration.ofNanos(System.nanoTime() - start).toMillis() / 100 + 2;
        System.out.printf(
                "%d joins across nodes: alice got %d presence objects in %d windows%n", count, objects[0], windows);
        assertThat((long) objects[0]).isLessThanOrEqualTo(windows).isLessThan(count);

        crowd.forEach(WsClient::close);
        clients.removeAll(crowd);
        awaitEverywhere(Set.of("alice"));
        await().atMost(WAIT).until(() -> {
            for (String text; (text = alice.poll(Duration.ZERO)) != null; ) {
                apply(kept, ThreeNodesTest.json(text));
            }
            return kept.equals(Set.of("alice"));
        });
    }

    /** What a client does with a presence object: its list after it. */
    private static void apply(Set<String> list, JsonObject object) {
        switch (object.get("presence").getAsString()) {
            case "join" -> list.add(object.get("user").getAsString());
            case "leave" -> list.remove(object.get("user").getAsString());
            case "changes" -> {
                object.getAsJsonArray("joined").forEach(user -> list.add(user.getAsString()));
                object.getAsJsonArray("left").forEach(user -> list.remove(user.getAsString()));
            }
            default -> throw new AssertionError("unexpected " + object);
        }
    }

    @Test
    void aNodeCutOffFromRedisHasItsUsersLeaveEverywhereWithinTheTimeout() {
        WsClient alice = connect(node(1), "alice");
        connect(node(3), "carol");
        awaitEverywhere(Set.of("alice", "carol"));
        notices(alice);

        // node three can no longer reach Redis: its heartbeat stops, its alive key expires
        long cut = System.nanoTime();
        commands.sync().aclSetuser("three", new AclSetuserArgs().off());
        commands.sync().clientKill(KillArgs.Builder.user("three"));
        await().atMost(WAIT)
                .until(() -> node(1).presence.onlineUsers().equals(Set.of("alice"))
                        && node(2).presence.onlineUsers().equals(Set.of("alice")));
        Duration took = Duration.ofNanos(System.nanoTime() - cut);
        assertThat(took).isLessThanOrEqualTo(Node.PRESENCE_TIMEOUT.plusSeconds(1));
        await().atMost(WAIT).until(() -> notices(alice).contains("leave carol"));

        // it comes back: carol is still connected to it, and joins again everywhere
        allowThree();
        awaitEverywhere(Set.of("alice", "carol"));
    }

    @Test
    void aNodeThatDiesAndRestartsUnderItsIdBringsNoneOfItsOldUsersBack() {
        WsClient alice = connect(node(1), "alice");
        connect(node(2), "bob");
        awaitEverywhere(Set.of("alice", "bob"));
        notices(alice);

        Node two = node(2);
        two.crash(); // nothing is said to Redis
        Node again = Node.start("two", redis.uri());
        nodes.set(1, again);
        // the new life reaps the old one at once: bob leaves well within the timeout
        await().atMost(Node.PRESENCE_TIMEOUT)
                .until(() -> node(1).presence.onlineUsers().equals(Set.of("alice")));
        await().atMost(WAIT).until(() -> notices(alice).contains("leave bob"));
        assertThat(again.presence.onlineUsers()).isEqualTo(Set.of("alice"));
        WsClient bobAgain = connect(again, "bob");
        awaitEverywhere(Set.of("alice", "bob"));
        assertThat(ThreeNodesTest.json(bobAgain.awaitText())
                        .getAsJsonArray("users")
                        .toString())
                .isEqualTo("[\"alice\",\"bob\"]");
    }

    @Test
    void afterRedisRestartsEmptyTheListsConvergeToTheTruthWithoutRestartingANode() {
        WsClient alice = connect(node(1), "alice");
        WsClient bob = connect(node(2), "bob");
        connect(node(3), "carol");
        awaitEverywhere(Set.of("alice", "bob", "carol"));

        admin.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        redis.kill();
        // while Redis is away: bob leaves, dave comes; the views are stale, and say so
        bob.close();
        clients.remove(bob);
        WsClient dave = connect(node(3), "dave");
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(n -> n.presence.onlineUsers().size() > 0
                                && n.relay.stats().presenceStale() > 0));
        JsonObject online = ThreeNodesTest.json(dave.awaitText());
        assertThat(online.has("stale")).isTrue();

        redis.restart();
        admin = RedisClient.create(redis.uri().toString());
        commands = admin.connect();
        allowThree();
        awaitEverywhere(Set.of("alice", "carol", "dave"));
        await().atMost(WAIT).until(() -> notices(alice).containsAll(List.of("leave bob", "join dave")));
    }
}
