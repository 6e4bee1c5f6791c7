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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Offsets, epochs and resuming from history on {@link DirectedJsonRouter}, without a network. */
@Timeout(20)
class HistoryTest {

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    private static DirectedJsonRouter router() {
        return DirectedJsonRouter.builder()
                .everyone("*")
                .history(1000, Duration.ofMinutes(5))
                .build();
    }

    /** What a reading client tracks: the numbers it got, and its last position per stream. */
    private static final class Reader {
        final List<Integer> numbers = new ArrayList<>();
        final List<JsonObject> recovered = new ArrayList<>();
        String epoch;
        long offset;

        /** Reads everything the client has now; returns the last message. */
        void drain(TestClient client, String stream) {
            while (client.hasText()) {
                take(json(client.nextText()), stream);
            }
        }

        /** Reads until the client has {@code total} numbers. */
        void readUntil(TestClient client, String stream, int total) {
            while (numbers.size() < total) {
                take(json(client.awaitText(Duration.ofSeconds(10))), stream);
            }
        }

        private void take(JsonObject message, String stream) {
            if (message.has("streams")) {
                JsonObject position = message.getAsJsonObject("streams").getAsJsonObject(stream);
                epoch = position.get("epoch").getAsString();
                if (offset == 0) {
                    offset = position.get("offset").getAsLong();
                }
            } else if (message.has("recovered")) {
                recovered.add(message);
            } else if (message.has("message")) {
                numbers.add(message.get("message").getAsInt());
                long next = message.get("offset").getAsLong();
                assertThat(next).as("offsets increase by one").isEqualTo(offset + 1);
                offset = next;
            }
        }

        String resume(String stream) {
            return "?resume=" + stream + ":" + epoch + ":" + offset;
        }
    }

    private static List<Integer> oneTo(int n) {
        List<Integer> all = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            all.add(i);
        }
        return all;
    }

    @RepeatedTest(5)
    void bobAbortedAfter300Of1000ResumesFromHisOffsetAndHasAllOnceInOrder() throws Exception {
        TestServer server = TestServer.create().route("/ws/{username}/", router());
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = server.connect("/ws/alice/");
        json(alice.nextText()); // alice's own streams
        Reader reader = new Reader();
        CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
            for (int i = 1; i <= 1000; i++) {
                alice.sendText("{\"to_user\":\"bob\",\"message\":" + i + "}");
            }
        });

        reader.readUntil(bob, "user", 300);
        bob.disconnect(); // no close frame: what was sent to it and not read is lost with it
        List<Integer> kept = new ArrayList<>(reader.numbers.subList(0, 300));
        reader.numbers.clear();
        reader.numbers.addAll(kept);
        reader.offset = 300;

        TestClient again = server.connect("/ws/bob/" + reader.resume("user"));
        sending.get(10, TimeUnit.SECONDS);
        reader.readUntil(again, "user", 1000);
        reader.drain(again, "user");

        assertThat(reader.numbers).isEqualTo(oneTo(1000));
        assertThat(reader.recovered).hasSize(1);
        assertThat(reader.recovered.get(0).get("recovered").getAsBoolean()).isTrue();
        again.assertNoMoreMessages();
        alice.assertNoMoreMessages(); // nothing was refused: bob was away, not unknown
    }

    @Test
    void theEveryoneStreamResumesTheSameWay() throws Exception {
        TestServer server = TestServer.create().route("/ws/{username}/", router());
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = server.connect("/ws/alice/");
        Reader reader = new Reader();
        for (int i = 1; i <= 300; i++) {
            alice.sendText("{\"to_user\":\"*\",\"message\":" + i + "}");
        }
        reader.readUntil(bob, "everyone", 300);
        bob.disconnect();
        for (int i = 301; i <= 1000; i++) {
            alice.sendText("{\"to_user\":\"*\",\"message\":" + i + "}");
        }

        TestClient again = server.connect("/ws/bob/" + reader.resume("everyone"));
        reader.readUntil(again, "everyone", 1000);
        reader.drain(again, "everyone");

        assertThat(reader.numbers).isEqualTo(oneTo(1000));
        assertThat(reader.recovered.get(0).get("recovered").getAsBoolean()).isTrue();
        assertThat(reader.recovered.get(0).get("stream").getAsString()).isEqualTo("everyone");
    }

    @Test
    void aRestartChangesTheEpochAndTheClientIsToldItCannotRecover() {
        TestServer server = TestServer.create().route("/ws/{username}/", router());
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = server.connect("/ws/alice/");
        alice.sendText("{\"to_user\":\"bob\",\"message\":1}");
        Reader reader = new Reader();
        reader.readUntil(bob, "user", 1);
        server.stop();

        TestServer restarted = TestServer.create().route("/ws/{username}/", router());
        TestClient again = restarted.connect("/ws/bob/" + reader.resume("user"));

        JsonObject streams = json(again.nextText());
        assertThat(streams.getAsJsonObject("streams")
                        .getAsJsonObject("user")
                        .get("epoch")
                        .getAsString())
                .isNotEqualTo(reader.epoch);
        JsonObject recovered = json(again.nextText());
        assertThat(recovered.get("recovered").getAsBoolean()).isFalse();
        assertThat(recovered.get("reason").getAsString()).isEqualTo("epoch_changed");
        assertThat(recovered.getAsJsonObject("position").get("offset").getAsLong())
                .isZero();
    }

    @Test
    void historyThatNoLongerReachesBackIsSaidSo() {
        DirectedJsonRouter router =
                DirectedJsonRouter.builder().history(10, Duration.ofMinutes(5)).build();
        TestServer server = TestServer.create().route("/ws/{username}/", router);
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = server.connect("/ws/alice/");
        Reader reader = new Reader();
        reader.drain(bob, "user");
        bob.disconnect();
        for (int i = 1; i <= 25; i++) {
            alice.sendText("{\"to_user\":\"bob\",\"message\":" + i + "}");
        }

        TestClient again = server.connect("/ws/bob/" + reader.resume("user"));

        json(again.nextText()); // streams
        JsonObject recovered = json(again.nextText());
        assertThat(recovered.get("recovered").getAsBoolean()).isFalse();
        assertThat(recovered.get("reason").getAsString()).isEqualTo("history_gone");
        assertThat(recovered.getAsJsonObject("position").get("offset").getAsLong())
                .isEqualTo(25);
    }

    @Test
    void everyMessageCarriesItsOffsetAndTheAckSaysItWasKept() {
        TestServer server = TestServer.create().route("/ws/{username}/", router());
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = server.connect("/ws/alice/");
        json(alice.nextText()); // alice's own streams
        assertThat(json(bob.nextText())
                        .getAsJsonObject("streams")
                        .getAsJsonObject("user")
                        .get("offset")
                        .getAsLong())
                .isZero();

        alice.sendText("{\"id\":\"a\",\"ack\":true,\"to_user\":\"bob\",\"message\":\"hi\",\"offset\":99}");
        assertThat(bob.nextText())
                .isEqualTo("{\"id\":\"a\",\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\",\"offset\":1}");
        JsonObject ack = json(alice.nextText());
        assertThat(ack.get("offset").getAsLong()).isEqualTo(1);

        bob.close();
        alice.sendText("{\"id\":\"b\",\"ack\":true,\"to_user\":\"bob\",\"message\":\"while away\"}");
        JsonObject kept = json(alice.nextText());
        assertThat(kept.get("ack").getAsString()).isEqualTo("b");
        assertThat(kept.get("delivered").getAsInt()).isZero();
        assertThat(kept.get("offset").getAsLong()).isEqualTo(2);
    }

    @Test
    void aUserWhoNeverConnectedIsStillUnknown() {
        TestServer server = TestServer.create().route("/ws/{username}/", router());
        TestClient alice = server.connect("/ws/alice/");
        json(alice.nextText()); // streams

        alice.sendText("{\"id\":1,\"to_user\":\"nobody\",\"message\":\"hi\"}");

        assertThat(json(alice.nextText()).get("error").getAsString()).isEqualTo("unknown_recipient");
    }

    @Test
    void aResumeThatMakesNoSenseIsAnsweredAndTheConnectionStays() {
        TestServer server = TestServer.create().route("/ws/{username}/", router());
        TestClient bob = server.connect("/ws/bob/?resume=user:x:notanumber,elsewhere:x:1");

        json(bob.nextText()); // streams
        JsonObject first = json(bob.nextText());
        JsonObject second = json(bob.nextText());
        assertThat(first.get("reason").getAsString()).isEqualTo("invalid_resume");
        assertThat(second.get("stream").getAsString()).isEqualTo("elsewhere");
        assertThat(bob.isOpen()).isTrue();
    }

    @Test
    void inMemoryHistoryRefusesARelayToOtherServers() {
        DirectedJsonRouter router = router();
        Relay elsewhere = (route, receiver) -> Relay.local().open(route, receiver);
        assertThatThrownBy(() -> TestServer.create().relay(elsewhere).route("/ws/{username}/", router))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("history");
    }
}
