package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.undertow.WebSocketRoutes;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.util.Headers;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What only a real HTTP server shows: status codes, ports, limits, threads, embedding. Where a
 * behaviour holds for both adapters, the test runs on both (jakarta=false is Undertow's native API).
 */
@Timeout(60)
class UndertowServerTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        Collections.reverse(cleanup);
        for (AutoCloseable closeable : cleanup) {
            closeable.close();
        }
    }

    private WsServer start(WsServer.Builder builder) {
        return start(builder, false);
    }

    private WsServer start(WsServer.Builder builder, boolean jakarta) {
        if (jakarta) {
            builder.jakarta();
        }
        WsServer server = builder.port(0).build().start();
        cleanup.add(server);
        return server;
    }

    private static HttpResponse<String> get(URI uri) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI http(WsServer server, String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void portZeroBindsAFreePortThatCanBeReadBack(boolean jakarta) {
        WsServer server = start(WsServer.builder().route("/echo/", EchoRouter.create()), jakarta);
        assertThat(server.port()).isPositive();
        Peer peer = JdkPeer.connect(HTTP, server.uri("/echo/"));
        peer.sendText("up");
        assertThat(peer.awaitText()).isEqualTo("up");
    }

    @Test
    void portInUseFailsWithBindException() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            WsServer server = WsServer.builder()
                    .port(taken.getLocalPort())
                    .route("/echo/", EchoRouter.create())
                    .build();
            assertThatThrownBy(server::start)
                    .isInstanceOf(UncheckedIOException.class)
                    .hasCauseInstanceOf(BindException.class)
                    .hasMessageContaining(String.valueOf(taken.getLocalPort()));
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void unknownPathGets404AndNoUpgrade(boolean jakarta) throws Exception {
        WsServer server = start(WsServer.builder().route("/echo/", EchoRouter.create()), jakarta);
        assertThat(get(http(server, "/nowhere/")).statusCode()).isEqualTo(404);

        CompletableFuture<?> attempt = HTTP.newWebSocketBuilder()
                .buildAsync(server.uri("/nowhere/"), new java.net.http.WebSocket.Listener() {});
        assertThatThrownBy(() -> attempt.get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> assertThat(
                                ((WebSocketHandshakeException) e).getResponse().statusCode())
                        .isEqualTo(404));
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void plainHttpRequestToARouteGets426WithUpgradeHeader(boolean jakarta) throws Exception {
        WsServer server = start(WsServer.builder().route("/echo/", EchoRouter.create()), jakarta);
        HttpResponse<String> response = get(http(server, "/echo/"));
        assertThat(response.statusCode()).isEqualTo(426);
        assertThat(response.headers().firstValue(Headers.UPGRADE_STRING)).hasValue("websocket");
        assertThat(response.body()).contains("WebSocket");
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void malformedUpgradeGets400(boolean jakarta) throws Exception {
        WsServer server = start(WsServer.builder().route("/echo/", EchoRouter.create()), jakarta);
        String head = RawWebSocket.httpHead(
                server.port(),
                "GET /echo/ HTTP/1.1\r\nHost: x\r\n" + "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
        assertThat(head).startsWith("HTTP/1.1 400");
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void crossOriginHandshakesAreRefusedWith403BeforeAnyUpgrade(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer server = start(WsServer.builder().route("/echo/", router), jakarta);
        int port = server.port();

        assertThat(RawWebSocket.handshakeHead(port, "/echo/", "Origin: http://evil.example"))
                .startsWith("HTTP/1.1 403");
        assertThat(RawWebSocket.handshakeHead(port, "/echo/", "Origin: null")).startsWith("HTTP/1.1 403");
        assertThat(RawWebSocket.handshakeHead(port, "/echo/", "Origin: http://127.0.0.1:" + (port + 1)))
                .startsWith("HTTP/1.1 403");
        // the server's own origin, and non-browser clients without Origin, are welcome
        assertThat(RawWebSocket.handshakeHead(port, "/echo/", "Origin: http://127.0.0.1:" + port))
                .startsWith("HTTP/1.1 101");
        assertThat(RawWebSocket.handshakeHead(port, "/echo/")).startsWith("HTTP/1.1 101");
        // only the two accepted handshakes reached the router (each then dropped by the raw client)
        router.await("open", "close");
        router.await("open", "close");
        router.await("close");
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void allowedOriginsAndRequiredOriginAreConfigurable(boolean jakarta) throws Exception {
        WsServer listed = start(
                WsServer.builder()
                        .options(WsOptions.builder()
                                .allowedOrigins(java.util.Set.of("https://app.example"), true)
                                .build())
                        .route("/echo/", EchoRouter.create()),
                jakarta);
        assertThat(RawWebSocket.handshakeHead(listed.port(), "/echo/", "Origin: https://app.example"))
                .startsWith("HTTP/1.1 101");
        assertThat(RawWebSocket.handshakeHead(listed.port(), "/echo/", "Origin: https://other.example"))
                .startsWith("HTTP/1.1 403");
        assertThat(RawWebSocket.handshakeHead(listed.port(), "/echo/")).startsWith("HTTP/1.1 403");

        WsServer any = start(
                WsServer.builder()
                        .options(WsOptions.builder()
                                .allowedOrigins(java.util.Set.of("*"), false)
                                .build())
                        .route("/echo/", EchoRouter.create()),
                jakarta);
        assertThat(RawWebSocket.handshakeHead(any.port(), "/echo/", "Origin: https://anywhere.example"))
                .startsWith("HTTP/1.1 101");
    }

    /** Accepts "token-of-NAME" query tokens as user NAME: a stand-in for signed tokens. */
    private static final io.github.wsrouter.HandshakeHook TOKENS = request -> {
        String token = request.queryParameter("token");
        return token != null && token.startsWith("token-of-")
                ? io.github.wsrouter.HandshakeDecision.acceptAs(token.substring("token-of-".length()))
                : io.github.wsrouter.HandshakeDecision.reject(401, "a valid token is required");
    };

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void handshakeHookAndRouterRefuseWithHttpStatusesBeforeAnyUpgrade(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(DirectedJsonRouter.create());
        WsServer server = start(
                WsServer.builder()
                        .options(WsOptions.builder().handshakeHook(TOKENS).build())
                        .route("/ws/{username}/", router),
                jakarta);
        int port = server.port();

        assertThat(RawWebSocket.handshakeHead(port, "/ws/alice/")).startsWith("HTTP/1.1 401");
        assertThat(RawWebSocket.handshakeHead(port, "/ws/alice/?token=forged")).startsWith("HTTP/1.1 401");
        assertThat(RawWebSocket.handshakeHead(port, "/ws/alice/?token=token-of-bob"))
                .startsWith("HTTP/1.1 403");
        assertThat(RawWebSocket.handshakeHead(port, "/ws/a%20b/?token=token-of-a%20b"))
                .startsWith("HTTP/1.1 400");
        assertThat(RawWebSocket.handshakeHead(
                        port,
                        "/ws/alice/?token=token-of-bob",
                        io.github.wsrouter.server.internal.HandshakeRelay.HEADER + ": spoofed"))
                .startsWith("HTTP/1.1 403");

        Peer alice = JdkPeer.connect(HTTP, server.uri("/ws/alice/?token=token-of-alice"));
        Peer bob = JdkPeer.connect(HTTP, server.uri("/ws/bob/?token=token-of-bob"));
        assertThat(router.await("open").connection().identity()).isIn("alice", "bob");
        assertThat(router.await("open").connection().identity()).isIn("alice", "bob");
        bob.sendText("{\"to_user\":\"alice\",\"message\":\"hi\"}");
        assertThat(RoutingContractTest.json(alice.awaitText()).get("from").getAsString())
                .isEqualTo("bob");
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void pathQueryAndHeadersReachTheConnection(boolean jakarta) throws Exception {
        CompletableFuture<Connection> opened = new CompletableFuture<>();
        MessageRouter capture = new MessageRouter() {
            @Override
            public void onOpen(Connection connection) {
                opened.complete(connection);
            }
        };
        WsServer server = start(WsServer.builder().route("/users/{name}/", capture), jakarta);
        HTTP.newWebSocketBuilder()
                .header("X-Trace", "t-1")
                .buildAsync(
                        server.uri("/users/%C3%A9lodie%20b/?token=abc&tag=a&tag=b"),
                        new java.net.http.WebSocket.Listener() {})
                .get(10, TimeUnit.SECONDS);

        Connection connection = opened.get(10, TimeUnit.SECONDS);
        assertThat(connection.path()).isEqualTo("/users/%C3%A9lodie%20b/");
        assertThat(connection.pathParameter("name")).isEqualTo("élodie b");
        assertThat(connection.queryParameters().get("token")).containsExactly("abc");
        assertThat(connection.queryParameters().get("tag")).containsExactly("a", "b");
        assertThat(connection.header("x-trace")).isEqualTo("t-1");
        assertThat(connection.header("X-TRACE")).isEqualTo("t-1");
        assertThat(connection.id()).isNotBlank();
        assertThat(connection.isOpen()).isTrue();
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void messageOverTheLimitClosesThatConnectionWith1009(boolean jakarta) {
        ObservedRouter router = new ObservedRouter(BroadcastRouter.create());
        WsServer server = start(
                WsServer.builder()
                        .options(WsOptions.builder().maxMessageSize(1024).build())
                        .route("/ws/", router),
                jakarta);
        Peer big = JdkPeer.connect(HTTP, server.uri("/ws/"));
        Peer small = JdkPeer.connect(HTTP, server.uri("/ws/"));
        router.awaitOpens(2);

        big.sendText("x".repeat(2000));

        assertThat(big.awaitClose().code()).isEqualTo(1009);
        assertThat(router.await("close", "error").status())
                .isEqualTo(CloseStatus.MESSAGE_TOO_BIG.withReason("message over 1024 bytes"));
        small.sendText("x".repeat(1024));
        assertThat(small.awaitText()).hasSize(1024);
    }

    @Test // native only: the Jakarta container reads the frame before wsrouter sees it
    void aFrameHeaderAnnouncingAHugeMessageIsClosedWith1009AtOnce() throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer server = start(WsServer.builder().route("/echo/", router));
        try (RawWebSocket raw = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(1);
            // FIN + text, masked, 64-bit length 2^63-1, a mask key, and no payload at all
            raw.sendRaw(new byte[] {(byte) 0x81, (byte) 0xFF, 0x7F, -1, -1, -1, -1, -1, -1, -1, 1, 2, 3, 4});
            long started = System.nanoTime();
            RawWebSocket.Frame close = raw.read();
            long millis = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertThat(close.opcode()).isEqualTo(0x8);
            assertThat(close.closeCode()).isEqualTo(1009);
            assertThat(raw.awaitEndOfStream()).isTrue();
            System.out.println("announced 2^63-1 bytes: closed with 1009 after " + millis + " ms");
        }
        assertThat(router.await("close", "error").status().code()).isEqualTo(1009);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aSixteenMegabyteMessageToA64KiBLimitIsClosedWith1009(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer server = start(WsServer.builder().route("/echo/", router), jakarta);
        try (RawWebSocket raw = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(1);
            byte[] header = {(byte) 0x82, (byte) 0xFF, 0, 0, 0, 0, 0x01, 0, 0, 0, 1, 2, 3, 4}; // 16 MiB binary
            raw.sendRaw(header);
            try {
                raw.sendRaw(new byte[16 * 1024 * 1024]); // the server may stop reading and close first
            } catch (java.io.IOException closedWhileSending) {
                // expected sometimes: the server closed the connection
            }
            RawWebSocket.Frame close = raw.read();
            assertThat(close.opcode()).isEqualTo(0x8);
            assertThat(close.closeCode()).isEqualTo(1009);
        } catch (java.net.SocketException reset) {
            // the server closed before we could read its close frame: the router tells the code
        }
        assertThat(router.await("close", "error").status().code()).isEqualTo(1009);
    }

    @Test // native only: Undertow's Jakarta container reads an empty close frame as 1000
    void emptyCloseFrameIsReportedAs1005AndAnswered() throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer server = start(WsServer.builder().route("/echo/", router));
        try (RawWebSocket raw = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(1);
            raw.send(0x8, new byte[0]);
            RawWebSocket.Frame reply = raw.read();
            assertThat(reply.opcode()).isEqualTo(0x8);
        }
        assertThat(router.await("close").status()).isEqualTo(CloseStatus.NO_STATUS);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void stopIsBoundedWhenAPeerNeverAnswersTheClose(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer.Builder builder = WsServer.builder()
                .port(0)
                .stopTimeout(Duration.ofMillis(500))
                .options(
                        WsOptions.builder().closeTimeout(Duration.ofMillis(500)).build())
                .route("/echo/", router);
        WsServer server = (jakarta ? builder.jakarta() : builder).build().start();
        try (RawWebSocket silent = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(1);

            server.stop(); // the class timeout fails the test if this hangs

            assertThat(silent.read().closeCode()).isEqualTo(1001);
            assertThat(router.await("close").status().code()).isEqualTo(1001);
            assertThat(silent.awaitEndOfStream()).isTrue();
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void stopRightAfterAnUpgradeStillClosesThatConnectionWithGoingAway(boolean jakarta) {
        // The client sees 101 before the server has registered the connection: the stop must wait for it.
        for (int round = 0; round < 20; round++) {
            WsServer.Builder builder = WsServer.builder().port(0).route("/echo/", EchoRouter.create());
            WsServer server = (jakarta ? builder.jakarta() : builder).build().start();
            Peer peer = JdkPeer.connect(HTTP, server.uri("/echo/"));
            server.stop();
            assertThat(peer.awaitClose().code()).as("round %d", round).isEqualTo(1001);
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void routeWithExecutorRunsCallbacksOffTheIoThreadInOrder(boolean jakarta) throws Exception {
        ExecutorService workers = Executors.newFixedThreadPool(4);
        cleanup.add(workers::shutdownNow);
        List<String> threads = Collections.synchronizedList(new ArrayList<>());
        MessageRouter blocking = new MessageRouter() {
            @Override
            public void onText(Connection connection, String text) {
                threads.add(Thread.currentThread().getName());
                connection.sendText(text);
            }
        };
        WsServer server = start(
                WsServer.builder()
                        .route(
                                "/slow/",
                                blocking,
                                WsOptions.builder().executor(workers).build()),
                jakarta);
        Peer peer = JdkPeer.connect(HTTP, server.uri("/slow/"));
        for (int i = 0; i < 200; i++) {
            peer.sendText("m" + i);
        }
        for (int i = 0; i < 200; i++) {
            assertThat(peer.awaitText()).isEqualTo("m" + i);
        }
        assertThat(threads).hasSize(200).allSatisfy(name -> assertThat(name).doesNotContain("I/O"));
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void staticResourcesAreServedBesideTheRoutes(boolean jakarta) throws Exception {
        WsServer server =
                start(WsServer.builder().staticResources("testweb").route("/echo/", EchoRouter.create()), jakarta);
        HttpResponse<String> page = get(http(server, "/"));
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("static ok");
        assertThat(get(http(server, "/missing.js")).statusCode()).isEqualTo(404);
        assertThat(get(http(server, "/echo/")).statusCode()).isEqualTo(426);
    }

    @Test
    void routesMountInsideAnApplicationsOwnUndertow() throws Exception {
        WebSocketRoutes routes = WebSocketRoutes.builder()
                .route("/chat/{username}/", DirectedJsonRouter.create())
                .build();
        Undertow undertow = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(
                        Handlers.path(exchange -> exchange.getResponseSender().send("app"))
                                .addPrefixPath("/chat", routes))
                .build();
        undertow.start();
        cleanup.add(undertow::stop);
        int port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();

        assertThat(get(URI.create("http://127.0.0.1:" + port + "/")).body()).isEqualTo("app");
        Peer alice = JdkPeer.connect(HTTP, URI.create("ws://127.0.0.1:" + port + "/chat/alice/"));
        alice.sendText("{\"to_user\":\"alice\",\"message\":\"self\"}");
        assertThat(alice.awaitText()).contains("\"from\":\"alice\"");
        assertThat(get(URI.create("http://127.0.0.1:" + port + "/chat/a/b/")).statusCode())
                .isEqualTo(404);
    }

    @Test
    void collidingRoutesAreRefusedAtBuildTime() {
        assertThatThrownBy(() -> WsServer.builder()
                        .route("/ws/{username}/", DirectedJsonRouter.create())
                        .route("/ws/{user}", BroadcastRouter.create()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/ws/{user}")
                .hasMessageContaining("/ws/{username}/");
        assertThatThrownBy(() -> WsServer.builder().route("ws/{a", EchoRouter.create()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WsServer.builder().build()).isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void binaryRoundTripsByteForByte(boolean jakarta) {
        WsServer server = start(WsServer.builder().route("/echo/", EchoRouter.create()), jakarta);
        Peer peer = JdkPeer.connect(HTTP, server.uri("/echo/"));
        byte[] data = new byte[10_000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        peer.sendBinary(data);
        assertThat(RoutingContractTest.bytes(peer.awaitBinary())).isEqualTo(data);
    }
}
