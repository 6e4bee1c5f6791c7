package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.WsOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Connection cap, handshake timeout and keepalive, on both adapters. */
@Timeout(60)
class LimitsTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable closeable : cleanup) {
            closeable.close();
        }
    }

    private WsServer start(WsServer.Builder builder, boolean jakarta) {
        WsServer server =
                (jakarta ? builder.jakarta() : builder).port(0).build().start();
        cleanup.add(server);
        return server;
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void overTheConnectionCapHandshakesGet503(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer server = start(
                WsServer.builder()
                        .options(WsOptions.builder().maxConnections(2).build())
                        .route("/echo/", router),
                jakarta);
        Peer one = JdkPeer.connect(HTTP, server.uri("/echo/"));
        JdkPeer.connect(HTTP, server.uri("/echo/"));
        router.awaitOpens(2);

        assertThat(RawWebSocket.handshakeHead(server.port(), "/echo/")).startsWith("HTTP/1.1 503");

        one.close(CloseStatus.NORMAL);
        router.await("close");
        // the router hears of the close as the socket goes; wait for the server to let it go too
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() < 2);
        Peer again = JdkPeer.connect(HTTP, server.uri("/echo/"));
        again.sendText("room again");
        assertThat(again.awaitText()).isEqualTo("room again");
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void slowlorisSocketsAreDroppedByTheHandshakeTimeoutWhileOthersChat(boolean jakarta) throws Exception {
        WsServer server = start(
                WsServer.builder().handshakeTimeout(Duration.ofMillis(1500)).route("/echo/", EchoRouter.create()),
                jakarta);
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 1000; i++) {
                Socket socket = new Socket();
                socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 10_000);
                socket.setSoTimeout(20_000);
                socket.getOutputStream()
                        .write("GET /echo/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr".getBytes(StandardCharsets.ISO_8859_1));
                slow.add(socket);
            }
            Peer normal = JdkPeer.connect(HTTP, server.uri("/echo/"));
            normal.sendText("still served");
            assertThat(normal.awaitText()).isEqualTo("still served");

            for (Socket socket : slow) {
                assertThat(socket.getInputStream().read())
                        .as("the server closes a half-sent request")
                        .isEqualTo(-1);
            }
        } finally {
            for (Socket socket : slow) {
                closeQuietly(socket);
            }
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aSilentPeerIsDroppedAfterTheIdleTimeoutWhileOneThatAnswersPingsStays(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        // pings every 200 ms, idle after 2 s: ten pings' margin for the answering client on a busy machine
        WsServer server = start(
                WsServer.builder()
                        .options(WsOptions.builder()
                                .keepalive(Duration.ofMillis(200), Duration.ofMillis(2000))
                                .build())
                        .route("/echo/", router),
                jakarta);
        Peer answering = JdkPeer.connect(HTTP, server.uri("/echo/")); // the JDK client answers pings
        router.awaitOpens(1);
        try (RawWebSocket silent = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(1);
            ObservedRouter.Event dropped = router.await("close");
            assertThat(dropped.status()).isEqualTo(CloseStatus.GOING_AWAY.withReason("idle timeout"));
            assertThat(silent.awaitEndOfStream()).isTrue();
        }
        router.assertNoEventWithin(Duration.ofMillis(5000)); // several idle timeouts: the answering peer stays
        answering.sendText("alive");
        assertThat(answering.awaitText()).isEqualTo("alive");
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void statsCountConnectionsMessagesBytesAndRefusals(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer server =
                start(WsServer.builder().route("/echo/", router).route("/other/", EchoRouter.create()), jakarta);
        Peer one = JdkPeer.connect(HTTP, server.uri("/echo/"));
        Peer two = JdkPeer.connect(HTTP, server.uri("/echo/"));
        router.awaitOpens(2);
        one.sendText("abc");
        one.sendText("de");
        two.sendBinary(new byte[] {1, 2, 3, 4});
        assertThat(one.awaitText()).isEqualTo("abc");
        assertThat(one.awaitText()).isEqualTo("de");
        two.awaitBinary();
        assertThat(RawWebSocket.handshakeHead(server.port(), "/echo/", "Origin: http://evil.example"))
                .startsWith("HTTP/1.1 403");

        // a frame is counted out when its write completes, which may be just after the peer read it
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(() -> server.stats().routes().get("/echo/").messagesOut() == 3);
        ServerStats stats = server.stats();
        assertThat(stats.open()).isEqualTo(2);
        assertThat(stats.routes()).containsOnlyKeys("/echo/", "/other/");
        assertThat(stats.routes().get("/echo/"))
                .isEqualTo(new io.github.wsrouter.RouteStats(2, 2, 0, 3, 3, 9, 9, 0, 0, 0));
        assertThat(stats.routes().get("/other/")).isEqualTo(io.github.wsrouter.RouteStats.ZERO);
        assertThat(stats.rejectedHandshakes()).containsEntry("origin", 1L);

        one.close(CloseStatus.NORMAL);
        router.await("close");
        assertThat(server.stats().routes().get("/echo/").closed()).isEqualTo(1);
        assertThat(server.stats().total().open()).isEqualTo(1);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void overTheRateLimitAMessageIsAnsweredWithAnErrorOrTheConnectionClosed(boolean jakarta) throws Exception {
        io.github.wsrouter.RateLimit slowly =
                new io.github.wsrouter.RateLimit(0.001, 3, io.github.wsrouter.RateLimit.Exceeded.REPLY);
        WsServer replying = start(
                WsServer.builder()
                        .options(WsOptions.builder().rateLimit(slowly).build())
                        .route("/echo/", EchoRouter.create())
                        .route("/ws/{username}/", io.github.wsrouter.DirectedJsonRouter.create()),
                jakarta);
        Peer peer = JdkPeer.connect(HTTP, replying.uri("/ws/alice/"));
        for (int i = 0; i < 4; i++) {
            peer.sendText("{\"to_user\":\"alice\",\"message\":\"m" + i + "\"}");
        }
        assertThat(peer.awaitText()).contains("\"m0\"");
        assertThat(peer.awaitText()).contains("\"m1\"");
        assertThat(peer.awaitText()).contains("\"m2\"");
        assertThat(peer.awaitText()).startsWith("{\"error\":\"rate_limited\"");
        // echo has no error replies in its wire format: over the limit, its connection closes
        Peer echo = JdkPeer.connect(HTTP, replying.uri("/echo/"));
        for (int i = 0; i < 4; i++) {
            echo.sendText("m" + i);
        }
        assertThat(echo.awaitText()).isEqualTo("m0");
        assertThat(echo.awaitText()).isEqualTo("m1");
        assertThat(echo.awaitText()).isEqualTo("m2");
        assertThat(echo.awaitClose().code()).isEqualTo(1008);

        WsServer closing = start(
                WsServer.builder()
                        .route("/echo/", EchoRouter.create())
                        .options(WsOptions.builder()
                                .rateLimit(new io.github.wsrouter.RateLimit(
                                        0.001, 1, io.github.wsrouter.RateLimit.Exceeded.CLOSE))
                                .build()),
                jakarta);
        Peer flooder = JdkPeer.connect(HTTP, closing.uri("/echo/"));
        flooder.sendText("one");
        flooder.sendText("two");
        assertThat(flooder.awaitText()).isEqualTo("one");
        assertThat(flooder.awaitClose().code()).isEqualTo(1008);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
