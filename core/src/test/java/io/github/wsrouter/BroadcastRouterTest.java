package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class BroadcastRouterTest {

    /** Passes everything to a router and records what reaches {@code onError}. */
    private static final class ErrorSpy implements MessageRouter {
        final MessageRouter delegate;
        final List<Throwable> errors = new CopyOnWriteArrayList<>();

        ErrorSpy(MessageRouter delegate) {
            this.delegate = delegate;
        }

        @Override
        public void onOpen(Connection connection) {
            delegate.onOpen(connection);
        }

        @Override
        public void onText(Connection connection, String text) {
            delegate.onText(connection, text);
        }

        @Override
        public void onBinary(Connection connection, ByteBuffer data) {
            delegate.onBinary(connection, data);
        }

        @Override
        public void onClose(Connection connection, CloseStatus status) {
            delegate.onClose(connection, status);
        }

        @Override
        public void onError(Connection connection, Throwable error) {
            errors.add(error);
            delegate.onError(connection, error);
        }
    }

    @Test
    void messageReachesEveryClientIncludingTheSender() {
        BroadcastRouter router = BroadcastRouter.create();
        TestServer server = TestServer.create().route("/chat/", router);
        TestClient alice = server.connect("/chat/");
        TestClient bob = server.connect("/chat/");
        TestClient carol = server.connect("/chat/");

        alice.sendText("hello");

        assertThat(alice.nextText()).isEqualTo("hello");
        assertThat(bob.nextText()).isEqualTo("hello");
        assertThat(carol.nextText()).isEqualTo("hello");
        alice.assertNoMoreMessages();
        bob.assertNoMoreMessages();
        carol.assertNoMoreMessages();
        assertThat(router.connectionCount()).isEqualTo(3);
    }

    @Test
    void excludeSenderLeavesTheSenderOut() {
        TestServer server = TestServer.create()
                .route("/chat/", BroadcastRouter.builder().excludeSender(true).build());
        TestClient alice = server.connect("/chat/");
        TestClient bob = server.connect("/chat/");
        TestClient carol = server.connect("/chat/");

        alice.sendText("hello");
        bob.sendText("hi alice");

        assertThat(alice.texts()).containsExactly("hi alice");
        assertThat(bob.texts()).containsExactly("hello");
        assertThat(carol.texts()).containsExactly("hello", "hi alice");
    }

    @Test
    void roomParameterScopesTheBroadcastToOneRoom() {
        BroadcastRouter router = BroadcastRouter.builder().roomParameter("room").build();
        TestServer server = TestServer.create().route("/rooms/{room}/", router);
        TestClient blue1 = server.connect("/rooms/blue/");
        TestClient blue2 = server.connect("/rooms/blue");
        TestClient red = server.connect("/rooms/red/");

        blue1.sendText("to blue");
        red.sendText("to red");

        assertThat(blue1.texts()).containsExactly("to blue");
        assertThat(blue2.texts()).containsExactly("to blue");
        assertThat(red.texts()).containsExactly("to red");
        assertThat(router.rooms()).containsExactlyInAnyOrder("blue", "red");
    }

    @Test
    void aRoomTypoIsRefusedAtMountInsteadOfMergingEveryRoom() {
        BroadcastRouter router = BroadcastRouter.builder().roomParameter("room").build();

        assertThatThrownBy(() -> TestServer.create().route("/rooms/{name}/", router))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("BroadcastRouter")
                .hasMessageContaining("roomParameter(\"room\")")
                .hasMessageContaining("/rooms/{name}/")
                .hasMessageContaining("every connection would hear every room")
                .hasMessageContaining("call roomParameter(\"name\")");
        assertThatThrownBy(() -> TestServer.create().route("/lobby/", router))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/lobby/");
    }

    @Test
    void roomsOnTwoRoutesWithTheParameterStayApart() {
        BroadcastRouter router = BroadcastRouter.builder().roomParameter("room").build();
        TestServer server = TestServer.create().route("/rooms/{room}/", router).route("/private/{room}/", router);
        TestClient x = server.connect("/rooms/x/");
        TestClient y = server.connect("/rooms/y/");

        x.sendText("for x only");

        assertThat(x.texts()).containsExactly("for x only");
        y.assertNoMoreMessages();
    }

    @Test
    void blankRoomParameterIsRefused() {
        assertThatThrownBy(() -> BroadcastRouter.builder().roomParameter(" "))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> BroadcastRouter.builder().roomParameter(null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void binaryIsBroadcastAsBinaryWithTheSameBytesToEveryone() {
        TestServer server = TestServer.create().route("/chat/", BroadcastRouter.create());
        TestClient alice = server.connect("/chat/");
        TestClient bob = server.connect("/chat/");
        TestClient carol = server.connect("/chat/");

        alice.sendBinary(new byte[] {1, 2, 3});

        for (TestClient client : List.of(alice, bob, carol)) {
            ByteBuffer data = client.nextBinary();
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            assertThat(bytes).containsExactly(1, 2, 3);
            client.assertNoMoreMessages();
        }
    }

    @Test
    void closedAndDroppedClientsAreNoLongerSentToAndNothingFails() {
        BroadcastRouter broadcast = BroadcastRouter.create();
        ErrorSpy router = new ErrorSpy(broadcast);
        TestServer server = TestServer.create().route("/chat/", router);
        TestClient alice = server.connect("/chat/");
        TestClient bob = server.connect("/chat/");
        TestClient carol = server.connect("/chat/");
        assertThat(broadcast.connectionCount()).isEqualTo(3);

        bob.close();
        assertThat(broadcast.connectionCount()).isEqualTo(2);
        carol.disconnect();
        assertThat(broadcast.connectionCount()).isEqualTo(1);

        alice.sendText("anyone?");

        assertThat(alice.texts()).containsExactly("anyone?");
        bob.assertNoMoreMessages();
        carol.assertNoMoreMessages();
        assertThat(alice.isOpen()).isTrue();
        assertThat(router.errors).isEmpty();

        alice.close();
        assertThat(broadcast.connectionCount()).isZero();
        assertThat(broadcast.rooms()).isEmpty();
        assertThat(router.errors).isEmpty();
    }

    @Test
    void roomsForgetsRoomsThatEmptied() {
        BroadcastRouter router = BroadcastRouter.builder().roomParameter("room").build();
        TestServer server = TestServer.create().route("/rooms/{room}/", router);
        TestClient blue = server.connect("/rooms/blue/");
        TestClient red1 = server.connect("/rooms/red/");
        TestClient red2 = server.connect("/rooms/red/");
        assertThat(router.rooms()).containsExactlyInAnyOrder("blue", "red");

        blue.close();
        assertThat(router.rooms()).containsExactly("red");

        red1.disconnect();
        assertThat(router.rooms()).containsExactly("red");
        red2.close();
        assertThat(router.rooms()).isEmpty();
        assertThat(router.connectionCount()).isZero();
    }

    @Test
    void roomsIsASnapshot() {
        BroadcastRouter router = BroadcastRouter.builder().roomParameter("room").build();
        TestServer server = TestServer.create().route("/rooms/{room}/", router);
        TestClient blue = server.connect("/rooms/blue/");

        var rooms = router.rooms();
        blue.close();

        assertThat(rooms).containsExactly("blue");
        assertThat(router.rooms()).isEmpty();
    }

    @Test
    void serverStopClosesEveryoneWithGoingAwayAndEmptiesTheAudience() {
        BroadcastRouter router = BroadcastRouter.create();
        TestServer server = TestServer.create().route("/chat/", router);
        TestClient alice = server.connect("/chat/");
        TestClient bob = server.connect("/chat/");

        server.stop();

        alice.assertClosed(1001);
        bob.assertClosed(1001);
        assertThat(router.connectionCount()).isZero();
    }
}
