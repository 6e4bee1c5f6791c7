package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.Relay;
import io.github.wsrouter.Relay.Topic;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three servers in one JVM on one real Redis — two on Undertow's native adapter, the third on the
 * Jakarta adapter: broadcasts, rooms and directed messages cross nodes.
 */
@Tag("redis") // left out by -Pfast
@Timeout(60)
class ThreeNodesTest {

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

    @BeforeEach
    void startNodes() {
        nodes.add(Node.start("node1", redis.uri()));
        nodes.add(Node.start("node2", redis.uri()));
        nodes.add(Node.startJakarta("node3", redis.uri())); // the relay is the same on both adapters
    }

    @AfterEach
    void stopNodes() {
        clients.forEach(WsClient::close);
        nodes.forEach(Node::close);
    }

    private Node node(int number) {
        return nodes.get(number - 1);
    }

    private WsClient connect(Node node, String path) {
        WsClient client = node.connect(path);
        clients.add(client);
        return client;
    }

    @Test
    void everyBroadcastReachesAllThirtyClientsExactlyOnce() {
        List<WsClient> all = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            all.add(connect(nodes.get(i % 3), Node.BROADCAST));
        }
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(n ->
                                n.broadcast.connectionCount() == 10 && n.subscribed(Node.BROADCAST, Topic.route())));

        // one client of each node broadcasts a message, then an end marker
        for (int i = 0; i < 3; i++) {
            all.get(i).send("hello from node" + (i + 1)).send("end " + i);
        }

        Set<String> expected =
                Set.of("hello from node1", "hello from node2", "hello from node3", "end 0", "end 1", "end 2");
        for (WsClient client : all) {
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                String text = client.awaitText();
                assertThat(seen.add(text)).as("received twice: %s", text).isTrue();
            }
            assertThat(seen).isEqualTo(expected);
        }
        // each node got the two messages of each other node, and ignored its own
        for (Node node : nodes) {
            // published counts Redis's answers, which may come after the other nodes delivered
            await().atMost(WAIT)
                    .until(() -> node.relay.stats().received() == 4
                            && node.relay.stats().published()
                                            + node.relay.stats().publishFailures()
                                    == 2);
            assertThat(node.relay.stats()).as(node.name).isEqualTo(Relay.Stats.of(2, 0, 4, 0));
        }
        // nothing more arrives: a last broadcast is the next message everywhere
        all.get(0).send("last");
        for (WsClient client : all) {
            assertThat(client.awaitText()).isEqualTo("last");
            assertThat(client.pending()).isZero();
        }
    }

    @Test
    void jsonRoomMessagesReachEveryMemberOnEveryNodeOnceStampedWithTheirVerifiedSender() {
        List<String> users = List.of("alice", "bob", "carol");
        List<WsClient> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            WsClient member = connect(node(i + 1), "/ws/" + users.get(i) + "/");
            member.send("{\"join\":\"lobby\"}");
            assertThat(json(member.awaitTextSkipping(ThreeNodesTest::roomPresence))
                            .get("joined")
                            .getAsString())
                    .isEqualTo("lobby");
            members.add(member);
        }
        // each member hears the joins after its own (room presence), before the messages
        for (int i = 0; i < 2; i++) {
            awaitHeard(members.get(i), Set.copyOf(users.subList(i + 1, 3)));
        }
        WsClient dave = connect(node(1), "/ws/dave/"); // in no room
        String rooms = Node.DIRECTED + "#rooms";
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.subscribed(rooms, Topic.room("lobby"))));

        // 100 messages from each member, one of them forging its sender
        int count = 100;
        for (int n = 0; n < count; n++) {
            for (int i = 0; i < 3; i++) {
                members.get(i)
                        .send("{\"to_room\":\"lobby\",\"message\":" + n + (n == 50 ? ",\"from\":\"mallory\"" : "")
                                + "}");
            }
        }
        for (WsClient member : members) {
            Map<String, List<Integer>> bySender = new HashMap<>();
            for (int k = 0; k < 3 * count; k++) {
                JsonObject message = json(member.awaitTextSkipping(ThreeNodesTest::roomPresence));
                assertThat(message.get("room").getAsString()).isEqualTo("lobby");
                bySender.computeIfAbsent(message.get("from").getAsString(), f -> new ArrayList<>())
                        .add(message.get("message").getAsInt());
            }
            List<Integer> each =
                    java.util.stream.IntStream.range(0, count).boxed().toList();
            assertThat(bySender).containsOnlyKeys(users); // no mallory
            bySender.values().forEach(got -> assertThat(got).containsExactlyElementsOf(each)); // once, in order
            assertThat(member.pending()).isZero();
        }
        assertThat(dave.pending()).isZero();

        // a non-member may not post; the policy keeps everyone but admin out of staff, on every node
        dave.send("{\"id\":1,\"to_room\":\"lobby\",\"message\":\"let me in\"}");
        assertThat(json(dave.awaitTextSkipping(ThreeNodesTest::roomPresence))
                        .get("error")
                        .getAsString())
                .isEqualTo("not_in_room");
        members.get(2).send("{\"join\":\"staff\"}"); // carol, on the Jakarta node
        assertThat(json(members.get(2).awaitTextSkipping(ThreeNodesTest::roomPresence))
                        .get("error")
                        .getAsString())
                .isEqualTo("forbidden");
        WsClient admin = connect(node(3), "/ws/admin/");
        admin.send("{\"join\":\"staff\"}");
        assertThat(json(admin.awaitTextSkipping(ThreeNodesTest::roomPresence))
                        .get("joined")
                        .getAsString())
                .isEqualTo("staff");
        for (WsClient member : members) {
            assertThat(member.pending()).isZero();
        }
    }

    @Test
    void aMemberToldJoinedMissesNothingSentToTheRoomFromAnotherNodeAfterIt() {
        WsClient alice = connect(node(1), "/ws/alice/");
        WsClient bob = connect(node(2), "/ws/bob/");
        for (int round = 0; round < 50; round++) {
            String room = "r" + round;
            alice.send("{\"join\":\"" + room + "\"}");
            assertThat(json(alice.awaitTextSkipping(ThreeNodesTest::roomPresence))
                            .get("joined")
                            .getAsString())
                    .isEqualTo(room);
            bob.send("{\"join\":\"" + room + "\"}");
            assertThat(json(bob.awaitTextSkipping(ThreeNodesTest::roomPresence))
                            .get("joined")
                            .getAsString())
                    .isEqualTo(room);
            // node two confirmed bob's room before telling him: alice's message, sent at once, reaches him
            alice.send("{\"to_room\":\"" + room + "\",\"message\":" + round + "}");
            assertThat(json(bob.awaitTextSkipping(ThreeNodesTest::roomPresence))
                            .get("message")
                            .getAsInt())
                    .isEqualTo(round);
            assertThat(json(alice.awaitTextSkipping(ThreeNodesTest::roomPresence))
                            .get("message")
                            .getAsInt())
                    .isEqualTo(round);
        }
    }

    /** A room presence notice ({@code {"presence": ..., "room": ...}}). */
    private static boolean roomPresence(String text) {
        JsonObject object = json(text);
        return object.has("presence") && object.has("room");
    }

    /** Reads a member's room presence notices until it heard all these users join. */
    private static void awaitHeard(WsClient member, Set<String> joined) {
        Set<String> heard = new HashSet<>();
        while (!heard.containsAll(joined)) {
            JsonObject notice = json(member.awaitText());
            assertThat(notice.get("presence").getAsString()).isIn("join", "changes");
            if (notice.has("user")) {
                heard.add(notice.get("user").getAsString());
            } else {
                notice.getAsJsonArray("joined").forEach(u -> heard.add(u.getAsString()));
            }
        }
    }

    @Test
    void aRoomsMembersAreTheSameOnEveryNodeAndItsMembersHearWhoComesAndGoes() {
        WsClient alice = connect(node(1), "/ws/alice/");
        alice.send("{\"join\":\"lobby\"}");
        JsonObject answer = json(alice.awaitText());
        assertThat(answer.get("joined").getAsString()).isEqualTo("lobby");
        assertThat(answer.get("members").toString()).isEqualTo("[\"alice\"]");
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(n -> n.directed.roomMembers("lobby").equals(Set.of("alice"))));

        WsClient bob = connect(node(2), "/ws/bob/");
        bob.send("{\"join\":\"lobby\"}");
        assertThat(json(bob.awaitText()).get("members").toString()).isEqualTo("[\"alice\",\"bob\"]");
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(n -> n.directed.roomMembers("lobby").equals(Set.of("alice", "bob"))));
        WsClient carol = connect(node(3), "/ws/carol/"); // the Jakarta node
        WsClient carol2 = connect(node(1), "/ws/carol/"); // a second tab, on another node
        carol.send("{\"join\":\"lobby\"}");
        assertThat(json(carol.awaitText()).get("joined").getAsString()).isEqualTo("lobby");
        carol2.send("{\"join\":\"lobby\"}");
        assertThat(json(carol2.awaitText()).get("members").toString()).isEqualTo("[\"alice\",\"bob\",\"carol\"]");
        Set<String> three = Set.of("alice", "bob", "carol");
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(n -> n.directed.roomMembers("lobby").equals(three)));
        awaitHeard(alice, Set.of("bob", "carol"));
        awaitHeard(bob, Set.of("carol"));

        // carol's tabs count once: one closes and she stays; the other leaves, and she is gone
        carol2.close();
        carol.send("{\"to_room\":\"lobby\",\"message\":\"still here\"}");
        assertThat(json(alice.awaitTextSkipping(ThreeNodesTest::roomPresence))
                        .get("from")
                        .getAsString())
                .isEqualTo("carol");
        assertThat(nodes.stream().allMatch(n -> n.directed.roomMembers("lobby").equals(three)))
                .isTrue();
        assertThat(json(carol.awaitTextSkipping(ThreeNodesTest::roomPresence))
                        .get("message")
                        .getAsString())
                .isEqualTo("still here"); // her own, as every member's
        carol.send("{\"leave\":\"lobby\"}");
        assertThat(json(carol.awaitTextSkipping(ThreeNodesTest::roomPresence))
                        .get("left")
                        .getAsString())
                .isEqualTo("lobby");
        JsonObject leave = json("{\"presence\":\"leave\",\"room\":\"lobby\",\"user\":\"carol\"}");
        assertThat(json(alice.awaitText())).isEqualTo(leave);
        assertThat(json(bob.awaitTextSkipping(ThreeNodesTest::roomPresence))
                        .get("from")
                        .getAsString())
                .isEqualTo("carol");
        assertThat(json(bob.awaitText())).isEqualTo(leave);
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(n -> n.directed.roomMembers("lobby").equals(Set.of("alice", "bob"))));

        // they leave (one by message, one by closing): the room is empty everywhere
        alice.send("{\"leave\":\"lobby\"}");
        assertThat(json(alice.awaitText()).get("left").getAsString()).isEqualTo("lobby");
        assertThat(json(bob.awaitText()))
                .isEqualTo(json("{\"presence\":\"leave\",\"room\":\"lobby\",\"user\":\"alice\"}"));
        bob.close();
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(n -> n.directed.roomMembers("lobby").isEmpty()));
    }

    @Test
    void aNodeThatStartsAfterARoomHasMembersAnswersItsFirstJoinWithAllOfThem() {
        WsClient alice = connect(node(1), "/ws/alice/");
        WsClient bob = connect(node(2), "/ws/bob/");
        alice.send("{\"join\":\"late\"}");
        json(alice.awaitTextSkipping(text -> !json(text).has("joined")));
        bob.send("{\"join\":\"late\"}");
        json(bob.awaitTextSkipping(text -> !json(text).has("joined")));
        await().atMost(WAIT).until(() -> node(1).directed.roomMembers("late").size() == 2);

        // a fourth node, started now, never heard alice and bob join
        Node four = Node.start("node4", redis.uri());
        nodes.add(four);
        WsClient dave = connect(four, "/ws/dave/");
        dave.send("{\"join\":\"late\"}");
        JsonObject joined = json(dave.awaitTextSkipping(text -> !json(text).has("joined")));
        assertThat(joined.getAsJsonArray("members").toString()).isEqualTo("[\"alice\",\"bob\",\"dave\"]");
        assertThat(four.directed.roomMembers("late")).containsExactly("alice", "bob", "dave");
    }

    @Test
    void roomBroadcastReachesOnlyItsRoomOnEveryNode() {
        WsClient blue1 = connect(node(1), "/rooms/blue/");
        WsClient blue3 = connect(node(3), "/rooms/blue/");
        WsClient red2 = connect(node(2), "/rooms/red/");
        WsClient red3 = connect(node(3), "/rooms/red/");
        await().atMost(WAIT)
                .until(() -> node(1).subscribed(Node.ROOMS, Topic.room("blue"))
                        && node(3).subscribed(Node.ROOMS, Topic.room("blue"))
                        && node(2).subscribed(Node.ROOMS, Topic.room("red"))
                        && node(3).subscribed(Node.ROOMS, Topic.room("red"))
                        && node(3).rooms.connectionCount() == 2);
        assertThat(node(1).subscribed(Node.ROOMS, Topic.room("red"))).isFalse();
        assertThat(node(2).subscribed(Node.ROOMS, Topic.room("blue"))).isFalse();

        blue1.send("blue news");
        red2.send("red news");

        assertThat(blue1.awaitText()).isEqualTo("blue news");
        assertThat(blue3.awaitText()).isEqualTo("blue news");
        assertThat(red2.awaitText()).isEqualTo("red news");
        assertThat(red3.awaitText()).isEqualTo("red news");
        // the other room's message never comes: the next one in each room is that room's own
        blue3.send("blue again");
        red3.send("red again");
        assertThat(blue1.awaitText()).isEqualTo("blue again");
        assertThat(red2.awaitText()).isEqualTo("red again");
        assertThat(blue3.awaitText()).isEqualTo("blue again");
        assertThat(red3.awaitText()).isEqualTo("red again");
    }

    @Test
    void directedMessagesFindTheUserOnAnyNodeAndUnknownStaysExact() {
        WsClient alice = connect(node(1), "/ws/alice/");
        WsClient bob3 = connect(node(3), "/ws/bob/");
        await().atMost(WAIT)
                .until(() -> node(3).subscribed(Node.DIRECTED, Topic.user("bob"))
                        && node(1).subscribed(Node.DIRECTED, Topic.user("alice")));

        alice.send("{\"to_user\":\"bob\",\"message\":\"hi bob\"}");
        JsonObject got = json(bob3.awaitText());
        assertThat(got.get("message").getAsString()).isEqualTo("hi bob");
        assertThat(got.get("from").getAsString()).isEqualTo("alice");

        // bob opens a second tab on node 2: both tabs get the next message, once each
        WsClient bob2 = connect(node(2), "/ws/bob/");
        await().atMost(WAIT).until(() -> node(2).subscribed(Node.DIRECTED, Topic.user("bob")));
        alice.send("{\"to_user\":\"bob\",\"message\":\"two tabs\"}");
        assertThat(json(bob3.awaitText()).get("message").getAsString()).isEqualTo("two tabs");
        assertThat(json(bob2.awaitText()).get("message").getAsString()).isEqualTo("two tabs");

        // bob answers from node 2; everyone ("*") reaches all three connections
        bob2.send("{\"to_user\":\"alice\",\"message\":\"hi alice\"}");
        JsonObject answer = json(alice.awaitText());
        assertThat(answer.get("message").getAsString()).isEqualTo("hi alice");
        assertThat(answer.get("from").getAsString()).isEqualTo("bob");
        await().atMost(WAIT).until(() -> nodes.stream().allMatch(n -> n.subscribed(Node.DIRECTED, Topic.route())));
        alice.send("{\"to_user\":\"*\",\"message\":\"all\"}");
        for (WsClient client : List.of(alice, bob2, bob3)) {
            assertThat(json(client.awaitText()).get("message").getAsString()).isEqualTo("all");
        }

        // a user connected nowhere is unknown
        alice.send("{\"to_user\":\"carol\",\"message\":\"anyone?\"}");
        JsonObject error = json(alice.awaitText());
        assertThat(error.get("error").getAsString()).isEqualTo("unknown_recipient");
        assertThat(error.get("to_user").getAsString()).isEqualTo("carol");

        // after bob closes everywhere, he is unknown again
        bob2.close();
        bob3.close();
        await().atMost(WAIT)
                .until(() -> !node(2).subscribed(Node.DIRECTED, Topic.user("bob"))
                        && !node(3).subscribed(Node.DIRECTED, Topic.user("bob")));
        alice.send("{\"to_user\":\"bob\",\"message\":\"still there?\"}");
        JsonObject gone = json(alice.awaitText());
        assertThat(gone.get("error").getAsString()).isEqualTo("unknown_recipient");
        assertThat(gone.get("to_user").getAsString()).isEqualTo("bob");
        assertThat(alice.pending()).isZero();
    }

    @Test
    void anEnvelopeANodeCannotReadIsCountedAndIgnored() {
        WsClient bob = connect(node(2), "/ws/bob/");
        WsClient alice = connect(node(1), "/ws/alice/");
        await().atMost(WAIT).until(() -> node(2).subscribed(Node.DIRECTED, Topic.user("bob")));
        String channel = node(2).relay.channel(Node.DIRECTED, Topic.user("bob"));

        try (RedisClient client = RedisClient.create(redis.uri().toString());
                StatefulRedisConnection<String, String> raw = client.connect()) {
            assertThat(raw.sync().publish(channel, "{\"v\":99,\"from\":\"the future\"}"))
                    .isEqualTo(1);
            assertThat(raw.sync().publish(channel, "garbage")).isEqualTo(1);
        }
        await().atMost(WAIT).until(() -> node(2).relay.stats().undecodable() == 2);

        alice.send("{\"to_user\":\"bob\",\"message\":\"still fine\"}");
        assertThat(json(bob.awaitText()).get("message").getAsString()).isEqualTo("still fine");
        assertThat(bob.pending()).isZero();
        assertThat(node(2).relay.stats().received()).isEqualTo(1);
    }

    static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }
}
