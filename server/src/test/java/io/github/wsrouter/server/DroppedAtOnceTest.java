package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.EchoRouter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many clients gone at once, as a network cut or a balancer restart leaves them: half with a FIN,
 * half with a reset, none with a close frame. Each connection is closed, and its router hears 1006
 * exactly once; a client that stays is served meanwhile and after. On the native adapter the
 * socket ends meet Undertow in tasks of the IO thread (see {@code FrameReader}); this holds them to
 * the same outcome as every other way a connection ends. Seen from raw sockets, a few rounds.
 */
@Timeout(120)
class DroppedAtOnceTest {

    private static final int DROPPED = 1_000;
    private static final int ROUNDS = 3;

    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void everyDroppedConnectionClosesOnceWith1006AndTheOneThatStaysIsServed(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer.Builder builder = WsServer.builder().port(0).route("/echo/", router);
        server = (jakarta ? builder.jakarta() : builder).build().start();
        try (RawWebSocket stays = RawWebSocket.connect(server.port(), "/echo/", 64 * 1024)) {
            router.await("open");
            for (int round = 1; round <= ROUNDS; round++) {
                List<RawWebSocket> clients = new ArrayList<>();
                for (int i = 0; i < DROPPED; i++) {
                    clients.add(RawWebSocket.connect(server.port(), "/echo/", 64 * 1024));
                }
                Set<Connection> opened = new HashSet<>();
                for (int i = 0; i < DROPPED; i++) {
                    opened.add(router.await("open").connection());
                }
                for (int i = 0; i < DROPPED; i++) {
                    if (i % 2 == 0) {
                        clients.get(i).close(); // FIN, no close frame
                    } else {
                        clients.get(i).abort(); // reset
                    }
                }
                stays.sendText("while they go, round " + round);
                assertThat(stays.read().text()).isEqualTo("while they go, round " + round);

                Set<Connection> closed = new HashSet<>();
                while (closed.size() < DROPPED) {
                    ObservedRouter.Event event = router.await("close", "error");
                    assertThat(opened)
                            .as("round %s: a close for a connection of this round", round)
                            .contains(event.connection());
                    assertThat(closed.add(event.connection()))
                            .as("round %s: one close per connection", round)
                            .isTrue();
                    assertThat(event.status().code())
                            .as("round %s", round)
                            .isEqualTo(CloseStatus.ABNORMAL_CLOSURE.code());
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> server.connectionCount() == 1);
                stays.sendText("after, round " + round);
                assertThat(stays.read().text()).isEqualTo("after, round " + round);
            }
        }
    }
}
