package io.github.wsrouter.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeRequest;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.RateLimit;
import io.github.wsrouter.SendBufferOverflowException;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.WsOptions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class TestServerTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    /** Records each callback as "thread: event", and echoes text. */
    private static final class Recorder implements MessageRouter {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();
        final AtomicReference<Connection> opened = new AtomicReference<>();
        final CompletableFuture<CloseStatus> closed = new CompletableFuture<>();

        private void record(String event) {
            events.add(event);
            threads.add(Thread.currentThread().getName());
        }

        @Override
        public void onOpen(Connection connection) {
            opened.set(connection);
            record("open");
        }

        @Override
        public void onText(Connection connection, String text) {
            record("text " + text);
            connection.sendText(text);
        }

        @Override
        public void onBinary(Connection connection, ByteBuffer data) {
            record("binary " + data.remaining());
        }

        @Override
        public void onError(Connection connection, Throwable error) {
            record("error " + error);
        }

        @Override
        public void onClose(Connection connection, CloseStatus status) {
            record("close " + status);
            closed.complete(status);
        }
    }

    /** An executor that runs nothing until told: to see what waits for it. */
    private static final class ManualExecutor implements java.util.concurrent.Executor {
        final Queue<Runnable> tasks = new ArrayDeque<>();

        @Override
        public synchronized void execute(Runnable task) {
            tasks.add(task);
        }

        void runAll() {
            for (; ; ) {
                Runnable task;
                synchronized (this) {
                    task = tasks.poll();
                }
                if (task == null) {
                    return;
                }
                task.run();
            }
        }
    }

    private final ExecutorService pool = Executors.newFixedThreadPool(2, runnable -> {
        Thread thread = new Thread(runnable, "route-pool");
        thread.setDaemon(true);
        return thread;
    });

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    private static WsOptions.Builder options() {
        return WsOptions.builder();
    }

    // ---- executor ----

    @Test
    void withoutAnExecutorCallbacksRunOnTheCallingThreadBeforeItReturns() {
        Recorder recorder = new Recorder();
        TestClient client = TestServer.create()
                .route("/r/", recorder, WsOptions.builder().build())
                .connect("/r/");

        client.sendText("a");

        assertThat(recorder.events).containsExactly("open", "text a");
        assertThat(recorder.threads).containsOnly(Thread.currentThread().getName());
        assertThat(client.nextText()).isEqualTo("a");
    }

    @Test
    void aRouteWithAnExecutorRunsItsCallbacksThereNotOnTheCaller() {
        Recorder recorder = new Recorder();
        ManualExecutor executor = new ManualExecutor();
        TestServer server = TestServer.create()
                .route("/r/", recorder, options().executor(executor).build());

        TestClient client = server.connect("/r/");
        client.sendText("a").sendText("b");
        client.close();

        assertThat(recorder.events).isEmpty();
        assertThat(client.hasMessages()).isFalse();
        executor.runAll();
        assertThat(recorder.events).containsExactly("open", "text a", "text b", "close 1000");
        assertThat(client.texts()).isEmpty(); // the connection was closed before the router echoed
    }

    @Test
    void aRouteWithAPoolKeepsEachConnectionsOrder() {
        Recorder recorder = new Recorder();
        TestServer server = TestServer.create()
                .route("/r/", recorder, options().executor(pool).build());
        TestClient client = server.connect("/r/");

        for (int i = 0; i < 200; i++) {
            client.sendText(Integer.toString(i));
        }

        for (int i = 0; i < 200; i++) {
            assertThat(client.awaitText(WAIT)).isEqualTo(Integer.toString(i));
        }
        client.close();
        assertThat(recorder.closed).succeedsWithin(WAIT).isEqualTo(CloseStatus.NORMAL);
        assertThat(recorder.events)
                .hasSize(202)
                .startsWith("open", "text 0", "text 1")
                .endsWith("close 1000");
        assertThat(recorder.threads).containsOnly("route-pool");
    }

    @Test
    void aCloseByARouterOnAnExecutorIsAwaited() {
        TestServer server = TestServer.create()
                .route(
                        "/r/",
                        new MessageRouter() {
                            @Override
                            public void onText(Connection connection, String text) {
                                connection.close(CloseStatus.of(4005, text));
                            }
                        },
                        options().executor(pool).build());
        TestClient client = server.connect("/r/");

        client.sendText("enough");

        assertThat(client.awaitClose(WAIT)).isEqualTo(CloseStatus.of(4005, "enough"));
    }

    // ---- maxMessageSize ----

    @Test
    void textOverTheSizeInUtf8BytesClosesWith1009AndIsNotDelivered() {
        Recorder recorder = new Recorder();
        TestServer server = TestServer.create()
                .route("/r/", recorder, options().maxMessageSize(4).build());
        TestClient fits = server.connect("/r/");
        TestClient tooBig = server.connect("/r/");

        fits.sendText("cafe");
        tooBig.sendText("caf\u00e9"); // four chars, five bytes

        assertThat(fits.nextText()).isEqualTo("cafe");
        assertThat(fits.isOpen()).isTrue();
        CloseStatus expected = CloseStatus.MESSAGE_TOO_BIG.withReason("message over 4 bytes");
        assertThat(tooBig.assertClosed(1009)).isEqualTo(expected);
        tooBig.assertNoMoreMessages();
        assertThat(recorder.events).containsExactly("open", "open", "text cafe", "close " + expected);
    }

    @Test
    void surrogatePairsCountAsFourBytes() {
        TestServer server = TestServer.create()
                .route("/r/", EchoRouter.create(), options().maxMessageSize(4).build());
        String emoji = "\uD83D\uDE00";
        assertThat(emoji.getBytes(StandardCharsets.UTF_8)).hasSize(4);

        TestClient fits = server.connect("/r/").sendText(emoji);
        TestClient tooBig = server.connect("/r/").sendText(emoji + "x");

        assertThat(fits.nextText()).isEqualTo(emoji);
        tooBig.assertClosed(1009);
    }

    @Test
    void binaryOverTheSizeClosesWith1009() {
        Recorder recorder = new Recorder();
        TestServer server = TestServer.create()
                .route("/r/", recorder, options().maxMessageSize(4).build());

        TestClient fits = server.connect("/r/").sendBinary(new byte[4]);
        TestClient tooBig = server.connect("/r/").sendBinary(new byte[5]);

        assertThat(fits.isOpen()).isTrue();
        tooBig.assertClosed(1009);
        assertThat(recorder.events).containsExactly("open", "binary 4", "open", "close 1009 message over 4 bytes");
        assertThatThrownBy(() -> tooBig.sendBinary(new byte[1]))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("closed with 1009");
    }

    @Test
    void withoutOptionsAnySizeIsAccepted() {
        TestClient client =
                TestServer.create().route("/r/", EchoRouter.create()).connect("/r/");

        client.sendText("x".repeat(1 << 20));

        assertThat(client.nextText()).hasSize(1 << 20);
    }

    // ---- rate limit ----

    @Test
    void aMessageOverTheRateLimitIsDroppedAndTheRouterWithoutAWireFormatCloses() {
        Recorder recorder = new Recorder();
        TestServer server = TestServer.create()
                .route(
                        "/r/",
                        recorder,
                        options()
                                .rateLimit(new RateLimit(0.001, 2, RateLimit.Exceeded.REPLY))
                                .build());
        TestClient client = server.connect("/r/");

        client.sendText("1").sendText("2").sendText("3");

        assertThat(client.nextText()).isEqualTo("1");
        assertThat(client.nextText()).isEqualTo("2");
        assertThat(client.assertClosed(1008).reason()).isEqualTo("rate limit exceeded");
        assertThat(recorder.events).containsExactly("open", "text 1", "text 2", "close 1008 rate limit exceeded");
    }

    @Test
    void theJsonRouterAnswersAMessageOverTheRateLimitInItsWireFormat() {
        TestServer server = TestServer.create()
                .route(
                        "/ws/{username}/",
                        io.github.wsrouter.DirectedJsonRouter.create(),
                        options()
                                .rateLimit(new RateLimit(0.001, 2, RateLimit.Exceeded.REPLY))
                                .build());
        TestClient alice = server.connect("/ws/alice/");

        alice.sendText("{\"to_user\":\"alice\",\"message\":1}")
                .sendText("{\"to_user\":\"alice\",\"message\":2}")
                .sendText("{\"to_user\":\"alice\",\"message\":3}");

        assertThat(alice.nextText()).contains("\"message\":1");
        assertThat(alice.nextText()).contains("\"message\":2");
        assertThat(alice.nextText()).startsWith("{\"error\":\"rate_limited\"");
        assertThat(alice.isOpen()).isTrue();
        alice.assertNoMoreMessages();
    }

    @Test
    void aMessageOverAClosingRateLimitClosesWith1008() {
        TestServer server = TestServer.create()
                .route(
                        "/r/",
                        EchoRouter.create(),
                        options()
                                .rateLimit(new RateLimit(0.001, 1, RateLimit.Exceeded.CLOSE))
                                .build());
        TestClient client = server.connect("/r/");

        client.sendText("1").sendText("2");

        assertThat(client.nextText()).isEqualTo("1");
        assertThat(client.assertClosed(1008).reason()).isEqualTo("rate limit exceeded");
        client.assertNoMoreMessages();
    }

    // ---- send buffer ----

    @Test
    void aSendBufferOverflowClosesAPausedClientAsASlowConsumer() {
        Recorder recorder = new Recorder();
        TestServer server = TestServer.create()
                .route(
                        "/r/",
                        recorder,
                        options().sendBuffer(10, SendOverflow.CLOSE).build());
        TestClient client = server.connect("/r/").pauseReading();
        Connection connection = recorder.opened.get();

        CompletableFuture<Void> first = connection.sendText("12345678").toCompletableFuture();
        CompletableFuture<Void> second = connection.sendText("abcdefgh").toCompletableFuture();

        assertThat(first).isNotDone();
        assertThatThrownBy(second::join).hasCauseInstanceOf(SendBufferOverflowException.class);
        assertThat(client.isOpen()).isTrue();
        client.resumeReading();
        assertThat(first).isCompleted();
        assertThat(client.nextText()).isEqualTo("12345678");
        assertThat(client.assertClosed(4000)).isEqualTo(CloseStatus.SLOW_CONSUMER);
        client.assertNoMoreMessages();
        assertThat(recorder.closed).isCompletedWithValue(CloseStatus.SLOW_CONSUMER);
    }

    @Test
    void aSendBufferOverflowDropsForAPausedClientThatStaysOpen() {
        Recorder recorder = new Recorder();
        TestServer server = TestServer.create()
                .route(
                        "/r/",
                        recorder,
                        options().sendBuffer(10, SendOverflow.DROP).build());
        TestClient client = server.connect("/r/").pauseReading();
        Connection connection = recorder.opened.get();

        connection.sendText("12345678");
        CompletableFuture<Void> dropped = connection.sendText("abcdefgh").toCompletableFuture();
        client.resumeReading();
        connection.sendText("after");

        assertThatThrownBy(dropped::join).hasCauseInstanceOf(SendBufferOverflowException.class);
        assertThat(client.texts()).containsExactly("12345678", "after");
        assertThat(client.isOpen()).isTrue();
    }

    @Test
    void withoutASendBufferLimitAPausedClientsBufferGrows() {
        Recorder recorder = new Recorder();
        TestClient client =
                TestServer.create().route("/r/", recorder).connect("/r/").pauseReading();
        Connection connection = recorder.opened.get();

        for (int i = 0; i < 100; i++) {
            connection.sendText("0123456789");
        }

        assertThat(connection.queuedBytes()).isEqualTo(1000);
        client.resumeReading();
        assertThat(client.texts()).hasSize(100);
    }

    @Test
    void optionsWithNoMeaningInMemoryAreAccepted() {
        TestClient client = TestServer.create()
                .route(
                        "/r/",
                        EchoRouter.create(),
                        options()
                                .maxFragments(1)
                                .keepalive(Duration.ofMillis(1), Duration.ofMillis(2))
                                .build())
                .connect("/r/");

        client.sendText("still here");

        assertThat(client.nextText()).isEqualTo("still here");
        assertThat(client.isOpen()).isTrue();
    }

    // ---- requests with headers ----

    @Test
    void aRequestCarriesEveryValueOfAHeaderInOrderWhateverTheCase() {
        Recorder recorder = new Recorder();
        TestServer server = TestServer.create().route("/ws/{username}/", recorder);

        TestClient client = server.request("/ws/alice/?x=1")
                .header("Cookie", "a=1")
                .header("X-Token", "t")
                .header("cookie", "b=2")
                .connect();

        Connection connection = recorder.opened.get();
        assertThat(connection).isSameAs(client.connection());
        assertThat(connection.headers().get("COOKIE")).containsExactly("a=1", "b=2");
        assertThat(connection.header("cookie")).isEqualTo("a=1");
        assertThat(connection.header("x-token")).isEqualTo("t");
        assertThat(connection.pathParameter("username")).isEqualTo("alice");
        assertThat(connection.queryParameters()).containsExactly(Map.entry("x", List.of("1")));
    }

    @Test
    void aRequestsHandshakeRunsTheHookAndTheRouterWithAllHeaderValues() {
        AtomicReference<List<String>> seen = new AtomicReference<>();
        TestServer server = TestServer.create()
                .handshakeHook(request -> request.cookie("session") != null
                        ? HandshakeDecision.accept()
                        : HandshakeDecision.reject(401, "log in first"))
                .route("/ws/", new MessageRouter() {
                    @Override
                    public HandshakeDecision onHandshake(HandshakeRequest request) {
                        seen.set(request.headers().get("Cookie"));
                        return HandshakeDecision.acceptAs(request.cookie("session"));
                    }
                });

        HandshakeDecision refused =
                server.request("/ws/").header("Cookie", "theme=dark").handshake();
        HandshakeDecision accepted = server.request("/ws/")
                .header("Cookie", "theme=dark")
                .header("Cookie", "session=s1")
                .handshake();

        assertThat(refused.isRejected()).isTrue();
        assertThat(refused.status()).isEqualTo(401);
        assertThat(accepted.isRejected()).isFalse();
        assertThat(accepted.identity()).isEqualTo("s1");
        assertThat(seen.get()).containsExactly("theme=dark", "session=s1");
        assertThatThrownBy(() ->
                        server.request("/ws/").header("Cookie", "theme=dark").connect())
                .isInstanceOf(AssertionError.class)
                .hasMessage("the handshake to /ws/ was refused with 401 log in first");
    }

    @Test
    void aRequestToNoRouteFailsNamingTheRoutes() {
        TestServer server = TestServer.create().route("/echo/", EchoRouter.create());

        assertThatThrownBy(() -> server.request("/nowhere/").handshake())
                .isInstanceOf(AssertionError.class)
                .hasMessage("no route matches /nowhere/; routes: [/echo/]");
    }

    @Test
    void aHeaderNeedsAName() {
        TestServer.Request request = TestServer.create().request("/ws/");

        assertThatThrownBy(() -> request.header("", "v")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> request.header("H", null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void aRequestConnectsAgainWithTheHeadersSoFar() {
        Recorder recorder = new Recorder();
        TestServer.Request request =
                TestServer.create().route("/r/", recorder).request("/r/").header("H", "1");

        TestClient first = request.connect();
        request.header("H", "2");
        TestClient second = request.connect();

        assertThat(first.connection().headers().get("h")).containsExactly("1");
        assertThat(second.connection().headers().get("h")).containsExactly("1", "2");
    }

    // ---- stop ----

    @Test
    void stopClosesAPausedClientOnceItReadsAgain() {
        TestServer server = TestServer.create().route("/r/", EchoRouter.create());
        TestClient reading = server.connect("/r/");
        TestClient paused = server.connect("/r/").pauseReading();

        server.stop();

        reading.assertClosed(1001);
        assertThat(paused.isOpen()).isTrue();
        paused.resumeReading();
        paused.assertClosed(1001);
    }

    @Test
    void stopClosesConnectionsOfARouteWithAnExecutor() {
        Recorder recorder = new Recorder();
        TestServer server = TestServer.create()
                .route("/r/", recorder, options().executor(pool).build());
        TestClient client = server.connect("/r/");

        server.stop();

        assertThat(client.awaitClose(WAIT)).isEqualTo(CloseStatus.GOING_AWAY);
        assertThat(recorder.closed).succeedsWithin(WAIT).isEqualTo(CloseStatus.GOING_AWAY);
    }
}
