package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Client message ids, acknowledgements and repeated ids on {@link DirectedJsonRouter}. */
@Timeout(10)
class MessageIdsTest {

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    private static TestServer server(DirectedJsonRouter router) {
        return TestServer.create().route("/ws/{username}/", router);
    }

    @Test
    void everyErrorCarriesTheIdOfTheMessageThatCausedIt() {
        TestServer server = server(DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText("{\"id\":\"m1\",\"to_user\":\"nobody\",\"message\":\"hi\"}");
        alice.sendText("{\"id\":\"m2\",\"message\":\"hi\"}");
        alice.sendText("{\"id\":3,\"to_user\":\"bob\"}");
        alice.sendText("{\"id\":\"m4\",\"ack\":\"yes\",\"to_user\":\"bob\",\"message\":\"hi\"}");

        JsonObject unknown = json(alice.nextText());
        assertThat(unknown.keySet()).containsExactly("error", "id", "to_user", "detail");
        assertThat(unknown.get("error").getAsString()).isEqualTo("unknown_recipient");
        assertThat(unknown.get("id").getAsString()).isEqualTo("m1");
        JsonObject missingTo = json(alice.nextText());
        assertThat(missingTo.get("error").getAsString()).isEqualTo("missing_field");
        assertThat(missingTo.get("id").getAsString()).isEqualTo("m2");
        JsonObject missingMessage = json(alice.nextText());
        assertThat(missingMessage.get("field").getAsString()).isEqualTo("message");
        assertThat(missingMessage.get("id").getAsInt()).isEqualTo(3);
        JsonObject badAck = json(alice.nextText());
        assertThat(badAck.get("error").getAsString()).isEqualTo("invalid_field");
        assertThat(badAck.get("id").getAsString()).isEqualTo("m4");
        alice.assertNoMoreMessages();
    }

    @Test
    void aMessageWithoutIdIsAnsweredAsBefore() {
        TestServer server = server(DirectedJsonRouter.builder().acks(true).build());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        alice.sendText("{\"to_user\":\"nobody\",\"message\":\"hi\"}");

        assertThat(bob.nextText()).isEqualTo("{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\"}");
        assertThat(json(alice.nextText()).keySet()).containsExactly("error", "to_user", "detail");
        alice.assertNoMoreMessages();
    }

    @Test
    void anAckSaysWhereTheMessageWentAndTheRecipientSeesTheIdButNotTheRequest() {
        TestServer server = server(DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob1 = server.connect("/ws/bob/");
        TestClient bob2 = server.connect("/ws/bob/");

        alice.sendText("{\"id\":\"m1\",\"ack\":true,\"to_user\":\"bob\",\"message\":\"hi\"}");

        assertThat(json(alice.nextText()).toString()).isEqualTo("{\"ack\":\"m1\",\"delivered\":2,\"nodes\":0}");
        for (TestClient bob : List.of(bob1, bob2)) {
            assertThat(bob.nextText())
                    .isEqualTo("{\"id\":\"m1\",\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\"}");
        }
        alice.sendText("{\"id\":\"m2\",\"to_user\":\"bob\",\"message\":\"no ack asked\"}");
        assertThat(json(bob1.nextText()).get("message").getAsString()).isEqualTo("no ack asked");
        alice.assertNoMoreMessages();
    }

    @Test
    void withAcksOnTheRouteEveryMessageWithAnIdIsAcknowledged() {
        TestServer server = server(DirectedJsonRouter.builder().acks(true).build());
        TestClient alice = server.connect("/ws/alice/");
        server.connect("/ws/bob/");

        alice.sendText("{\"id\":7,\"to_user\":\"bob\",\"message\":\"hi\"}");

        JsonObject ack = json(alice.nextText());
        assertThat(ack.get("ack").getAsInt()).isEqualTo(7);
        assertThat(ack.get("delivered").getAsInt()).isEqualTo(1);
    }

    @Test
    void anAckWithoutAnIdIsRefused() {
        TestServer server = server(DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"ack\":true,\"to_user\":\"bob\",\"message\":\"hi\"}");

        JsonObject error = json(alice.nextText());
        assertThat(error.get("error").getAsString()).isEqualTo("missing_field");
        assertThat(error.get("field").getAsString()).isEqualTo("id");
        bob.assertNoMoreMessages();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "\"\"",
                "1.5",
                "true",
                "null",
                "{}",
                "[1]",
                "9007199254740992",
                "\"0123456789012345678901234567890123456789012345678901234567890123X\""
            })
    void anIdThatIsNotAShortStringOrAnIntegerIsRefused(String id) {
        TestServer server = server(DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"id\":" + id + ",\"to_user\":\"bob\",\"message\":\"hi\"}");

        JsonObject error = json(alice.nextText());
        assertThat(error.get("error").getAsString()).isEqualTo("invalid_id");
        assertThat(error.has("id")).isFalse();
        bob.assertNoMoreMessages();
    }

    @Test
    void aClientThatResendsItsLastTenIdsAfterAReconnectCausesNoDuplicatesAndGetsTenAcks() {
        TestServer server = server(DirectedJsonRouter.builder().acks(true).build());
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = server.connect("/ws/alice/");
        for (int i = 1; i <= 20; i++) {
            alice.sendText("{\"id\":\"m" + i + "\",\"to_user\":\"bob\",\"message\":" + i + "}");
        }
        for (int i = 1; i <= 20; i++) {
            assertThat(json(alice.nextText()).get("ack").getAsString()).isEqualTo("m" + i);
        }
        alice.disconnect();

        TestClient again = server.connect("/ws/alice/");
        for (int i = 11; i <= 20; i++) {
            again.sendText("{\"id\":\"m" + i + "\",\"to_user\":\"bob\",\"message\":" + i + "}");
        }

        for (int i = 11; i <= 20; i++) {
            JsonObject ack = json(again.nextText());
            assertThat(ack.get("ack").getAsString()).isEqualTo("m" + i);
            assertThat(ack.get("duplicate").getAsBoolean()).isTrue();
        }
        List<Integer> received = new ArrayList<>();
        while (bob.hasText()) {
            received.add(json(bob.nextText()).get("message").getAsInt());
        }
        assertThat(received).hasSize(20).isSorted().doesNotHaveDuplicates();
        again.assertNoMoreMessages();
    }

    @Test
    void theSameIdFromAnotherUserIsAnotherMessage() {
        TestServer server = server(DirectedJsonRouter.builder().acks(true).build());
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = server.connect("/ws/alice/");
        TestClient carol = server.connect("/ws/carol/");

        alice.sendText("{\"id\":\"1\",\"to_user\":\"bob\",\"message\":\"from alice\"}");
        carol.sendText("{\"id\":\"1\",\"to_user\":\"bob\",\"message\":\"from carol\"}");

        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("alice");
        assertThat(json(bob.nextText()).get("from").getAsString()).isEqualTo("carol");
    }

    @Test
    void anIdWhoseMessageReachedNobodyMayTryAgain() {
        TestServer server = server(DirectedJsonRouter.builder().acks(true).build());
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText("{\"id\":\"m1\",\"to_user\":\"bob\",\"message\":\"hi\"}");
        assertThat(json(alice.nextText()).get("error").getAsString()).isEqualTo("unknown_recipient");

        TestClient bob = server.connect("/ws/bob/");
        alice.sendText("{\"id\":\"m1\",\"to_user\":\"bob\",\"message\":\"hi\"}");

        assertThat(json(alice.nextText()).has("duplicate")).isFalse();
        assertThat(json(bob.nextText()).get("message").getAsString()).isEqualTo("hi");
    }

    @Test
    void withoutAcksARepeatedIdIsDeliveredAgainAsBefore() {
        TestServer server = server(DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"id\":1,\"to_user\":\"bob\",\"message\":\"a\"}");
        alice.sendText("{\"id\":1,\"to_user\":\"bob\",\"message\":\"b\"}");

        assertThat(json(bob.nextText()).get("message").getAsString()).isEqualTo("a");
        assertThat(json(bob.nextText()).get("message").getAsString()).isEqualTo("b");
    }

    @Test
    void theWindowIsBoundedByACountPerUser() {
        TestServer server = server(DirectedJsonRouter.builder()
                .acks(true)
                .dedupe(2, Duration.ofMinutes(1))
                .build());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");
        for (String id : List.of("a", "b", "c", "a")) {
            alice.sendText("{\"id\":\"" + id + "\",\"to_user\":\"bob\",\"message\":\"" + id + "\"}");
        }

        // "a" was the oldest of three ids with room for two: forgotten, so delivered again
        for (String id : List.of("a", "b", "c", "a")) {
            assertThat(json(bob.nextText()).get("message").getAsString()).isEqualTo(id);
        }
    }

    @Test
    void recentIdsForgetByTimeAndSweepUsersWhoseIdsExpired() {
        RecentIds ids = new RecentIds(10, Duration.ofNanos(1));
        assertThat(ids.firstTime("alice", "1")).isTrue();
        long start = System.nanoTime();
        while (System.nanoTime() - start < 1_000) {
            Thread.onSpinWait(); // past a window of 1 ns
        }
        assertThat(ids.firstTime("alice", "1")).isTrue();
        for (int i = 0; i < 2048; i++) {
            ids.firstTime("user" + i, "x");
        }
        assertThat(ids.size()).isLessThan(2048);
    }

    @Test
    void dedupeSettingsAreChecked() {
        assertThatThrownBy(() -> DirectedJsonRouter.builder().dedupe(-1, Duration.ofMinutes(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DirectedJsonRouter.builder().dedupe(10, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
