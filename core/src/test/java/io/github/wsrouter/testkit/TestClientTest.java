package io.github.wsrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.MessageRouter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class TestClientTest {

    /** Keeps the connection it saw at open. */
    private static final class Capture implements MessageRouter {
        final AtomicReference<Connection> opened = new AtomicReference<>();

        @Override
        public void onOpen(Connection connection) {
            opened.set(connection);
        }
    }

    private final TestServer server = TestServer.create()
            .route("/echo/", EchoRouter.create())
            .route("/ws/{username}/", DirectedJsonRouter.create());

    // ---- reading ----

    @Test
    void nextTextOnNothingSaysNoneWasSent() {
        TestClient client = server.connect("/echo/");

        assertThatThrownBy(client::nextText)
                .isInstanceOf(AssertionError.class)
                .hasMessage("expected a text message but none was sent");
    }

    @Test
    void nextTextOnBinarySaysWhatCame() {
        TestClient client = server.connect("/echo/");
        client.sendBinary(new byte[] {1, 2, 3});

        assertThatThrownBy(client::nextText)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("expected a text message")
                .hasMessageContaining("binary (3 bytes)");
    }

    @Test
    void nextBinaryOnTextSaysWhatCame() {
        TestClient client = server.connect("/echo/");
        client.sendText("hello");

        assertThatThrownBy(client::nextBinary)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("expected a binary message")
                .hasMessageContaining("text \"hello\"");
    }

    @Test
    void nextTextAfterCloseSaysTheConnectionWasClosed() {
        TestClient client = server.connect("/echo/");
        client.connection().close(CloseStatus.of(4000, "bye"));

        assertThatThrownBy(client::nextText)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("none was sent")
                .hasMessageContaining("closed with 4000 bye");
    }

    @Test
    void longTextIsAbbreviatedInMessages() {
        TestClient client = server.connect("/echo/");
        client.sendText("x".repeat(1000));

        assertThatThrownBy(client::assertNoMoreMessages)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("x".repeat(200) + "...")
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(400));
    }

    @Test
    void assertNoMoreMessagesFailsWhenSomethingIsLeft() {
        TestClient client = server.connect("/echo/");
        client.sendText("one").sendText("two");

        assertThatThrownBy(client::assertNoMoreMessages)
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("2 remain")
                .hasMessageContaining("text \"one\"");
        assertThat(client.nextText()).isEqualTo("one");
        assertThat(client.nextText()).isEqualTo("two");
        client.assertNoMoreMessages();
    }

    @Test
    void textsTakesEverythingInOrderAndFailsOnBinary() {
        TestClient client = server.connect("/echo/");
        client.sendText("a").sendText("b");

        assertThat(client.texts()).containsExactly("a", "b");
        assertThat(client.texts()).isEmpty();

        client.sendBinary(new byte[] {7});
        assertThatThrownBy(client::texts).isInstanceOf(AssertionError.class).hasMessageContaining("binary");
    }

    @Test
    void utf8DecodesBinaryWithoutConsumingIt() {
        TestClient client = server.connect("/echo/");
        client.sendBinary("caf\u00e9".getBytes(StandardCharsets.UTF_8));

        var data = client.nextBinary();

        assertThat(TestClient.utf8(data)).isEqualTo("caf\u00e9");
        assertThat(data.remaining()).isEqualTo(5);
        assertThat(data.isReadOnly()).isTrue();
    }

    @Test
    void awaitTextWaitsForARouterThatSendsFromItsOwnThread() throws Exception {
        ExecutorService elsewhere = Executors.newSingleThreadExecutor();
        try {
            TestServer async = TestServer.create().route("/later/", new MessageRouter() {
                @Override
                public void onText(Connection connection, String text) {
                    elsewhere.execute(() -> connection.sendText("later: " + text));
                }
            });
            TestClient client = async.connect("/later/");

            client.sendText("hi");

            assertThat(client.awaitText(Duration.ofSeconds(5))).isEqualTo("later: hi");
        } finally {
            elsewhere.shutdownNow();
        }
    }

    @Test
    void awaitTextGivesUpAfterTheTimeout() {
        TestClient client = server.connect("/echo/");

        assertThatThrownBy(() -> client.awaitText(Duration.ofMillis(50)))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("none was sent");
    }

    // ---- connecting ----

    @Test
    void connectingToAnUnmatchedPathFailsNamingTheRoutes() {
        assertThatThrownBy(() -> server.connect("/nowhere/"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("no route matches /nowhere/")
                .hasMessageContaining("/echo/")
                .hasMessageContaining("/ws/{username}/");
    }

    @Test
    void connectingWithAMalformedEscapeFails() {
        assertThatThrownBy(() -> server.connect("/ws/%zz/"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("no route matches");
    }

    @Test
    void collidingRouteIsRefused() {
        assertThatThrownBy(() -> server.route("/ws/{user}", EchoRouter.create()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/ws/{username}/")
                .hasMessageContaining("/ws/{user}");
    }

    @Test
    void malformedTemplateIsRefused() {
        assertThatThrownBy(() -> server.route("ws/", EchoRouter.create()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pathQueryAndHeadersReachTheConnection() {
        Capture capture = new Capture();
        TestServer captureServer = TestServer.create().route("/rooms/{room}/", capture);

        TestClient client = captureServer.connect("/rooms/caf%C3%A9/?token=t%20x&tag=a&tag=b&flag",
                Map.of("X-Token", "secret", "Origin", "https://example.com"));

        Connection connection = capture.opened.get();
        assertThat(connection).isSameAs(client.connection());
        assertThat(connection.path()).isEqualTo("/rooms/caf%C3%A9/");
        assertThat(connection.pathParameters()).containsExactly(Map.entry("room", "caf\u00e9"));
        assertThat(connection.pathParameter("room")).isEqualTo("caf\u00e9");
        assertThat(connection.pathParameter("missing")).isNull();
        assertThat(connection.queryParameters())
                .containsEntry("token", List.of("t x"))
                .containsEntry("tag", List.of("a", "b"))
                .containsEntry("flag", List.of(""));
        assertThat(connection.header("X-Token")).isEqualTo("secret");
        assertThat(connection.header("x-token")).isEqualTo("secret");
        assertThat(connection.header("ORIGIN")).isEqualTo("https://example.com");
        assertThat(connection.headers().get("x-TOKEN")).containsExactly("secret");
        assertThat(connection.header("absent")).isNull();
    }

    @Test
    void handshakeMapsAreImmutable() {
        Capture capture = new Capture();
        TestServer captureServer = TestServer.create().route("/ws/{username}/", capture);
        captureServer.connect("/ws/alice/?a=1", Map.of("H", "v"));
        Connection connection = capture.opened.get();

        assertThatThrownBy(() -> connection.pathParameters().put("username", "mallory"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> connection.queryParameters().get("a").add("2"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> connection.headers().put("H", List.of()))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void connectWithoutQueryHasNoQueryParameters() {
        Capture capture = new Capture();
        TestServer.create().route("/ws/", capture).connect("/ws/");

        assertThat(capture.opened.get().queryParameters()).isEmpty();
        assertThat(capture.opened.get().headers()).isEmpty();
    }

    // ---- closing ----

    @Test
    void sendingAfterCloseFailsWithTheCloseStatus() {
        TestClient client = server.connect("/echo/");
        client.close(CloseStatus.of(4002, "done"));

        assertThatThrownBy(() -> client.sendText("x"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("cannot send text")
                .hasMessageContaining("4002 done");
        assertThatThrownBy(() -> client.sendBinary(new byte[1]))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("cannot send binary");
    }

    @Test
    void assertClosedSaysWhatHappened() {
        TestClient client = server.connect("/echo/");

        assertThatThrownBy(() -> client.assertClosed(1000))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("expected the connection to be closed with 1000")
                .hasMessageContaining("is open");

        client.close(CloseStatus.GOING_AWAY);
        assertThatThrownBy(() -> client.assertClosed(1000))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("was closed with 1001");
        assertThat(client.assertClosed(1001)).isEqualTo(CloseStatus.GOING_AWAY);
    }

    @Test
    void firstCloseWins() {
        TestClient client = server.connect("/echo/");

        client.disconnect();
        client.close(CloseStatus.NORMAL);
        client.connection().close(CloseStatus.of(4000));

        assertThat(client.closeStatus()).isEqualTo(CloseStatus.ABNORMAL_CLOSURE);
        assertThat(client.isOpen()).isFalse();
    }

    @Test
    void stopClosesOnlyWhatIsOpenWithGoingAway() {
        TestServer broadcastServer = TestServer.create().route("/chat/", BroadcastRouter.create());
        TestClient open = broadcastServer.connect("/chat/");
        TestClient closed = broadcastServer.connect("/chat/");
        closed.close();

        broadcastServer.stop();

        open.assertClosed(1001);
        closed.assertClosed(1000);
    }
}
