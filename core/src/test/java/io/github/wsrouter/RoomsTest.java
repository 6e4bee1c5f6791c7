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
        assertThat(json(client.nextText())).isEqualTo(json("{\"joined\":\"" + room + "\"}"));
        return client;
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
        assertThat(json(alice.nextText())).isEqualTo(expected);
        assertThat(json(bob.nextText())).isEqualTo(expected);
        carol.assertNoMoreMessages();
        alice.assertNoMoreMessages();
        bob.assertNoMoreMessages();
    }

    @Test
    void aForgedSenderOrRoomOrAnyOtherFieldIsNotPassedOn() {
        TestServer server =
                server(DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build());
        TestClient alice = join(server, "alice", "lobby");
        TestClient bob = join(server, "bob", "lobby");

        alice.sendText(
                "{\"to_room\":\"lobby\",\"message\":\"x\",\"from\":\"mallory\",\"room\":\"other\",\"admin\":true}");

        assertThat(json(bob.nextText())).isEqualTo(json("{\"room\":\"lobby\",\"from\":\"alice\",\"message\":\"x\"}"));
        json(alice.nextText());
    }

    @Test
    void postingOrLeavingWithoutBeingInTheRoomIsRefusedWithTheMessagesId() {
        TestServer server =
                server(DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = join(server, "bob", "lobby");

        alice.sendText("{\"id\":7,\"to_room\":\"lobby\",\"message\":\"let me in\"}");
        JsonObject error = json(alice.nextText());
        assertThat(error.get("error").getAsString()).isEqualTo("not_in_room");
        assertThat(error.get("room").getAsString()).isEqualTo("lobby");
        assertThat(error.get("id").getAsInt()).isEqualTo(7);
        alice.sendText("{\"leave\":\"lobby\"}");
        assertThat(json(alice.nextText()).get("error").getAsString()).isEqualTo("not_in_room");
        bob.assertNoMoreMessages();

        // after leaving, the same
        bob.sendText("{\"leave\":\"lobby\",\"id\":\"l1\"}");
        assertThat(json(bob.nextText())).isEqualTo(json("{\"left\":\"lobby\",\"id\":\"l1\"}"));
        bob.sendText("{\"to_room\":\"lobby\",\"message\":\"anyone?\"}");
        assertThat(json(bob.nextText()).get("error").getAsString()).isEqualTo("not_in_room");
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
        JsonObject refused = json(alice.nextText());
        assertThat(refused.get("error").getAsString()).isEqualTo("forbidden");
        assertThat(refused.get("room").getAsString()).isEqualTo("staff");
        assertThat(refused.get("id").getAsInt()).isEqualTo(1);

        alice.sendText("{\"to_room\":\"news\",\"message\":\"rumour\"}");
        assertThat(json(alice.nextText()).get("error").getAsString()).isEqualTo("forbidden");
        admin.assertNoMoreMessages();

        admin.sendText("{\"to_room\":\"news\",\"message\":\"official\"}");
        assertThat(json(alice.nextText()).get("from").getAsString()).isEqualTo("admin");
        assertThat(json(admin.nextText()).get("message").getAsString()).isEqualTo("official");
    }

    @Test
    void badRoomOperationsAreAnsweredAndTheConnectionStaysOpen() {
        TestServer server = server(
                DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).maxRooms(2).build());
        TestClient alice = join(server, "alice", "one");

        alice.sendText("{\"join\":\"no spaces\"}");
        assertThat(json(alice.nextText()).get("error").getAsString()).isEqualTo("invalid_room");
        alice.sendText("{\"join\":42}");
        JsonObject missing = json(alice.nextText());
        assertThat(missing.get("error").getAsString()).isEqualTo("missing_field");
        assertThat(missing.get("field").getAsString()).isEqualTo("join");
        alice.sendText("{\"to_room\":\"one\"}");
        assertThat(json(alice.nextText()).get("field").getAsString()).isEqualTo("message");

        alice.sendText("{\"join\":\"two\"}");
        assertThat(json(alice.nextText())).isEqualTo(json("{\"joined\":\"two\"}"));
        alice.sendText("{\"join\":\"two\"}"); // already in: no change, the same answer
        assertThat(json(alice.nextText())).isEqualTo(json("{\"joined\":\"two\"}"));
        alice.sendText("{\"join\":\"three\"}");
        assertThat(json(alice.nextText()).get("error").getAsString()).isEqualTo("too_many_rooms");

        assertThat(alice.isOpen()).isTrue();
        alice.sendText("{\"to_room\":\"two\",\"message\":\"still here\"}");
        assertThat(json(alice.nextText()).get("message").getAsString()).isEqualTo("still here");
    }

    @Test
    void aRoomPostCanBeAcknowledgedAndIsNotDeliveredTwiceUnderOneId() {
        TestServer server =
                server(DirectedJsonRouter.builder().rooms(RoomPolicy.OPEN).build());
        TestClient alice = join(server, "alice", "lobby");
        TestClient bob = join(server, "bob", "lobby");

        alice.sendText("{\"id\":\"m1\",\"ack\":true,\"to_room\":\"lobby\",\"message\":\"once\"}");
        assertThat(json(bob.nextText()).get("id").getAsString()).isEqualTo("m1");
        assertThat(json(alice.nextText()).get("message").getAsString()).isEqualTo("once");
        assertThat(json(alice.nextText())).isEqualTo(json("{\"ack\":\"m1\",\"delivered\":2,\"nodes\":0}"));

        alice.sendText("{\"id\":\"m1\",\"ack\":true,\"to_room\":\"lobby\",\"message\":\"once\"}");
        assertThat(json(alice.nextText()).get("duplicate").getAsBoolean()).isTrue();
        bob.assertNoMoreMessages();
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
        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("alice");

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

        JsonObject error = json(alice.nextText());
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
        json(alice.nextText());
        assertThat(relay.published).singleElement().satisfies(p -> {
            assertThat(p.route()).isEqualTo(ROUTE + "#rooms");
            assertThat(p.topic()).isEqualTo(Topic.room("bob"));
        });
        bob.assertNoMoreMessages(); // the user bob is not in the room bob

        // what another node posts to the room reaches its members here; a gap is told to them
        relay.deliver(ROUTE + "#rooms", Topic.room("bob"), "{\"room\":\"bob\",\"from\":\"dave\",\"message\":\"hey\"}");
        assertThat(json(alice.nextText()).get("from").getAsString()).isEqualTo("dave");
        relay.gap(ROUTE + "#rooms", Topic.room("bob"), Relay.Receiver.SUBSCRIPTION_LOST);
        assertThat(json(alice.nextText()))
                .isEqualTo(json("{\"gap\":{\"room\":\"bob\",\"reason\":\"subscription_lost\"}}"));
        bob.assertNoMoreMessages();

        alice.close();
        assertThat(relay.subscriptions(ROUTE + "#rooms", Topic.room("bob"))).isZero();
    }

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }
}
