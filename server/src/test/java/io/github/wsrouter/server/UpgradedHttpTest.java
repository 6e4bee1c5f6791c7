package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.server.undertow.WebSocketRoutes;
import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.ConnectorStatistics;
import io.undertow.server.ServerConnection;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Once a WebSocket is open, Undertow's HTTP connection it was upgraded from (its finished exchange,
 * header maps, parser and response conduit) is let go, unless something still needs it: bytes the
 * client sent with the upgrade request, or connector statistics.
 */
@Timeout(60)
class UpgradedHttpTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final List<Undertow> started = new ArrayList<>();
    /** Every HTTP connection a request came on, weakly. */
    private final ConcurrentLinkedQueue<WeakReference<ServerConnection>> httpConnections =
            new ConcurrentLinkedQueue<>();

    @AfterEach
    void stop() {
        started.forEach(Undertow::stop);
    }

    private int start(boolean statistics) {
        WebSocketRoutes routes =
                WebSocketRoutes.builder().route("/echo", EchoRouter.create()).build();
        Undertow undertow = Undertow.builder()
                .addHttpListener(0, "127.0.0.1")
                .setServerOption(UndertowOptions.ENABLE_STATISTICS, statistics)
                .setHandler(exchange -> {
                    httpConnections.add(new WeakReference<>(exchange.getConnection()));
                    routes.handleRequest(exchange);
                })
                .build();
        undertow.start();
        started.add(undertow);
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    private boolean everyHttpConnectionCollected() {
        System.gc();
        return httpConnections.stream().allMatch(reference -> reference.get() == null);
    }

    @Test
    void theHttpConnectionIsCollectedWhileTheWebSocketStaysOpen() throws Exception {
        int port = start(false);
        List<Peer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            peers.add(JdkPeer.connect(HTTP, URI.create("ws://127.0.0.1:" + port + "/echo")));
        }
        assertThat(httpConnections).hasSize(3);

        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(50))
                .until(this::everyHttpConnectionCollected);

        for (int i = 0; i < peers.size(); i++) { // the sockets serve on, and close as before
            peers.get(i).sendText("still here " + i);
            assertThat(peers.get(i).awaitText()).isEqualTo("still here " + i);
        }
        peers.get(0).close(CloseStatus.NORMAL);
        peers.get(1).abort();
        peers.get(2).sendText("last");
        assertThat(peers.get(2).awaitText()).isEqualTo("last");
        peers.get(2).close(CloseStatus.of(4000, "bye"));
    }

    @Test
    void framesSentWithTheUpgradeRequestAreReadFirst() throws Exception {
        int port = start(false);
        for (int round = 0; round < 20; round++) {
            byte[] first = RawWebSocket.maskedFrame(0x1, ("first " + round).getBytes(StandardCharsets.UTF_8));
            byte[] second = RawWebSocket.maskedFrame(0x1, ("second " + round).getBytes(StandardCharsets.UTF_8));
            byte[] both = new byte[first.length + second.length];
            System.arraycopy(first, 0, both, 0, first.length);
            System.arraycopy(second, 0, both, first.length, second.length);
            try (RawWebSocket socket = RawWebSocket.connect(port, "/echo", 64 * 1024, both)) {
                assertThat(socket.read().text()).isEqualTo("first " + round);
                assertThat(socket.read().text()).isEqualTo("second " + round);
                socket.sendText("third " + round);
                assertThat(socket.read().text()).isEqualTo("third " + round);
                socket.send(0x8, new byte[] {0x03, (byte) 0xE8});
                RawWebSocket.Frame close = socket.read();
                assertThat(close.opcode()).isEqualTo(0x8);
                assertThat(close.closeCode()).isEqualTo(1000);
                assertThat(socket.awaitEndOfStream()).isTrue();
            }
        }
    }

    @Test
    void connectorStatisticsCountTheWebSocketUntilItCloses() {
        int port = start(true);
        ConnectorStatistics statistics = started.get(0).getListenerInfo().get(0).getConnectorStatistics();
        Peer peer = JdkPeer.connect(HTTP, URI.create("ws://127.0.0.1:" + port + "/echo"));
        peer.sendText("counted");
        assertThat(peer.awaitText()).isEqualTo("counted");
        assertThat(statistics.getActiveConnections()).isEqualTo(1);

        peer.close(CloseStatus.NORMAL);
        await().atMost(Duration.ofSeconds(10)).until(() -> statistics.getActiveConnections() == 0);
    }
}
