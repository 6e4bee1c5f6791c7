package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.DirectedJsonRouter.RoomPolicy;
import io.github.wsrouter.Relay.Topic;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link DirectedJsonRouter}'s chat rooms: joining by message or by path, verified senders, the policy, and errors. */
@Timeout(10)
class RoomsTest {

    private static final String ROUTE = "/ws/{username}/";

    private static TestServer server(DirectedJsonRouter router) {
        return TestServer.create().route(ROUTE, router);
    }

    private static TestClient join(TestServer server, String user, String room) {
        TestClient client = server.connect("/ws/" + user + "/");
        client.sendText("{\"join\":\"" + room + "\"}");
        assertThat(json(next(client)).get("joined").getAsString()).isEqualTo(room);
        return client;
    }

    /** The next text that is not a room presence notice (they come in windows, from the timer). */
    private static String next(TestClient client) {
        for (; ; ) {
            String text = client.nextText();
            if (!json(text).has("presence")) {
                return text;
            }
        }
    }

    /** Nothing but room presence notices came. */
    private static void quiet(TestClient client) {
        while (client.hasMessages() && json(client.peekText()).has("presence")) {
            client.nextText();
        }
        client.assertNoMoreMessages();
    }

    @Test
    void aRoomMessageReachesEveryMemberOnceWithTheServerStampedSenderAndNobodyElse() {
        TestServer server =
                server(DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build());
        TestClient alice = join(server, "alice", "lobby");
        TestClient bob = join(server, "bob", "lobby");
        TestClient carol = join(server, "carol", "kitchen");

        alice.sendText("{\"to_room\":\"lobby\",\"message\":{\"text\":\"hi\"}}");

        JsonObject expected = json("{\"room\":\"lobby\",\"from\":\"alice\",\"message\":{\"text\":\"hi\"}}");
        assertThat(json(next(alice))).isEqualTo(expected);
        assertThat(json(next(bob))).isEqualTo(expected);
        quiet(carol);
        quiet(alice);
        quiet(bob);
    }

    @Test
    void aForgedSenderOrRoomOrAnyOtherFieldIsNotPassedOn() {
        TestServer server =
                server(DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build());
        TestClient alice = join(server, "alice", "lobby");
        TestClient bob = join(server, "bob", "lobby");

        alice.sendText(
                "{\"to_room\":\"lobby\",\"message\":\"x\",\"from\":\"mallory\",\"room\":\"other\",\"admin\":true}");

        assertThat(json(next(bob))).isEqualTo(json("{\"room\":\"lobby\",\"from\":\"alice\",\"message\":\"x\"}"));
        json(next(alice));
    }

    @Test
    void postingOrLeavingWithoutBeingInTheRoomIsRefusedWithTheMessagesId() {
        TestServer server =
                server(DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = join(server, "bob", "lobby");

        alice.sendText("{\"id\":7,\"to_room\":\"lobby\",\"message\":\"let me in\"}");
        JsonObject error = json(next(alice));
        assertThat(error.get("error").getAsString()).isEqualTo("not_in_room");
        assertThat(error.get("room").getAsString()).isEqualTo("lobby");
        assertThat(error.get("id").getAsInt()).isEqualTo(7);
        alice.sendText("{\"leave\":\"lobby\"}");
        assertThat(json(next(alice)).get("error").getAsString()).isEqualTo("not_in_room");
        quiet(bob);

        // after leaving, the same
        bob.sendText("{\"leave\":\"lobby\",\"id\":\"l1\"}");
        assertThat(json(next(bob))).isEqualTo(json("{\"left\":\"lobby\",\"id\":\"l1\"}"));
        bob.sendText("{\"to_room\":\"lobby\",\"message\":\"anyone?\"}");
        assertThat(json(next(bob)).get("error").getAsString()).isEqualTo("not_in_room");
    }

    @Test
    void thePolicyDecidesWhoJoinsAndWhoPosts() {
        RoomPolicy policy = (user, room, action) -> switch (room) {
            case "staff" -> user.equals("admin");
            case "news" -> action == RoomPolicy.Action.JOIN || user.equals("admin");
            default -> true;
        };
        TestServer server = server(DirectedJsonRouter.builder().rooms(policy).build());
        TestClient alice = join(server, "alice", "news");
        TestClient admin = join(server, "admin", "news");

        alice.sendText("{\"join\":\"staff\",\"id\":1}");
        JsonObject refused = json(next(alice));
        assertThat(refused.get("error").getAsString()).isEqualTo("forbidden");
        assertThat(refused.get("room").getAsString()).isEqualTo("staff");
        assertThat(refused.get("id").getAsInt()).isEqualTo(1);

        alice.sendText("{\"to_room\":\"news\",\"message\":\"rumour\"}");
        assertThat(json(next(alice)).get("error").getAsString()).isEqualTo("forbidden");
        quiet(admin);

        admin.sendText("{\"to_room\":\"news\",\"message\":\"official\"}");
        assertThat(json(next(alice)).get("from").getAsString()).isEqualTo("admin");
        assertThat(json(next(admin)).get("message").getAsString()).isEqualTo("official");
    }

    @Test
    void badRoomOperationsAreAnsweredAndTheConnectionStaysOpen() {
        TestServer server = server(
                DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).maxRooms(2).build());
        TestClient alice = join(server, "alice", "one");

        alice.sendText("{\"join\":\"no spaces\"}");
        assertThat(json(next(alice)).get("error").getAsString()).isEqualTo("invalid_room");
        alice.sendText("{\"join\":42}");
        JsonObject missing = json(next(alice));
        assertThat(missing.get("error").getAsString()).isEqualTo("missing_field");
        assertThat(missing.get("field").getAsString()).isEqualTo("join");
        alice.sendText("{\"to_room\":\"one\"}");
        assertThat(json(next(alice)).get("field").getAsString()).isEqualTo("message");

        alice.sendText("{\"join\":\"two\"}");
        assertThat(json(next(alice))).isEqualTo(json("{\"joined\":\"two\",\"members\":[\"alice\"]}"));
        alice.sendText("{\"join\":\"two\"}"); // already in: no change, the same answer
        assertThat(json(next(alice))).isEqualTo(json("{\"joined\":\"two\",\"members\":[\"alice\"]}"));
        alice.sendText("{\"join\":\"three\"}");
        assertThat(json(next(alice)).get("error").getAsString()).isEqualTo("too_many_rooms");

        assertThat(alice.isOpen()).isTrue();
        alice.sendText("{\"to_room\":\"two\",\"message\":\"still here\"}");
        assertThat(json(next(alice)).get("message").getAsString()).isEqualTo("still here");
    }

    @Test
    void aRoomPostCanBeAcknowledgedAndIsNotDeliveredTwiceUnderOneId() {
        TestServer server =
                server(DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build());
        TestClient alice = join(server, "alice", "lobby");
        TestClient bob = join(server, "bob", "lobby");

        alice.sendText("{\"id\":\"m1\",\"ack\":true,\"to_room\":\"lobby\",\"message\":\"once\"}");
        assertThat(json(next(bob)).get("id").getAsString()).isEqualTo("m1");
        assertThat(json(next(alice)).get("message").getAsString()).isEqualTo("once");
        assertThat(json(next(alice))).isEqualTo(json("{\"ack\":\"m1\",\"delivered\":2,\"nodes\":0}"));

        alice.sendText("{\"id\":\"m1\",\"ack\":true,\"to_room\":\"lobby\",\"message\":\"once\"}");
        assertThat(json(next(alice)).get("duplicate").getAsBoolean()).isTrue();
        quiet(bob);
    }

    @Test
    void aRoomInThePathIsJoinedAtOpenAndCheckedAtTheHandshake() {
        RoomPolicy policy = (user, room, action) -> !room.equals("staff") || user.equals("admin");
        TestServer server = TestServer.create()
                .route(
                        "/chat/{room}/{username}/",
                        DirectedJsonRouter.builder()
                                .rooms(policy)
                                .roomParameter("room")
                                .build());
        TestClient alice = server.connect("/chat/lobby/alice/");
        TestClient bob = server.connect("/chat/lobby/bob/");

        alice.sendText("{\"to_room\":\"lobby\",\"message\":\"hello\"}");
        assertThat(json(next(bob)).get("from").getAsString()).isEqualTo("alice");

        assertThat(server.handshake("/chat/staff/alice/", Map.of()).status()).isEqualTo(403);
        assertThat(server.handshake("/chat/staff/admin/", Map.of()).isRejected())
                .isFalse();
        assertThat(server.handshake("/chat/" + "r".repeat(65) + "/alice/", Map.of())
                        .status())
                .isEqualTo(400);
    }

    @Test
    void aRoomParameterTheTemplateLacksIsRefusedWhenMounted() {
        DirectedJsonRouter router =
                DirectedJsonRouter.builder().roomParameter("room").build();
        assertThatThrownBy(() -> TestServer.create().route(ROUTE, router))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("{room}");
    }

    @Test
    void withoutRoomsTheSeedsFormatIsUnchanged() {
        TestServer server = server(DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText("{\"join\":\"lobby\"}");

        JsonObject error = json(next(alice));
        assertThat(error.get("error").getAsString()).isEqualTo("missing_field");
        assertThat(error.get("field").getAsString()).isEqualTo("to_user");
    }

    @Test
    void roomsTravelOnAChannelOfTheirOwnSoARoomNeverMeetsTheUserOfTheSameName() {
        FakeRelay relay = new FakeRelay();
        TestServer server = TestServer.create()
                .relay(relay)
                .route(
                        ROUTE,
                        DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build());
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = join(server, "alice", "bob");
        assertThat(relay.subscriptions(ROUTE + "#rooms", Topic.room("bob"))).isEqualTo(1);

        alice.sendText("{\"to_room\":\"bob\",\"message\":\"to the room\"}");
        json(next(alice));
        assertThat(relay.published).singleElement().satisfies(p -> {
            assertThat(p.route()).isEqualTo(ROUTE + "#rooms");
            assertThat(p.topic()).isEqualTo(Topic.room("bob"));
        });
        quiet(bob); // the user bob is not in the room bob

        // what another node posts to the room reaches its members here; a gap is told to them
        relay.deliver(ROUTE + "#rooms", Topic.room("bob"), "{\"room\":\"bob\",\"from\":\"dave\",\"message\":\"hey\"}");
        assertThat(json(next(alice)).get("from").getAsString()).isEqualTo("dave");
        relay.gap(ROUTE + "#rooms", Topic.room("bob"), Relay.Receiver.SUBSCRIPTION_LOST);
        assertThat(json(next(alice))).isEqualTo(json("{\"gap\":{\"room\":\"bob\",\"reason\":\"subscription_lost\"}}"));
        quiet(bob);

        alice.close();
        assertThat(relay.subscriptions(ROUTE + "#rooms", Topic.room("bob"))).isZero();
    }

    private static final java.time.Duration WAIT = java.time.Duration.ofSeconds(5);

    @Test
    void theJoinAnswerListsTheMembersAndTheRoomHearsJoinsAndLeavesOfUsersNotTabs() {
        DirectedJsonRouter router =
                DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build();
        TestServer server = server(router);
        TestClient alice = server.connect("/ws/alice/");
        alice.sendText("{\"join\":\"lobby\",\"id\":1}");
        assertThat(json(alice.nextText())).isEqualTo(json("{\"joined\":\"lobby\",\"members\":[\"alice\"],\"id\":1}"));
        TestClient bob = server.connect("/ws/bob/");
        bob.sendText("{\"join\":\"lobby\"}");
        assertThat(json(bob.nextText())).isEqualTo(json("{\"joined\":\"lobby\",\"members\":[\"alice\",\"bob\"]}"));
        assertThat(json(alice.awaitText(WAIT)))
                .isEqualTo(json("{\"presence\":\"join\",\"room\":\"lobby\",\"user\":\"bob\"}"));

        // another room is not told to the lobby; a second tab of bob's, and its leaving, change nothing
        TestClient carol = join(server, "carol", "kitchen");
        TestClient bob2 = server.connect("/ws/bob/");
        bob2.sendText("{\"join\":\"lobby\"}");
        assertThat(json(bob2.nextText()).get("members").toString()).isEqualTo("[\"alice\",\"bob\"]");
        bob.sendText("{\"leave\":\"lobby\"}");
        assertThat(json(bob.nextText())).isEqualTo(json("{\"left\":\"lobby\"}"));
        assertThat(router.roomMembers("lobby")).containsExactly("alice", "bob");
        assertThat(router.roomMembers("kitchen")).containsExactly("carol");
        assertThat(router.roomMembers("nowhere")).isEmpty();

        TestClient dave = join(server, "dave", "lobby");
        assertThat(json(alice.awaitText(WAIT)))
                .isEqualTo(json("{\"presence\":\"join\",\"room\":\"lobby\",\"user\":\"dave\"}"));
        assertThat(json(bob2.awaitText(WAIT)).get("user").getAsString()).isEqualTo("dave");

        // bob's last connection in the lobby closes: he leaves it, told to its members only
        bob2.close();
        assertThat(router.roomMembers("lobby")).containsExactly("alice", "dave");
        JsonObject leave = json("{\"presence\":\"leave\",\"room\":\"lobby\",\"user\":\"bob\"}");
        assertThat(json(alice.awaitText(WAIT))).isEqualTo(leave);
        assertThat(json(dave.awaitText(WAIT))).isEqualTo(leave);
        alice.assertNoMoreMessages();
        bob.assertNoMoreMessages(); // in no room now; never told of its own join
        carol.assertNoMoreMessages();
    }

    @Test
    void severalChangesInOneWindowComeAsOneObjectOrAsSingleNotices() {
        DirectedJsonRouter router =
                DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build();
        TestServer server = server(router);
        TestClient alice = join(server, "alice", "lobby");
        TestClient bob = join(server, "bob", "lobby");
        TestClient carol = join(server, "carol", "lobby");
        bob.close();
        java.util.Set<String> members = new java.util.TreeSet<>(java.util.List.of("alice"));
        while (!members.equals(java.util.Set.of("alice", "carol"))) {
            JsonObject notice = json(alice.awaitText(WAIT));
            assertThat(notice.get("room").getAsString()).isEqualTo("lobby");
            switch (notice.get("presence").getAsString()) {
                case "join" -> members.add(notice.get("user").getAsString());
                case "leave" -> members.remove(notice.get("user").getAsString());
                case "changes" -> {
                    notice.getAsJsonArray("joined").forEach(u -> members.add(u.getAsString()));
                    notice.getAsJsonArray("left").forEach(u -> members.remove(u.getAsString()));
                }
                default -> throw new AssertionError("unexpected " + notice);
            }
        }
        assertThat(router.roomMembers("lobby")).containsExactly("alice", "carol");
        carol.close();
        alice.close();
        assertThat(router.roomMembers("lobby")).isEmpty();
    }

    @Test
    void aCountsOnlyRoomShowsHowManyNotWho() {
        DirectedJsonRouter router = DirectedJsonRouter.builder()
                .rooms(RoomPolicy.OPEN)
                .countsOnly(room -> room.equals("hall"))
                .build();
        TestServer server = server(router);
        TestClient alice = server.connect("/ws/alice/");
        alice.sendText("{\"join\":\"hall\"}");
        assertThat(json(alice.nextText())).isEqualTo(json("{\"joined\":\"hall\",\"count\":1}"));
        TestClient bob = server.connect("/ws/bob/");
        bob.sendText("{\"join\":\"hall\"}");
        assertThat(json(bob.nextText())).isEqualTo(json("{\"joined\":\"hall\",\"count\":2}"));
        JsonObject two = json("{\"presence\":\"count\",\"room\":\"hall\",\"count\":2}");
        assertThat(json(alice.awaitText(WAIT))).isEqualTo(two);
        assertThat(json(bob.awaitText(WAIT))).isEqualTo(two);
        assertThat(router.roomMembers("hall")).containsExactly("alice", "bob"); // the server knows who

        bob.close();
        assertThat(json(alice.awaitText(WAIT)))
                .isEqualTo(json("{\"presence\":\"count\",\"room\":\"hall\",\"count\":1}"));
        // other rooms still show names
        alice.sendText("{\"join\":\"lobby\"}");
        assertThat(json(alice.nextText()).get("members").toString()).isEqualTo("[\"alice\"]");
    }

    @Test
    void aRoomInThePathCountsAsMembershipUntilTheConnectionCloses() {
        DirectedJsonRouter router = DirectedJsonRouter.builder()
                .presence(true)
                .roomParameter("room")
                .build();
        TestServer server = TestServer.create().route("/chat/{room}/{username}/", router);
        TestClient alice = server.connect("/chat/lobby/alice/");
        TestClient bob = server.connect("/chat/lobby/bob/");
        assertThat(router.roomMembers("lobby")).containsExactly("alice", "bob");
        // the users' presence is as before; the room's comes beside it
        java.util.List<String> kinds = new java.util.ArrayList<>();
        while (!kinds.contains("lobby:join")) {
            JsonObject notice = json(alice.awaitText(WAIT));
            kinds.add((notice.has("room") ? "lobby:" : "")
                    + notice.get("presence").getAsString());
        }
        bob.close();
        assertThat(router.roomMembers("lobby")).containsExactly("alice");
        while (!kinds.contains("lobby:leave")) {
            JsonObject notice = json(alice.awaitText(WAIT));
            kinds.add((notice.has("room") ? "lobby:" : "")
                    + notice.get("presence").getAsString());
        }
        assertThat(kinds).containsSubsequence("online", "join", "leave");
        assertThat(kinds).contains("lobby:join");
    }

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }
}
