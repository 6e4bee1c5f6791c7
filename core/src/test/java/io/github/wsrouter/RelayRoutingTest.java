package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonParser;
import io.github.wsrouter.Relay.Topic;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.io.IOException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the strategies hand to a relay and take from it, with a fake relay in the test kit. */
@Timeout(10)
class RelayRoutingTest {

    private final FakeRelay relay = new FakeRelay();

    @Test
    void broadcastDeliversLocallyPublishesOnceAndDeliversWhatOtherNodesSend() {
        TestServer server = TestServer.create().relay(relay).route("/ws/", BroadcastRouter.create());
        TestClient one = server.connect("/ws/");
        TestClient two = server.connect("/ws/");
        assertThat(relay.subscriptions("/ws/", Topic.route())).isEqualTo(2);

        one.sendText("hello");

        assertThat(one.nextText()).isEqualTo("hello");
        assertThat(two.nextText()).isEqualTo("hello");
        assertThat(relay.published).singleElement().satisfies(p -> {
            assertThat(p.route()).isEqualTo("/ws/");
            assertThat(p.topic()).isEqualTo(Topic.route());
            assertThat(p.text()).isEqualTo("hello");
        });

        relay.deliver("/ws/", Topic.route(), "from afar");
        assertThat(one.nextText()).isEqualTo("from afar");
        assertThat(two.nextText()).isEqualTo("from afar");
        assertThat(relay.published).hasSize(1); // what comes from other nodes is not published again

        one.close();
        two.close();
        assertThat(relay.subscriptions("/ws/", Topic.route())).isZero();
    }

    @Test
    void roomsSubscribeWhileHeldAndReceiveOnlyTheirRoom() {
        TestServer server = TestServer.create()
                .relay(relay)
                .route(
                        "/rooms/{room}/",
                        BroadcastRouter.builder().roomParameter("room").build());
        TestClient blue = server.connect("/rooms/blue/");
        TestClient red = server.connect("/rooms/red/");
        assertThat(relay.subscriptions("/rooms/{room}/", Topic.room("blue"))).isEqualTo(1);

        blue.sendText("blue news");
        assertThat(relay.published)
                .singleElement()
                .satisfies(p -> assertThat(p.topic()).isEqualTo(Topic.room("blue")));
        relay.deliver("/rooms/{room}/", Topic.room("red"), "red news");

        assertThat(blue.nextText()).isEqualTo("blue news");
        blue.assertNoMoreMessages();
        assertThat(red.nextText()).isEqualTo("red news");
        red.assertNoMoreMessages();

        blue.close();
        assertThat(relay.subscriptions("/rooms/{room}/", Topic.room("blue"))).isZero();
        assertThat(relay.subscriptions("/rooms/{room}/", Topic.room("red"))).isEqualTo(1);
    }

    @Test
    void aRecipientHeldHereGetsItAtOnceAndTheSenderNeverWaits() {
        TestServer server = TestServer.create().relay(relay).route("/ws/{username}/", DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        assertThat(relay.subscriptions("/ws/{username}/", Topic.user("bob"))).isEqualTo(1);

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");

        String stamped = "{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\"}";
        assertThat(bob.nextText()).isEqualTo(stamped);
        assertThat(relay.published).singleElement().satisfies(p -> {
            assertThat(p.topic()).isEqualTo(Topic.user("bob"));
            assertThat(p.text()).isEqualTo(stamped);
        });
        relay.published.get(0).result().complete(1);
        alice.assertNoMoreMessages();

        bob.close();
        assertThat(relay.subscriptions("/ws/{username}/", Topic.user("bob"))).isZero();
    }

    @Test
    void aRecipientNotHeldHereIsUnknownOnlyWhenNoNodeHasIt() {
        TestServer server = TestServer.create().relay(relay).route("/ws/{username}/", DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"one\"}");
        alice.sendText("{\"to_user\":\"carol\",\"message\":\"two\"}");
        alice.sendText("{\"to_user\":\"dave\",\"message\":\"three\"}");
        alice.assertNoMoreMessages(); // the answers wait for the relay

        relay.published.get(0).result().complete(1); // bob is on another node
        relay.published.get(1).result().complete(0); // carol is nowhere
        relay.published.get(2).result().completeExceptionally(new ConnectException("Redis is down"));

        assertThat(JsonParser.parseString(alice.nextText())
                        .getAsJsonObject()
                        .get("error")
                        .getAsString())
                .isEqualTo("unknown_recipient");
        String unavailable = alice.nextText();
        assertThat(JsonParser.parseString(unavailable)
                        .getAsJsonObject()
                        .get("error")
                        .getAsString())
                .isEqualTo("relay_unavailable");
        assertThat(JsonParser.parseString(unavailable)
                        .getAsJsonObject()
                        .get("to_user")
                        .getAsString())
                .isEqualTo("dave");
        alice.assertNoMoreMessages();
    }

    @Test
    void everyoneGoesToTheRouteTopicAndComesBackToEveryLocalConnection() {
        TestServer server = TestServer.create()
                .relay(relay)
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder().everyone("*").build());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        assertThat(relay.subscriptions("/ws/{username}/", Topic.route())).isEqualTo(2);

        relay.deliver("/ws/{username}/", Topic.route(), "{\"to_user\":\"*\",\"message\":\"all\",\"from\":\"zed\"}");
        relay.deliver("/ws/{username}/", Topic.user("bob"), "{\"to_user\":\"bob\",\"message\":\"b\",\"from\":\"zed\"}");

        assertThat(alice.nextText()).contains("\"all\"");
        alice.assertNoMoreMessages();
        assertThat(bob.nextText()).contains("\"all\"");
        assertThat(bob.nextText()).contains("\"b\"");

        alice.sendText("{\"to_user\":\"*\",\"message\":\"hey\"}");
        assertThat(relay.published)
                .singleElement()
                .satisfies(p -> assertThat(p.topic()).isEqualTo(Topic.route()));
        assertThat(alice.nextText()).contains("\"hey\"");
        assertThat(bob.nextText()).contains("\"hey\"");
    }

    @Test
    void aUriNoProviderSupportsIsRefusedWithAHint() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> Relay.create(java.net.URI.create("redis://127.0.0.1:6379")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("wsrouter-redis");
    }

    @Test
    void onASingleNodeNothingChanges() throws IOException {
        TestServer server = TestServer.create().route("/ws/{username}/", DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        // answered before sendText returned, as before relays existed
        assertThat(alice.texts())
                .singleElement()
                .satisfies(text -> assertThat(text).contains("unknown_recipient"));
    }
}
