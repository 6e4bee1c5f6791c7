package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.Connection;
import io.github.wsrouter.MessageRouter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a router sends while a connection opens (a history replay, say) leaves right behind the 101
 * and arrives whole and in order, however much it is: seen from a raw socket that reads the 101
 * and the first frames in one 16 KiB read, as the JDK's client does, with a burst several times
 * that, many rounds in a row, on both adapters. (On the native adapter the burst is queued before
 * the 101 is written, and leaves right after it.) The connection is live afterwards: an echo comes
 * back after the burst.
 *
 * <p>The JDK's {@code java.net.http.WebSocket} (17.0.15) can stall when more than its first read
 * (16 KiB by default, {@code jdk.httpclient.bufsize}) arrives right behind the 101: the bytes leave
 * the kernel and never reach the listener. That is why this runs on a raw socket, and why the test
 * modules that use the JDK client raise {@code jdk.httpclient.bufsize}.
 */
class BurstBehindTheUpgradeTest {

    private static final int ROUNDS = 40;
    /** About 90 KB: several times a client's first read. */
    private static final int MESSAGES = 1500;

    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    /** Sends the numbered burst from {@code onOpen}; echoes what it is sent. */
    private static final class Burst implements MessageRouter {
        @Override
        public void onOpen(Connection connection) {
            for (int i = 1; i <= MESSAGES; i++) {
                connection.sendText(message(i));
            }
        }

        @Override
        public void onText(Connection connection, String text) {
            connection.sendText(text);
        }
    }

    private static String message(int i) {
        return "{\"replayed\":" + i + ",\"text\":\"a message the client missed while away\"}";
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void everyFrameSentWhileOpeningArrivesWholeAndInOrderThenTheConnectionIsLive(boolean jakarta) throws Exception {
        WsServer.Builder builder = WsServer.builder().port(0).route("/burst/", new Burst());
        server = (jakarta ? builder.jakarta() : builder).build().start();
        for (int round = 1; round <= ROUNDS; round++) {
            try (RawWebSocket client = RawWebSocket.connect(server.port(), "/burst/")) {
                for (int i = 1; i <= MESSAGES; i++) {
                    RawWebSocket.Frame frame = client.read();
                    assertThat(frame.opcode())
                            .as("round %s, frame %s", round, i)
                            .isEqualTo(0x1);
                    assertThat(frame.text()).as("round %s", round).isEqualTo(message(i));
                }
                client.sendText("after the burst " + round);
                RawWebSocket.Frame echo = client.read();
                assertThat(echo.text()).as("round %s", round).isEqualTo("after the burst " + round);
            }
        }
    }
}
