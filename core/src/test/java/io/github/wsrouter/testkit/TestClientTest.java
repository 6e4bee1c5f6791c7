package io.github.wsrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.ConnectionClosedException;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.MessageRouter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(5, TimeUnit.SECONDS)) {
                throw new AssertionError("not released within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
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
        assertThat(client.nextBinary().get(0)).isEqualTo((byte) 7);
    }

    @Test
    void hasMessagesHasTextAndPeekTextLookWithoutTaking() {
        TestClient client = server.connect("/echo/");
        assertThat(client.hasMessages()).isFalse();
        assertThat(client.hasText()).isFalse();

        client.sendText("a").sendBinary(new byte[] {1});

        assertThat(client.hasMessages()).isTrue();
        assertThat(client.hasText()).isTrue();
        assertThat(client.peekText()).isEqualTo("a");
        assertThat(client.peekText()).isEqualTo("a");
        assertThat(client.nextText()).isEqualTo("a");
        assertThat(client.hasMessages()).isTrue();
        assertThat(client.hasText()).isFalse();
        assertThatThrownBy(client::peekText)
                .isInstanceOf(AssertionError.class)
                .hasMessage("expected a text message but got binary (1 bytes)");
        assertThat(client.nextBinary().remaining()).isEqualTo(1);
        assertThat(client.hasMessages()).isFalse();
    }

    @Test
    void peekTextOnNothingSaysNoneWasSent() {
        TestClient client = server.connect("/echo/");

        assertThatThrownBy(client::peekText)
                .isInstanceOf(AssertionError.class)
                .hasMessage("expected a text message but none was sent");
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
    void awaitTextGivesUpAfterTheTimeoutSayingHowLongItWaited() {
        TestClient client = server.connect("/echo/");

        assertThatThrownBy(() -> client.awaitText(Duration.ofMillis(50)))
                .isInstanceOf(AssertionError.class)
                .hasMessage("expected a text message within 50 ms but none was sent");
    }

    @Test
    void awaitBinaryGivesUpAfterTheTimeoutSayingHowLongItWaited() {
        TestClient client = server.connect("/echo/");
        client.connection().close(CloseStatus.of(4000, "bye"));

        assertThatThrownBy(() -> client.awaitBinary(Duration.ofMillis(20)))
                .isInstanceOf(AssertionError.class)
                .hasMessage("expected a binary message within 20 ms but none was sent and the connection was"
                        + " closed with 4000 bye");
    }

    @Test
    void awaitTextSaysWhatCameInstead() {
        TestClient client = server.connect("/echo/");
        client.sendBinary(new byte[2]);

        assertThatThrownBy(() -> client.awaitText(Duration.ofSeconds(2)))
                .isInstanceOf(AssertionError.class)
                .hasMessage("expected a text message within 2 s but got binary (2 bytes)");
    }

    @Test
    void waitsAreDescribedInTheUnitsTheyWereGivenIn() {
        assertThat(TestClient.describe(Duration.ofSeconds(2))).isEqualTo("2 s");
        assertThat(TestClient.describe(Duration.ofMillis(1500))).isEqualTo("1500 ms");
        assertThat(TestClient.describe(Duration.ZERO)).isEqualTo("0 ms");
        assertThat(TestClient.describe(Duration.ofNanos(1500))).isEqualTo("PT0.0000015S");
    }

    // ---- awaiting a close ----

    @Test
    void awaitCloseWaitsForACloseMadeOnAnotherThread() {
        ExecutorService elsewhere = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch release = new CountDownLatch(1);
            TestServer async = TestServer.create().route("/later/", new MessageRouter() {
                @Override
                public void onText(Connection connection, String text) {
                    elsewhere.execute(() -> {
                        await(release);
                        connection.close(CloseStatus.of(4003, text));
                    });
                }
            });
            TestClient client = async.connect("/later/");
            client.sendText("done");
            assertThat(client.isOpen()).isTrue();

            release.countDown();

            assertThat(client.awaitClose(Duration.ofSeconds(5))).isEqualTo(CloseStatus.of(4003, "done"));
            assertThat(client.closeStatus()).isEqualTo(CloseStatus.of(4003, "done"));
        } finally {
            elsewhere.shutdownNow();
        }
    }

    @Test
    void awaitCloseReturnsAtOnceWhenAlreadyClosed() {
        TestClient client = server.connect("/echo/");
        client.close(CloseStatus.GOING_AWAY);

        assertThat(client.awaitClose(Duration.ZERO)).isEqualTo(CloseStatus.GOING_AWAY);
    }

    @Test
    void awaitCloseOnAnOpenConnectionSaysHowLongItWaited() {
        TestClient client = server.connect("/echo/");

        assertThatThrownBy(() -> client.awaitClose(Duration.ofMillis(30)))
                .isInstanceOf(AssertionError.class)
                .hasMessage("expected the connection /echo/ to be closed within 30 ms but it is still open");
    }

    // ---- a peer that stops reading ----

    @Test
    void aPausedClientReadsWhatWaitedInOrderOnResume() {
        TestClient client = server.connect("/echo/");

        client.pauseReading().sendText("one").sendBinary(new byte[] {2}).sendText("three");

        assertThat(client.hasMessages()).isFalse();
        assertThat(client.connection().queuedBytes()).isEqualTo(3 + 1 + 5);
        client.resumeReading();
        assertThat(client.nextText()).isEqualTo("one");
        assertThat(client.nextBinary().get(0)).isEqualTo((byte) 2);
        assertThat(client.nextText()).isEqualTo("three");
        assertThat(client.connection().queuedBytes()).isZero();
        client.sendText("four");
        assertThat(client.nextText()).isEqualTo("four");
    }

    @Test
    void aPausedClientSeesTheServersCloseOnlyOnResume() {
        TestClient client = server.connect("/echo/");
        client.pauseReading().sendText("last");

        client.connection().close(CloseStatus.of(4004, "bye"));

        assertThat(client.isOpen()).isTrue();
        client.resumeReading();
        assertThat(client.nextText()).isEqualTo("last");
        client.assertClosed(4004);
    }

    @Test
    void closingWhilePausedFailsWhatWasNotRead() {
        TestClient client = server.connect("/echo/");
        client.pauseReading();
        CompletableFuture<Void> inFlight =
                client.connection().sendText("in flight").toCompletableFuture();
        CompletableFuture<Void> queued = client.connection().sendText("queued").toCompletableFuture();

        client.close();

        assertThat(inFlight).isCompletedExceptionally();
        assertThat(queued).isCompletedExceptionally();
        assertThatThrownBy(inFlight::join).hasCauseInstanceOf(ConnectionClosedException.class);
        client.resumeReading();
        client.assertNoMoreMessages();
        client.assertClosed(1000);
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
        assertThatThrownBy(() -> server.route("ws/", EchoRouter.create())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void pathQueryAndHeadersReachTheConnection() {
        Capture capture = new Capture();
        TestServer captureServer = TestServer.create().route("/rooms/{room}/", capture);

        TestClient client = captureServer.connect(
                "/rooms/caf%C3%A9/?token=t%20x&tag=a&tag=b&flag",
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
