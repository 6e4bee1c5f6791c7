package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The core samples of the docs, as written there: {@code docs/routers.md} (routers of your own,
 * groups, the broadcast variants) and {@code docs/testing.md} (the test kit). If this fails, the
 * docs are wrong. The README's own sample needs the server: {@code server}'s {@code DocsExamplesTest}.
 * {@code examples}' {@code DocsExamplesTest} checks that every sample has its copy here or there.
 */
@Timeout(10)
class ReadmeExampleTest {

    /** docs/routers.md, "Writing your own MessageRouter". */
    public final class ShoutRouter implements MessageRouter {
        @Override
        public void onText(Connection connection, String text) {
            connection.sendText(text.toUpperCase(Locale.ROOT));
        }
    }

    /** docs/routers.md, "Groups: broadcasting from a router of your own". */
    public final class RoomChatRouter implements MessageRouter {
        private final ConnectionGroups rooms = ConnectionGroups.create();

        @Override
        public void onMount(RouteContext route) {
            rooms.mount(route); // across servers when a relay is configured
        }

        @Override
        public void onOpen(Connection connection) {
            rooms.add(connection.pathParameter("room"), connection);
        }

        @Override
        public void onText(Connection connection, String text) {
            String room = connection.pathParameter("room");
            if (text.equals("/who")) {
                connection.sendText(rooms.size(room) + " here");
            } else {
                rooms.broadcastTo(room, text, connection); // everyone in the room but the sender
            }
        }
    }

    @Test
    void roomChatRouterKeepsRoomsApartAndForgetsWhoLeft() {
        TestServer server = TestServer.create().route("/rooms/{room}/", new RoomChatRouter());
        TestClient alice = server.connect("/rooms/blue/");
        TestClient bob = server.connect("/rooms/blue/");
        TestClient carol = server.connect("/rooms/red/");

        alice.sendText("hi blue");
        assertThat(bob.nextText()).isEqualTo("hi blue");
        alice.assertNoMoreMessages();
        carol.assertNoMoreMessages();

        bob.close();
        alice.sendText("/who");
        assertThat(alice.nextText()).isEqualTo("1 here");
        assertThatThrownBy(() -> TestServer.create().route("/rooms/{name}/",
                BroadcastRouter.builder().roomParameter("room").build()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** docs/routers.md, the three broadcast variants: each builds, and does what its comment says. */
    @Test
    void broadcastVariantsBuild() {
        BroadcastRouter.create();                                   // everyone on the route
        BroadcastRouter.builder().excludeSender(true).build();      // everyone else
        BroadcastRouter.builder().roomParameter("room").build();    // only the same /rooms/{room}/

        TestServer server = TestServer.create()
                .route("/ws/", BroadcastRouter.builder().excludeSender(true).build())
                .route("/rooms/{room}/", BroadcastRouter.builder().roomParameter("room").build());
        TestClient alice = server.connect("/ws/");
        TestClient bob = server.connect("/ws/");
        alice.sendText("hi");
        assertThat(bob.nextText()).isEqualTo("hi");
        alice.assertNoMoreMessages();
        TestClient blue = server.connect("/rooms/blue/");
        TestClient red = server.connect("/rooms/red/");
        blue.sendText("blue only");
        assertThat(blue.nextText()).isEqualTo("blue only");
        red.assertNoMoreMessages();
    }

    /**
     * docs/testing.md, "Testing your router": the script (its locals then kept in fields), the
     * handshake and stop samples; the run and the verify sample in {@link AfterTheRun}.
     */
    @Nested
    class TestingYourRouter {

        TestServer server;
        TestClient alice;
        TestClient bob;

        @BeforeEach
        void script() {
            TestServer server = TestServer.create()
                    .handshakeHook(request -> request.cookie("session") != null ? HandshakeDecision.accept()
                            : HandshakeDecision.reject(401, "log in first"))
                    .route("/ws/{username}/", DirectedJsonRouter.builder().presence(true).build(),
                            WsOptions.builder().maxMessageSize(1024).build());
            TestClient alice = server.request("/ws/alice/").header("Cookie", "session=a1").connect();
            TestClient bob = server.request("/ws/bob/")
                    .header("Cookie", "theme=dark")
                    .header("Cookie", "session=b2")
                    .connect();
            this.server = server;
            this.alice = alice;
            this.bob = bob;
        }

        @Test
        void aHandshakeWithoutASessionIsRefused() {
            assertThat(server.handshake("/ws/carol/", Map.of()).status()).isEqualTo(401);
        }

        @Test
        void stopClosesWithGoingAway() {
            server.stop();
            alice.assertClosed(1001);
        }

        /** The run, before each test; the verify sample as the test. */
        @Nested
        class AfterTheRun {

            @BeforeEach
            void run() {
                alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
                alice.sendText("{\"to_user\":\"carol\",\"message\":\"hi\"}");
                bob.sendText("x".repeat(2000)); // over the route's 1024 bytes
            }

            @Test
            void aliceTalksToBob() {
                // ... the script and run above ...
                skipPresence(bob);
                assertThat(bob.nextText()).isEqualTo("{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\"}");
                bob.assertClosed(1009); // message too big: closed as the server closes it
                skipPresence(alice);
                assertThat(alice.nextText()).contains("\"error\":\"unknown_recipient\"");
                assertThat(alice.nextText()).isEqualTo("{\"presence\":\"leave\",\"user\":\"bob\"}");
                alice.assertNoMoreMessages();
            }

            /** Takes the presence news at the head of what a client was sent. */
            static void skipPresence(TestClient client) {
                while (client.hasText() && client.peekText().startsWith("{\"presence\"")) {
                    client.nextText();
                }
            }
        }
    }

    /** docs/testing.md, threads: a route with an executor, awaited. */
    @Test
    void aSecondTabReplacesTheFirst() {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            TestServer server = TestServer.create()
                    .route("/ws/{username}/", DirectedJsonRouter.builder()
                                    .presence(true)
                                    .sameUser(DirectedJsonRouter.SameUser.REPLACE_OLDER)
                                    .build(),
                            WsOptions.builder().executor(pool).build());
            TestClient firstTab = server.connect("/ws/alice/");
            assertThat(firstTab.awaitText(Duration.ofSeconds(5))).startsWith("{\"presence\":\"online\"");
            TestClient secondTab = server.connect("/ws/alice/");

            assertThat(firstTab.awaitClose(Duration.ofSeconds(5))).isEqualTo(DirectedJsonRouter.REPLACED);
            assertThat(secondTab.isOpen()).isTrue();
        } finally {
            pool.shutdownNow();
        }
    }

    /** docs/testing.md, recovery: a client that drops and resumes from its position. */
    @Test
    void aClientThatDropsResumesWithoutANetwork() {
        TestServer server = TestServer.create()
                .route("/ws/{username}/", DirectedJsonRouter.builder().history(1000, Duration.ofMinutes(5)).build());
        TestClient bob = server.connect("/ws/bob/");
        TestClient alice = server.connect("/ws/alice/");
        String streams = bob.nextText(); // {"streams":{"user":{"epoch":"5f0c1a2b3c4d","offset":0}}}
        String epoch = streams.replaceAll(".*\"epoch\":\"([0-9a-f]+)\".*", "$1");
        bob.disconnect(); // the network drops
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"while you were away\"}");

        TestClient again = server.connect("/ws/bob/?resume=user:" + epoch + ":0");
        again.nextText(); // where the streams stand now
        assertThat(again.nextText()).isEqualTo(
                "{\"to_user\":\"bob\",\"message\":\"while you were away\",\"from\":\"alice\",\"offset\":1}");
        assertThat(again.nextText()).isEqualTo("{\"recovered\":true,\"stream\":\"user\"}");
    }

    @Test
    void shoutRouterShouts() {
        TestClient client = TestServer.create().route("/shout/", new ShoutRouter()).connect("/shout/");
        client.sendText("hello");
        assertThat(client.nextText()).isEqualTo("HELLO");
    }

    /** docs/routers.md, the unknown_recipient error as its JSON sample shows it. */
    @Test
    void unknownRecipientErrorReadsAsDocumented() {
        TestClient alice = TestServer.create().route("/ws/{username}/", DirectedJsonRouter.create())
                .connect("/ws/alice/");
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        assertThat(alice.nextText())
                .isEqualTo("{\"error\":\"unknown_recipient\",\"to_user\":\"bob\",\"detail\":\"no user 'bob' is connected\"}");
    }
}
