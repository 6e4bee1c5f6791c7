package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.WsOptions;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A client that stops reading while a broadcast goes on: its send buffer fills, the overflow
 * policy applies to it alone, and every other client receives every message, in order.
 */
@Timeout(120)
class SlowConsumerTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final int MESSAGES = 20_000;
    private static final String PADDING = "x".repeat(1000);
    private static final int WINDOW = 200;

    @ParameterizedTest(name = "jakarta={0}, overflow={1}")
    @CsvSource({"false, CLOSE", "true, CLOSE", "false, DROP", "true, DROP"})
    void aClientThatStopsReadingDoesNotHoldUpTheOthers(boolean jakarta, SendOverflow overflow) throws Exception {
        ObservedRouter router = new ObservedRouter(BroadcastRouter.create());
        WsServer.Builder builder = WsServer.builder()
                .port(0)
                .options(WsOptions.builder()
                        .closeTimeout(Duration.ofSeconds(1))
                        .sendBuffer(1024 * 1024, overflow)
                        .build())
                .route("/ws/", router);
        WsServer server = (jakarta ? builder.jakarta() : builder).build().start();
        ExecutorService pool = Executors.newCachedThreadPool();
        try (RawWebSocket slow = RawWebSocket.connect(server.port(), "/ws/")) {
            List<Peer> readers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                readers.add(JdkPeer.connect(HTTP, server.uri("/ws/")));
            }
            Peer sender = JdkPeer.connect(HTTP, server.uri("/ws/"));
            readers.add(sender);
            router.awaitOpens(6);

            // Healthy readers are kept within a window of the sender, so that only the reader that
            // stopped reading can fill its send buffer; the window is well under the bound.
            List<Semaphore> windows = new ArrayList<>();
            List<Future<String>> checks = new ArrayList<>();
            for (Peer reader : readers) {
                Semaphore window = new Semaphore(WINDOW);
                windows.add(window);
                checks.add(pool.submit(() -> {
                    for (int n = 0; n < MESSAGES; n++) {
                        String message = reader.awaitText();
                        window.release();
                        if (!message.startsWith(n + ":")) {
                            return "expected message " + n + " but got " + message.substring(0, 12);
                        }
                    }
                    return "ok";
                }));
            }
            for (int n = 0; n < MESSAGES; n++) {
                for (Semaphore window : windows) {
                    assertThat(window.tryAcquire(30, TimeUnit.SECONDS))
                            .as("reader progress at %d", n)
                            .isTrue();
                }
                sender.sendText(n + ":" + PADDING);
            }
            for (Future<String> check : checks) {
                assertThat(check.get(100, TimeUnit.SECONDS)).isEqualTo("ok");
            }

            if (overflow == SendOverflow.CLOSE) {
                assertThat(router.await("close", "error").status().code()).isEqualTo(4000);
                assertThat(server.slowConsumerCloses()).isEqualTo(1);
                assertThat(server.droppedMessages()).isZero();
                assertThat(server.connectionCount()).isEqualTo(5);
            } else {
                assertThat(server.droppedMessages()).isPositive();
                assertThat(server.slowConsumerCloses()).isZero();
                assertThat(server.connectionCount()).isEqualTo(6);
            }
        } finally {
            pool.shutdownNow();
            server.stop();
        }
    }
}
