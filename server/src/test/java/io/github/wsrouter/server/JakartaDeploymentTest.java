package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.jakarta.JakartaRoutes;
import io.undertow.Undertow;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.servlet.Servlets;
import io.undertow.servlet.api.DeploymentInfo;
import io.undertow.servlet.api.DeploymentManager;
import io.undertow.websockets.jsr.WebSocketDeploymentInfo;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** JakartaRoutes' endpoint configurations in a servlet deployment the application builds itself. */
@Timeout(60)
class JakartaDeploymentTest {

    @Test
    void endpointConfigsRunInAnApplicationsOwnServletDeployment() throws Exception {
        WebSocketDeploymentInfo webSockets = new WebSocketDeploymentInfo()
                .setBuffers(new DefaultByteBufferPool(true, 16 * 1024))
                .addEndpoint(JakartaRoutes.endpointConfig("/ws/{username}/", DirectedJsonRouter.create()))
                .addEndpoint(JakartaRoutes.endpointConfig("/echo/", EchoRouter.create()));
        DeploymentInfo deployment = Servlets.deployment()
                .setClassLoader(new ClassLoader(getClass().getClassLoader()) {}) // as a web app has its own
                .setContextPath("/")
                .setDeploymentName("app")
                .addServletContextAttribute(WebSocketDeploymentInfo.ATTRIBUTE_NAME, webSockets);
        DeploymentManager manager = Servlets.newContainer().addDeployment(deployment);
        manager.deploy();
        Undertow undertow = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(manager.start())
                .build();
        undertow.start();
        try {
            int port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
            HttpClient client = HttpClient.newHttpClient();
            Peer alice = JdkPeer.connect(client, URI.create("ws://127.0.0.1:" + port + "/ws/alice/"));
            Peer bob = JdkPeer.connect(client, URI.create("ws://127.0.0.1:" + port + "/ws/bob/"));
            // bob's own message comes back once his onOpen has run: then he is registered
            bob.sendText("{\"to_user\":\"bob\",\"message\":\"self\"}");
            assertThat(bob.awaitText()).contains("self");

            alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
            String reply = bob.awaitText();
            assertThat(RoutingContractTest.json(reply).get("from").getAsString())
                    .isEqualTo("alice");

            Peer echo = JakartaPeer.connect(URI.create("ws://127.0.0.1:" + port + "/echo/"));
            echo.sendText("ping");
            assertThat(echo.awaitText()).isEqualTo("ping");
        } finally {
            manager.stop();
            manager.undeploy();
            undertow.stop();
        }
    }

    @Test
    void maxConnectionsHoldsInAnApplicationsOwnDeploymentAndStatsCountTheRefusal() throws Exception {
        JakartaRoutes routes = JakartaRoutes.builder()
                .options(WsOptions.builder().maxConnections(1).build())
                .route("/echo/", EchoRouter.create())
                .build();
        WebSocketDeploymentInfo webSockets =
                new WebSocketDeploymentInfo().setBuffers(new DefaultByteBufferPool(true, 16 * 1024));
        routes.endpointConfigs().forEach(webSockets::addEndpoint);
        DeploymentManager manager = Servlets.newContainer()
                .addDeployment(Servlets.deployment()
                        .setClassLoader(new ClassLoader(getClass().getClassLoader()) {})
                        .setContextPath("/")
                        .setDeploymentName("capped")
                        .addServletContextAttribute(WebSocketDeploymentInfo.ATTRIBUTE_NAME, webSockets));
        manager.deploy();
        Undertow undertow = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setHandler(manager.start())
                .build();
        undertow.start();
        try {
            int port = ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
            URI echo = URI.create("ws://127.0.0.1:" + port + "/echo/");
            Peer first = JdkPeer.connect(HttpClient.newHttpClient(), echo);
            first.sendText("one");
            assertThat(first.awaitText()).isEqualTo("one");

            Peer second = JdkPeer.connect(HttpClient.newHttpClient(), echo);
            assertThat(second.awaitClose().code()).isEqualTo(1008); // no HTTP status in a foreign container
            ServerStats stats = routes.stats();
            assertThat(stats.open()).isEqualTo(1);
            assertThat(stats.rejectedHandshakes()).containsEntry("capacity", 1L);
            assertThat(stats.routes()).containsOnlyKeys("/echo/");

            routes.closeAll(CloseStatus.GOING_AWAY, Duration.ofSeconds(5));
            assertThat(first.awaitClose().code()).isEqualTo(1001);
        } finally {
            manager.stop();
            manager.undeploy();
            undertow.stop();
        }
    }

    @Test
    void collidingTemplatesAreRefused() {
        assertThatThrownBy(() -> JakartaRoutes.builder()
                        .route("/rooms/{room}/", EchoRouter.create())
                        .route("/rooms/{name}/", EchoRouter.create()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("collides");
    }
}
