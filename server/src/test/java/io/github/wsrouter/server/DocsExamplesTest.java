package io.github.wsrouter.server;

import io.github.wsrouter.server.undertow.WebSocketRoutes;
import io.github.wsrouter.WsOptions;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.server.docs.ChatEndpoints;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.servlet.Servlets;
import io.undertow.servlet.api.DeploymentInfo;
import io.undertow.servlet.api.DeploymentManager;
import io.undertow.websockets.jsr.WebSocketDeploymentInfo;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The server samples of the docs, as written there: the README and {@code docs/server.md}
 * ({@code docs.ChatServer}), {@code docs/jakarta.md} ({@code docs.ChatEndpoints}),
 * {@code docs/limits-and-security.md} and {@code docs/several-servers.md}. If this fails, the docs
 * are wrong.
 *
 * <p>A sample that starts a server on a fixed port (8080, or the default 8000) is compiled here and
 * not run, as tests bind free ports only; so is the relay sample, which needs a Redis and
 * {@code wsrouter-redis}. The others run. {@code examples}' {@code DocsExamplesTest} checks that
 * every sample has its copy in a test source.
 */
@Timeout(60)
class DocsExamplesTest {

    /** The README's {@code ChatServer} with the same routes, on a free loopback port. */
    @Test
    void chatServerRoutesServe() {
        WsServer server = WsServer.builder()
                .port(0)
                .route("/echo/", EchoRouter.create())
                .route("/rooms/{room}/", BroadcastRouter.builder().roomParameter("room").build())
                .route("/ws/{username}/", DirectedJsonRouter.create())
                .build()
                .start();
        try {
            HttpClient client = HttpClient.newHttpClient();
            Peer echo = JdkPeer.connect(client, server.uri("/echo/"));
            echo.sendText("ping");
            assertThat(echo.awaitText()).isEqualTo("ping");
            Peer blue = JdkPeer.connect(client, server.uri("/rooms/blue/"));
            blue.sendText("hi blue");
            assertThat(blue.awaitText()).isEqualTo("hi blue");
        } finally {
            server.stop();
        }
    }

    /** docs/server.md, HTTP beside the routes: builds; the health check answers once started. */
    @Test
    void healthCheckBesideTheRoutes() throws Exception {
        WsServer.builder()
                .route("/ws/{username}/", DirectedJsonRouter.create())
                .http("/health", exchange -> exchange.getResponseSender().send("ok"))
                .build();

        WsServer server = WsServer.builder().port(0)
                .route("/ws/{username}/", DirectedJsonRouter.create())
                .http("/health", exchange -> exchange.getResponseSender().send("ok"))
                .build()
                .start();
        try {
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.body()).isEqualTo("ok");
        } finally {
            server.stop();
        }
    }

    /** docs/server.md, mounting into an Undertow you already run: compiled, not run (port 8080). */
    static void mountIntoYourUndertow(HttpHandler myAppHandler) {
        WebSocketRoutes routes = WebSocketRoutes.builder()
                .route("/chat/{username}/", DirectedJsonRouter.create())
                .build();
        Undertow.builder()
                .addHttpListener(8080, "0.0.0.0")
                .setHandler(Handlers.path(myAppHandler).addPrefixPath("/chat", routes))
                .build().start();
    }

    /** docs/server.md, a graceful stop of routes in your own Undertow: run on a free port. */
    @Test
    void routesInYourOwnUndertowStopGracefully() throws Exception {
        WebSocketRoutes routes = WebSocketRoutes.builder()
                .route("/chat/{username}/", DirectedJsonRouter.create())
                .build();
        Undertow undertow = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(routes)
                .build();
        undertow.start();
        int port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
        Peer alice = JdkPeer.connect(HttpClient.newHttpClient(), URI.create("ws://127.0.0.1:" + port + "/chat/alice/"));
        alice.sendText("{\"to_user\":\"alice\",\"message\":\"hi\"}");
        assertThat(alice.awaitText()).contains("\"from\":\"alice\"");

        // on shutdown: clients read 1001 (going away), then your Undertow stops
        routes.closeAll(CloseStatus.GOING_AWAY, Duration.ofSeconds(5));
        undertow.stop();

        assertThat(alice.awaitClose().code()).isEqualTo(1001);
        assertThat(routes.connectionCount()).isZero();
    }

    /** docs/jakarta.md, the listener: deployed in Undertow's servlet container, on a free port. */
    @Test
    void chatEndpointsServeInAServletContainer() throws Exception {
        DeploymentInfo deployment = Servlets.deployment()
                .setClassLoader(new ClassLoader(getClass().getClassLoader()) { }) // as a web app has its own
                .setContextPath("/")
                .setDeploymentName("docs")
                .addListener(Servlets.listener(ChatEndpoints.class))
                .addServletContextAttribute(WebSocketDeploymentInfo.ATTRIBUTE_NAME, new WebSocketDeploymentInfo()
                        .setBuffers(new DefaultByteBufferPool(true, 16 * 1024)));
        DeploymentManager manager = Servlets.newContainer().addDeployment(deployment);
        manager.deploy();
        Undertow undertow = Undertow.builder().addHttpListener(0, "127.0.0.1").setHandler(manager.start()).build();
        undertow.start();
        try {
            int port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
            HttpClient client = HttpClient.newHttpClient();
            Peer echo = JdkPeer.connect(client, URI.create("ws://127.0.0.1:" + port + "/echo/"));
            echo.sendText("ping");
            assertThat(echo.awaitText()).isEqualTo("ping");

            Peer alice = JdkPeer.connect(client, URI.create("ws://127.0.0.1:" + port + "/ws/alice/"));
            alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
            assertThat(alice.awaitText()).contains("\"error\":\"unknown_recipient\"");
        } finally {
            manager.stop();
            manager.undeploy();
            undertow.stop();
        }
    }

    /** docs/jakarta.md, embedded by WsServer: compiled, not run (port 8080). */
    static WsServer jakartaServer() {
        WsServer server = WsServer.builder()
                .jakarta()                                   // Jakarta adapter instead of Undertow's native API
                .port(8080)
                .route("/ws/{username}/", DirectedJsonRouter.create())
                .build()
                .start();
        return server;
    }

    /** docs/several-servers.md: compiled, not run (it needs a Redis, and wsrouter-redis to find the relay). */
    static WsServer relayedServer() {
        WsServer server = WsServer.builder()
                .port(8080)
                .options(WsOptions.builder()
                        .relay(URI.create("redis://127.0.0.1:6379"))  // every server: the same Redis
                        .build())
                .route("/rooms/{room}/", BroadcastRouter.builder().roomParameter("room").build())
                .route("/ws/{username}/", DirectedJsonRouter.builder().everyone("*").build())
                .build()
                .start();
        return server;
    }

    /** docs/limits-and-security.md, limits per server and per route: compiled, not run (port 8000). */
    static void limits(MessageRouter uploads, Executor blockingPool) {
        WsServer.builder()
                .options(WsOptions.builder()
                        .maxMessageSize(64 * 1024)                           // every route...
                        .allowedOrigins(Set.of("https://app.example"), false)
                        .build())
                .route("/ws/{username}/", DirectedJsonRouter.create())
                .route("/upload/", uploads, WsOptions.builder()
                        .maxMessageSize(8 * 1024 * 1024)                     // ...but this one
                        .sendBuffer(4 * 1024 * 1024, SendOverflow.DROP)
                        .executor(blockingPool)                              // its router blocks
                        .build())
                .build().start();
    }

    /** What the handshake sample calls {@code tokens}: a verifier of signed tokens. */
    interface Tokens {
        /** The user a token was issued to; {@code null} if it is forged or expired. */
        String verify(String token);
    }

    /** docs/limits-and-security.md, identity at the handshake: compiled, not run (port 8000). */
    static void tokenHandshake(Tokens tokens) {
        WsServer.builder()
                .options(WsOptions.builder().handshakeHook(request -> {
                    String offered = request.subprotocols().stream()
                            .filter(p -> p.startsWith("token.")).findFirst().orElse(null);
                    String user = offered == null ? null : tokens.verify(offered.substring(6)); // null: forged, expired
                    return user == null ? HandshakeDecision.reject(401, "a valid token is required")
                                        : HandshakeDecision.acceptAs(user).withSubprotocol("chat");
                }).build())
                .route("/ws/{username}/", DirectedJsonRouter.create())
                .build().start();
    }
}
