package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.jakarta.JakartaRoutes;
import io.github.wsrouter.server.undertow.WebSocketRoutes;
import io.github.wsrouter.testkit.TestServer;
import java.time.Duration;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The mistakes a new user makes fail when the server is built, with a message that names what is
 * wrong and the fix: on every entry point, and in the test kit.
 */
@Timeout(30)
class MisconfigurationTest {

    /** Builds one route on one entry point; returns what was built, or throws what build() threw. */
    private static Stream<Arguments> entryPoints() {
        BiFunction<String, MessageRouter, Object> wsServer = (template, router) ->
                WsServer.builder().port(0).route(template, router).build();
        BiFunction<String, MessageRouter, Object> wsServerJakarta = (template, router) ->
                WsServer.builder().port(0).jakarta().route(template, router).build();
        BiFunction<String, MessageRouter, Object> webSocketRoutes = (template, router) ->
                WebSocketRoutes.builder().route(template, router).build();
        BiFunction<String, MessageRouter, Object> jakartaRoutes = (template, router) ->
                JakartaRoutes.builder().route(template, router).build();
        BiFunction<String, MessageRouter, Object> testServer =
                (template, router) -> TestServer.create().route(template, router);
        return Stream.of(
                Arguments.of("WsServer", wsServer),
                Arguments.of("WsServer.jakarta()", wsServerJakarta),
                Arguments.of("WebSocketRoutes", webSocketRoutes),
                Arguments.of("JakartaRoutes", jakartaRoutes),
                Arguments.of("TestServer", testServer));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void aRoomParameterTheTemplateLacksIsRefused(String entryPoint, BiFunction<String, MessageRouter, Object> build) {
        assertThatThrownBy(() -> build.apply(
                        "/rooms/{name}/",
                        BroadcastRouter.builder().roomParameter("room").build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("BroadcastRouter")
                .hasMessageContaining("roomParameter(\"room\")")
                .hasMessageContaining("/rooms/{name}/")
                .hasMessageContaining("roomParameter(\"name\")");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void aUserParameterTheTemplateLacksIsRefused(String entryPoint, BiFunction<String, MessageRouter, Object> build) {
        assertThatThrownBy(() -> build.apply("/chat/{user}/", DirectedJsonRouter.create()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DirectedJsonRouter")
                .hasMessageContaining("{username}")
                .hasMessageContaining("/chat/{user}/")
                .hasMessageContaining("userParameter(\"user\")");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entryPoints")
    void theFixesTheMessagesNameAreAccepted(String entryPoint, BiFunction<String, MessageRouter, Object> build) {
        assertThat(build.apply(
                        "/rooms/{name}/",
                        BroadcastRouter.builder().roomParameter("name").build()))
                .isNotNull();
        assertThat(build.apply(
                        "/chat/{user}/",
                        DirectedJsonRouter.builder().userParameter("user").build()))
                .isNotNull();
        assertThat(build.apply(
                        "/chat/",
                        DirectedJsonRouter.builder()
                                .identity(io.github.wsrouter.HandshakeRequest::identity)
                                .build()))
                .isNotNull();
    }

    @Test
    void anIdleTimeoutNotLongerThanThePingIntervalIsRefusedEverywhere() {
        Duration ping = Duration.ofSeconds(30);
        Duration idle = Duration.ofSeconds(1);
        assertThatThrownBy(() -> WsServer.builder()
                        .options(WsOptions.builder().keepalive(ping, idle).build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("keepalive(PT30S, PT1S)")
                .hasMessageContaining("idle timeout must be longer than the ping interval");
        assertThatThrownBy(() -> WebSocketRoutes.builder()
                        .options(WsOptions.builder().keepalive(ping, idle).build()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> JakartaRoutes.builder()
                        .options(WsOptions.builder().keepalive(ping, idle).build()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WsOptions.builder().keepalive(ping, ping))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anHttpHandlerOnARoutesPathIsRefused() {
        assertThatThrownBy(() -> WsServer.builder()
                        .port(0)
                        .route("/echo/", EchoRouter.create())
                        .http("/echo/", exchange -> exchange.getResponseSender().send("never"))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("http(\"/echo/\"")
                .hasMessageContaining("WebSocket route /echo/");
        assertThatThrownBy(() -> WsServer.builder()
                        .port(0)
                        .route("/ws/{username}/", DirectedJsonRouter.create())
                        .http(
                                "/ws/stats/",
                                exchange -> exchange.getResponseSender().send("never"))
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("/ws/{username}/");
    }

    @Test
    void jakartaWithoutItsDependencySaysWhatToAdd() throws Exception {
        try (java.net.URLClassLoader bare =
                new java.net.URLClassLoader(new java.net.URL[0], ClassLoader.getPlatformClassLoader())) {
            assertThatThrownBy(() -> WsServer.Builder.jakartaAvailable(bare))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("io.undertow:undertow-websockets-jsr:2.3.24.Final")
                    .hasMessageContaining("leave out jakarta()");
        }
        WsServer.Builder.jakartaAvailable(WsServer.class.getClassLoader()); // present here: no error
    }

    @Test
    void startAfterStopSaysToBuildANewServer() {
        WsServer server = WsServer.builder()
                .port(0)
                .route("/echo/", EchoRouter.create())
                .build()
                .start();
        server.stop();

        assertThatThrownBy(server::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stopped")
                .hasMessageContaining("build a new");
    }

    @Test
    void aServerWideOptionOnOneRouteIsRefusedOnEveryEntryPoint() {
        WsOptions capped = WsOptions.builder().maxConnections(5).build();
        for (Runnable route : java.util.List.<Runnable>of(
                () -> WsServer.builder().route("/echo/", EchoRouter.create(), capped),
                () -> WebSocketRoutes.builder().route("/echo/", EchoRouter.create(), capped),
                () -> JakartaRoutes.builder().route("/echo/", EchoRouter.create(), capped),
                () -> TestServer.create().route("/echo/", EchoRouter.create(), capped))) {
            assertThatThrownBy(route::run)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maxConnections is server-wide")
                    .hasMessageContaining("options(WsOptions)");
        }
    }

    @Test
    void limitsAreRefusedInOneWording() {
        assertThatThrownBy(() -> WsServer.builder()
                        .options(WsOptions.builder().maxMessageSize(0).build()))
                .hasMessage("maxMessageSize must be at least 1: 0");
        assertThatThrownBy(() -> WsServer.builder()
                        .options(WsOptions.builder().maxFragments(0).build()))
                .hasMessage("maxFragments must be at least 1: 0");
        assertThatThrownBy(() -> WsServer.builder()
                        .options(WsOptions.builder().maxConnections(0).build()))
                .hasMessage("maxConnections must be at least 1: 0");
        assertThatThrownBy(() -> WsServer.builder()
                        .options(WsOptions.builder().maxPingsPerMinute(0).build()))
                .hasMessage("maxPingsPerMinute must be at least 1: 0");
        assertThatThrownBy(() -> WsServer.builder().ioThreads(0)).hasMessage("ioThreads must be at least 1: 0");
        assertThatThrownBy(() -> WsOptions.builder().maxMessageSize(0))
                .hasMessage("maxMessageSize must be at least 1: 0");
        assertThatThrownBy(() -> WsOptions.builder().maxFragments(-1))
                .hasMessage("maxFragments must be at least 1: -1");
        assertThatThrownBy(() -> WsServer.builder()
                        .options(WsOptions.builder().closeTimeout(Duration.ZERO).build()))
                .hasMessage("closeTimeout must be at least 1 ms: PT0S");
    }
}
