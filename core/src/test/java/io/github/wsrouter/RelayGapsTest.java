package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.Relay.Topic;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the strategies do when their relay says messages from other nodes may be lost ({@link
 * Relay.Receiver#onGap}, {@link Relay.History.Receiver#onGap}): the connections that could have
 * been recipients are told, in the route's way, and nobody else.
 */
@Timeout(10)
class RelayGapsTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private final FakeRelay relay = new FakeRelay();

    @Test
    void aBroadcastRoomWhoseTopicHasAGapClosesItsMembersWith4010AndNoOneElse() {
        TestServer server = TestServer.create()
                .relay(relay)
                .route(
                        "/rooms/{room}/",
                        BroadcastRouter.builder().roomParameter("room").build());
        TestClient blue = server.connect("/rooms/blue/");
        TestClient red = server.connect("/rooms/red/");

        relay.gap("/rooms/{room}/", Topic.room("blue"), Relay.Receiver.SUBSCRIPTION_LOST);

        CloseStatus status = blue.awaitClose(WAIT);
        assertThat(status.code()).isEqualTo(CloseStatus.MISSED_MESSAGES.code()).isEqualTo(4010);
        assertThat(status.reason()).isEqualTo("missed messages: subscription_lost");
        assertThat(red.isOpen()).isTrue();
        red.sendText("still here");
        assertThat(red.nextText()).isEqualTo("still here");
    }

    @Test
    void directedJsonTellsTheUsersOfTheTopicInItsWireFormatAndStaysOpen() {
        TestServer server = TestServer.create()
                .relay(relay)
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder().everyone("*").build());
        TestClient bob = server.connect("/ws/bob/");
        TestClient carol = server.connect("/ws/carol/");

        relay.gap("/ws/{username}/", Topic.user("bob"), Relay.Receiver.OVERFLOW);
        assertThat(json(bob.nextText())).isEqualTo(json("{\"gap\":{\"stream\":\"user\",\"reason\":\"overflow\"}}"));
        carol.assertNoMoreMessages();

        relay.gap("/ws/{username}/", Topic.route(), Relay.Receiver.SUBSCRIPTION_LOST);
        JsonObject everyone = json("{\"gap\":{\"stream\":\"everyone\",\"reason\":\"subscription_lost\"}}");
        assertThat(json(bob.nextText())).isEqualTo(everyone);
        assertThat(json(carol.nextText())).isEqualTo(everyone);

        // and the connections go on
        relay.deliver(
                "/ws/{username}/", Topic.user("bob"), "{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"dave\"}");
        assertThat(json(bob.nextText()).get("message").getAsString()).isEqualTo("hi");
    }

    @Test
    void withoutAnEveryoneAddressTheRouteTopicsGapConcernsNobody() {
        TestServer server = TestServer.create().relay(relay).route("/ws/{username}/", DirectedJsonRouter.create());
        TestClient bob = server.connect("/ws/bob/");

        relay.gap("/ws/{username}/", Topic.route(), Relay.Receiver.SUBSCRIPTION_LOST);

        bob.assertNoMoreMessages();
        assertThat(bob.isOpen()).isTrue();
    }

    @Test
    void aRouterOfYourOwnChoosesWhatAMissedMemberHears() {
        ConnectionGroups groups = ConnectionGroups.create()
                .whenMissed((connection, topic, reason) -> connection.sendText("missed " + topic.key() + " " + reason));
        MessageRouter router = new MessageRouter() {
            @Override
            public void onMount(RouteContext route) {
                groups.mount(route);
            }

            @Override
            public void onOpen(Connection connection) {
                groups.add("lobby", connection);
            }

            @Override
            public void onText(Connection connection, String text) {
                groups.broadcastTo("lobby", text);
            }
        };
        TestServer server = TestServer.create().relay(relay).route("/lobby/", router);
        TestClient one = server.connect("/lobby/");

        relay.gap("/lobby/", Topic.room("lobby"), Relay.Receiver.OVERFLOW);

        assertThat(one.nextText()).isEqualTo("missed lobby overflow");
        assertThat(one.isOpen()).isTrue();
    }

    @Test
    void aStreamGapIsToldWithItsPositionAndTheNewEpochsEntriesFollow() {
        TestServer server = TestServer.create()
                .relay(relay)
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder()
                                .everyone("*")
                                .history(1000, Duration.ofMinutes(5))
                                .build());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        json(alice.nextText()); // streams
        json(bob.nextText());
        for (int i = 1; i <= 3; i++) {
            alice.sendText("{\"to_user\":\"*\",\"message\":" + i + "}");
            assertThat(json(bob.nextText()).get("offset").getAsLong()).isEqualTo(i);
            json(alice.nextText());
        }

        // the store lost the stream: a new epoch, counted from 0 again
        JsonObject position = json("{\"epoch\":\"000000000002\",\"offset\":0}");
        relay.historyGap("/ws/{username}/", "everyone", "epoch_changed", new Relay.History.Position("000000000002", 0));
        JsonObject notice = json(bob.nextText()).getAsJsonObject("gap");
        assertThat(notice.get("stream").getAsString()).isEqualTo("everyone");
        assertThat(notice.get("reason").getAsString()).isEqualTo("epoch_changed");
        assertThat(notice.getAsJsonObject("position")).isEqualTo(position);
        assertThat(json(alice.nextText()).getAsJsonObject("gap").getAsJsonObject("position"))
                .isEqualTo(position);

        // the new epoch's first entry is not taken for one bob had: it reaches him
        relay.historyReceiverEntry(
                "/ws/{username}/", "everyone", 1, "{\"to_user\":\"*\",\"message\":\"new\",\"from\":\"carol\"}");
        JsonObject next = json(bob.nextText());
        assertThat(next.get("message").getAsString()).isEqualTo("new");
        assertThat(next.get("offset").getAsLong()).isEqualTo(1);
    }

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }
}
