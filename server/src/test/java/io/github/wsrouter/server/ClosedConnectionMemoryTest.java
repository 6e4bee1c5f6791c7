package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.WsOptions;
import java.lang.ref.WeakReference;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A connection whose closing handshake completed is not kept until its close timeout runs out:
 * after many clients leave at once, their memory is free at once, not seconds later.
 */
@Timeout(60)
class ClosedConnectionMemoryTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private final ConcurrentLinkedQueue<WeakReference<Connection>> opened = new ConcurrentLinkedQueue<>();
    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private boolean everyConnectionCollected() {
        System.gc();
        return opened.stream().allMatch(reference -> reference.get() == null);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void connectionsClosedByEitherSideAreCollectedLongBeforeTheCloseTimeout(boolean jakarta) {
        MessageRouter router = new MessageRouter() {
            @Override
            public void onOpen(Connection connection) {
                opened.add(new WeakReference<>(connection));
            }

            @Override
            public void onText(Connection connection, String text) {
                connection.close(CloseStatus.of(4001, "asked to"));
            }
        };
        server = WsServer.builder()
                .port(0)
                .options(
                        WsOptions.builder().closeTimeout(Duration.ofSeconds(60)).build())
                .route("/leave", router)
                .build()
                .start();

        List<Peer> peers = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            peers.add(JdkPeer.connect(HTTP, server.uri("/leave")));
        }
        for (int i = 0; i < peers.size(); i++) {
            if (i % 2 == 0) {
                peers.get(i).close(CloseStatus.NORMAL); // the client closes, the server answers
            } else {
                peers.get(i).sendText("bye"); // the server closes, the client answers
                assertThat(peers.get(i).awaitClose().code()).isEqualTo(4001);
            }
        }
        assertThat(opened).hasSize(20);
        await().atMost(Duration.ofSeconds(20)).until(() -> server.connectionCount() == 0);

        // the close timeout is 60 s: a connection its timer kept would outlive this wait
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(50))
                .until(this::everyConnectionCollected);
    }
}
