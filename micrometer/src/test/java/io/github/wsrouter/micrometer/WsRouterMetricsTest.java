package io.github.wsrouter.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.wsrouter.Connection;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.Relay;
import io.github.wsrouter.RouteStats;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.ServerStats;
import io.github.wsrouter.server.WsServer;
import io.github.wsrouter.server.undertow.WebSocketRoutes;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real server, real clients: every documented meter reads the server's counters, with the
 * right tags.
 */
@Timeout(60)
class WsRouterMetricsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** Every meter that the class javadoc and docs/metrics.md document. */
    private static final Set<String> DOCUMENTED = Set.of(
            "wsrouter.connections",
            "wsrouter.connections.opened",
            "wsrouter.connections.closed",
            "wsrouter.messages.received",
            "wsrouter.messages.sent",
            "wsrouter.payload.received",
            "wsrouter.payload.sent",
            "wsrouter.error.replies",
            "wsrouter.slow.consumer.closes",
            "wsrouter.messages.dropped",
            "wsrouter.send.queued",
            "wsrouter.handshakes.rejected",
            "wsrouter.relay.published",
            "wsrouter.relay.received",
            "wsrouter.relay.publish.failures",
            "wsrouter.relay.dropped",
            "wsrouter.relay.subscription.losses",
            "wsrouter.relay.resubscriptions",
            "wsrouter.relay.offset.gaps",
            "wsrouter.relay.repaired",
            "wsrouter.relay.gaps.reported",
            "wsrouter.relay.inbound.dropped",
            "wsrouter.relay.inbound.pending",
            "wsrouter.relay.presence.stale");

    private static final String ECHO = "/echo/";
    private static final String USERS = "/ws/{username}/";
    private static final String DROP = "/drop/";
    private static final String SLOW = "/slow/";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void everyDocumentedMeterReadsTheServersCountersWithItsTags() throws Exception {
        server = WsServer.builder()
                .port(0)
                .options(WsOptions.builder()
                        .closeTimeout(Duration.ofMillis(500))
                        .handshakeHook(request -> "deny".equals(request.queryParameter("token"))
                                ? HandshakeDecision.reject(401, "no")
                                : HandshakeDecision.accept())
                        .build())
                .route(ECHO, EchoRouter.create())
                .route(USERS, DirectedJsonRouter.create())
                .route(
                        DROP,
                        new Flood(),
                        WsOptions.builder()
                                .sendBuffer(64 * 1024, SendOverflow.DROP)
                                .build())
                .route(
                        SLOW,
                        new Flood(),
                        WsOptions.builder()
                                .sendBuffer(64 * 1024, SendOverflow.CLOSE)
                                .build())
                .build()
                .start();
        AtomicReference<Relay.Stats> relay =
                new AtomicReference<>(new Relay.Stats(4, 1, 7, 2, 3, 3, 1, 40, 2, 5, 1024, 1));
        WsRouterMetrics.of(server::stats, relay::get).bindTo(registry);

        // every meter is there before any traffic, at zero
        assertThat(meterNames()).isEqualTo(DOCUMENTED);
        for (String route : List.of(ECHO, USERS, DROP, SLOW)) {
            assertThat(gauge("wsrouter.connections", "route", route)).isZero();
            assertThat(counter("wsrouter.connections.opened", "route", route)).isZero();
        }
        assertThat(counter("wsrouter.handshakes.rejected", "reason", "origin")).isZero();
        assertThat(counter("wsrouter.handshakes.rejected", "reason", "capacity"))
                .isZero();
        assertThat(gauge("wsrouter.send.queued")).isZero();

        // echo: two messages each way, 5 characters and 3 bytes
        Client echo = Client.connect(server, ECHO);
        echo.ws.sendText("hello", true).get(10, TimeUnit.SECONDS);
        assertThat(echo.next()).isEqualTo("hello");
        echo.ws.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}), true).get(10, TimeUnit.SECONDS);
        assertThat(echo.next()).isEqualTo("3 bytes");

        // directed JSON: a message that is not JSON gets an error reply
        Client alice = Client.connect(server, "/ws/alice/");
        alice.ws.sendText("not json", true).get(10, TimeUnit.SECONDS);
        assertThat(alice.next()).contains("error");

        await().atMost(TIMEOUT).untilAsserted(() -> {
            assertThat(gauge("wsrouter.connections", "route", ECHO)).isEqualTo(1);
            assertThat(gauge("wsrouter.connections", "route", USERS)).isEqualTo(1);
            assertThat(counter("wsrouter.connections.opened", "route", ECHO)).isEqualTo(1);
            assertThat(counter("wsrouter.messages.received", "route", ECHO)).isEqualTo(2);
            assertThat(counter("wsrouter.messages.sent", "route", ECHO)).isEqualTo(2);
            assertThat(counter("wsrouter.payload.received", "route", ECHO)).isEqualTo(8);
            assertThat(counter("wsrouter.payload.sent", "route", ECHO)).isEqualTo(8);
            assertThat(counter("wsrouter.messages.received", "route", USERS)).isEqualTo(1);
            assertThat(counter("wsrouter.messages.sent", "route", USERS)).isEqualTo(1);
            assertThat(counter("wsrouter.error.replies", "route", USERS)).isEqualTo(1);
            assertThat(counter("wsrouter.error.replies", "route", ECHO)).isZero();
        });

        // refused handshakes: a page of another origin, and a hook's 401
        assertThatThrownBy(() -> HTTP.newWebSocketBuilder()
                        .header("Origin", "http://evil.example")
                        .buildAsync(server.uri(ECHO), new WebSocket.Listener() {})
                        .get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(WebSocketHandshakeException.class);
        assertThatThrownBy(() -> HTTP.newWebSocketBuilder()
                        .buildAsync(server.uri(ECHO + "?token=deny"), new WebSocket.Listener() {})
                        .get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(WebSocketHandshakeException.class);
        await().atMost(TIMEOUT).untilAsserted(() -> {
            assertThat(counter("wsrouter.handshakes.rejected", "reason", "origin"))
                    .isEqualTo(1);
            // a reason first seen after binding is registered on the next read of the meters
            gauge("wsrouter.send.queued");
            assertThat(registry.find("wsrouter.handshakes.rejected")
                            .tag("reason", "401")
                            .functionCounter())
                    .isNotNull();
            assertThat(counter("wsrouter.handshakes.rejected", "reason", "401")).isEqualTo(1);
        });

        // a client that does not read: its send buffer stays full and the rest is dropped
        Client dropping = Client.connect(server, DROP, false);
        dropping.ws.sendText("flood", true).get(10, TimeUnit.SECONDS);
        await().atMost(TIMEOUT).untilAsserted(() -> {
            assertThat(counter("wsrouter.messages.dropped", "route", DROP))
                    .as(server.stats().toString())
                    .isPositive();
            assertThat(gauge("wsrouter.send.queued"))
                    .as(server.stats().toString())
                    .isPositive();
            assertThat(gauge("wsrouter.connections", "route", DROP)).isEqualTo(1);
        });
        assertThat(counter("wsrouter.slow.consumer.closes", "route", DROP)).isZero();
        assertThat(gauge("wsrouter.send.queued")).isLessThanOrEqualTo(64 * 1024 + Flood.SIZE);

        // the same with the CLOSE policy: closed as a slow consumer
        Client slow = Client.connect(server, SLOW, false);
        slow.ws.sendText("flood", true).get(10, TimeUnit.SECONDS);
        await().atMost(TIMEOUT).untilAsserted(() -> {
            assertThat(counter("wsrouter.slow.consumer.closes", "route", SLOW)).isEqualTo(1);
            assertThat(counter("wsrouter.connections.closed", "route", SLOW)).isEqualTo(1);
            assertThat(gauge("wsrouter.connections", "route", SLOW)).isZero();
        });
        assertThat(counter("wsrouter.messages.dropped", "route", SLOW)).isZero();

        // every client goes: every route opened one connection and closed it
        dropping.ws.abort();
        slow.ws.abort();
        echo.close();
        alice.close();
        await().atMost(TIMEOUT).untilAsserted(() -> {
            for (String route : List.of(ECHO, USERS, DROP, SLOW)) {
                assertThat(gauge("wsrouter.connections", "route", route))
                        .as(route)
                        .isZero();
                assertThat(counter("wsrouter.connections.opened", "route", route))
                        .as(route)
                        .isEqualTo(1);
                assertThat(counter("wsrouter.connections.closed", "route", route))
                        .as(route)
                        .isEqualTo(1);
            }
            assertThat(gauge("wsrouter.send.queued")).isZero();
        });

        // at rest, each per-route meter reads exactly its route's counter
        ServerStats stats = server.stats();
        for (Map.Entry<String, RouteStats> route : stats.routes().entrySet()) {
            String template = route.getKey();
            RouteStats counters = route.getValue();
            assertThat(counter("wsrouter.messages.received", "route", template)).isEqualTo(counters.messagesIn());
            assertThat(counter("wsrouter.messages.sent", "route", template)).isEqualTo(counters.messagesOut());
            assertThat(counter("wsrouter.payload.received", "route", template)).isEqualTo(counters.bytesIn());
            assertThat(counter("wsrouter.payload.sent", "route", template)).isEqualTo(counters.bytesOut());
            assertThat(counter("wsrouter.messages.dropped", "route", template)).isEqualTo(counters.droppedMessages());
        }
        assertThat(counter("wsrouter.messages.sent", "route", DROP)).isPositive();
        assertThat(counter("wsrouter.payload.sent", "route", SLOW)).isPositive();
        assertThat(stats.rejectedHandshakes()).containsExactlyInAnyOrderEntriesOf(Map.of("origin", 1L, "401", 1L));

        // the relay's counters, read from its supplier
        assertThat(counter("wsrouter.relay.published")).isEqualTo(4);
        assertThat(counter("wsrouter.relay.publish.failures")).isEqualTo(1);
        assertThat(counter("wsrouter.relay.received")).isEqualTo(7);
        assertThat(counter("wsrouter.relay.dropped")).isEqualTo(2);
        assertThat(counter("wsrouter.relay.subscription.losses")).isEqualTo(3);
        assertThat(counter("wsrouter.relay.repaired")).isEqualTo(40);
        assertThat(counter("wsrouter.relay.gaps.reported")).isEqualTo(2);
        assertThat(counter("wsrouter.relay.inbound.dropped")).isEqualTo(5);
        assertThat(registry.get("wsrouter.relay.inbound.pending").gauge().value())
                .isEqualTo(1024);
        relay.set(new Relay.Stats(5, 1, 9, 2, 4, 4, 1, 40, 2, 5, 0, 1));
        await().atMost(TIMEOUT).untilAsserted(() -> {
            assertThat(counter("wsrouter.relay.published")).isEqualTo(5);
            assertThat(counter("wsrouter.relay.received")).isEqualTo(9);
        });

        // byte meters carry their unit
        assertThat(registry.get("wsrouter.payload.sent").meters())
                .allSatisfy(meter -> assertThat(meter.getId().getBaseUnit()).isEqualTo("bytes"));
        assertThat(registry.get("wsrouter.send.queued").gauge().getId().getBaseUnit())
                .isEqualTo("bytes");
    }

    @Test
    void aServerWithoutRelayHasNoRelayMeters() {
        server = WsServer.builder().port(0).route(ECHO, EchoRouter.create()).build();
        WsRouterMetrics.of(server).bindTo(registry);
        Set<String> expected = new TreeSet<>(DOCUMENTED);
        expected.removeIf(name -> name.startsWith("wsrouter.relay."));
        assertThat(meterNames()).isEqualTo(expected);
        assertThat(registry.get("wsrouter.connections").gauges()).hasSize(1);
    }

    @Test
    void routesMountedInAnotherUndertowAndExtraTags() {
        WebSocketRoutes routes = WebSocketRoutes.builder()
                .route(ECHO, EchoRouter.create())
                .route("/rooms/{room}/", EchoRouter.create())
                .build();
        WsRouterMetrics.of(routes).withTags(Tags.of("server", "public")).bindTo(registry);
        assertThat(registry.get("wsrouter.connections").tag("server", "public").gauges())
                .extracting(gauge -> gauge.getId().getTag("route"))
                .containsExactlyInAnyOrder(ECHO, "/rooms/{room}/");
        assertThat(registry.getMeters())
                .allSatisfy(meter -> assertThat(meter.getId().getTag("server")).isEqualTo("public"));
    }

    @Test
    void docsPageListsEveryMeter() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "metrics.md"), StandardCharsets.UTF_8);
        for (String name : DOCUMENTED) {
            assertThat(page).contains("`" + name + "`");
        }
    }

    private Set<String> meterNames() {
        return registry.getMeters().stream()
                .map(meter -> meter.getId().getName())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private double counter(String name, String... tags) {
        FunctionCounter counter = registry.get(name).tags(tags).functionCounter();
        return counter.count();
    }

    private double gauge(String name, String... tags) {
        Gauge gauge = registry.get(name).tags(tags).gauge();
        return gauge.value();
    }

    /**
     * On "flood", keeps sending its sender 16 KiB messages, two more for each one written, until
     * the peer stops taking them (at most 64 MiB): its send buffer then stays full.
     */
    private static final class Flood implements MessageRouter {
        static final int SIZE = 16 * 1024;
        private static final String PAYLOAD = "x".repeat(SIZE);

        @Override
        public void onText(Connection connection, String text) {
            AtomicInteger left = new AtomicInteger(4096);
            for (int i = 0; i < 8; i++) {
                send(connection, left);
            }
        }

        private static void send(Connection connection, AtomicInteger left) {
            if (left.getAndDecrement() > 0) {
                connection.sendText(PAYLOAD).thenRun(() -> {
                    send(connection, left);
                    send(connection, left);
                });
            }
        }
    }

    /** A JDK WebSocket client that records what it receives; one that does not read never asks for more. */
    private static final class Client implements WebSocket.Listener {
        private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        private final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final boolean reads;
        private final StringBuilder text = new StringBuilder();
        private WebSocket ws;

        private Client(boolean reads) {
            this.reads = reads;
        }

        static Client connect(WsServer server, String path) throws Exception {
            return connect(server, path, true);
        }

        static Client connect(WsServer server, String path, boolean reads) throws Exception {
            Client client = new Client(reads);
            client.ws = HTTP.newWebSocketBuilder()
                    .buildAsync(server.uri(path), client)
                    .get(10, TimeUnit.SECONDS);
            return client;
        }

        String next() throws InterruptedException {
            String message = received.poll(10, TimeUnit.SECONDS);
            assertThat(message).as("a message within 10 s").isNotNull();
            return message;
        }

        void close() throws Exception {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
            assertThat(closed.get(10, TimeUnit.SECONDS)).isEqualTo(WebSocket.NORMAL_CLOSURE);
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            if (reads) {
                webSocket.request(1);
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                received.add(text.toString());
                text.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            received.add(data.remaining() + " bytes");
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
