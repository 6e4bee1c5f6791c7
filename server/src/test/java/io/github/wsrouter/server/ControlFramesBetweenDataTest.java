package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.Connection;
import io.github.wsrouter.MessageRouter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Data frames the server writes and control frames Undertow writes (pongs, the close frame) share
 * one socket: seen from a raw socket that does not read while the server has a megabyte for it,
 * every frame arrives whole, the data in order, each pong after the data queued before its ping
 * was answered, and the close frame last.
 */
class ControlFramesBetweenDataTest {

    private static final int ROUNDS = 20;
    private static final int MESSAGES = 100;
    private static final int PINGS = 20;

    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    /** On "burst N SIZE": N messages of SIZE bytes, text and binary in turn, each naming its index. */
    private static final class Burst implements MessageRouter {
        @Override
        public void onText(Connection connection, String text) {
            String[] words = text.split(" ");
            int n = Integer.parseInt(words[1]);
            int size = Integer.parseInt(words[2]);
            for (int i = 0; i < n; i++) {
                byte[] body = body(i, size);
                if (i % 2 == 0) {
                    connection.sendText(new String(body, StandardCharsets.US_ASCII));
                } else {
                    connection.sendBinary(ByteBuffer.wrap(body));
                }
            }
        }
    }

    private static byte[] body(int index, int size) {
        byte[] body = new byte[size];
        java.util.Arrays.fill(body, (byte) ('a' + index % 26));
        byte[] name = (index + ":").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(name, 0, body, 0, name.length);
        return body;
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void pongsAndTheCloseFrameGoBetweenWholeDataFrames(boolean jakarta) throws Exception {
        WsServer.Builder builder = WsServer.builder().port(0).route("/burst", new Burst());
        server = (jakarta ? builder.jakarta() : builder).build().start();
        int size = 10_000;
        for (int round = 0; round < ROUNDS; round++) {
            try (RawWebSocket ws = RawWebSocket.connect(server.port(), "/burst", 4096)) {
                ws.sendText("burst " + MESSAGES + " " + size);
                for (int p = 0; p < PINGS; p++) {
                    ws.send(0x9, ("ping-" + round + "-" + p).getBytes(StandardCharsets.US_ASCII));
                }
                ws.send(0x8, new byte[] {0x03, (byte) 0xE8}); // 1000, while the server still writes
                List<String> pongs = new ArrayList<>();
                int data = 0;
                RawWebSocket.Frame close = null;
                while (close == null) {
                    RawWebSocket.Frame frame = ws.read();
                    switch (frame.opcode()) {
                        case 0x1, 0x2 -> {
                            assertThat(frame.opcode())
                                    .as("round %d: text and binary in turn", round)
                                    .isEqualTo(data % 2 == 0 ? 0x1 : 0x2);
                            assertThat(frame.payload())
                                    .as("round %d, message %d", round, data)
                                    .isEqualTo(body(data, size));
                            data++;
                        }
                        case 0xA -> pongs.add(frame.text());
                        case 0x8 -> close = frame;
                        default -> throw new AssertionError("round " + round + ": unexpected opcode " + frame.opcode());
                    }
                }
                assertThat(data)
                        .as("round %d: every message before the close frame", round)
                        .isEqualTo(MESSAGES);
                assertThat(pongs)
                        .as("round %d: a pong per ping, in order", round)
                        .hasSize(PINGS);
                for (int p = 0; p < PINGS; p++) {
                    assertThat(pongs.get(p)).isEqualTo("ping-" + round + "-" + p);
                }
                assertThat(close.closeCode()).isEqualTo(1000);
                assertThat(ws.awaitEndOfStream())
                        .as("round %d: nothing after the close frame", round)
                        .isTrue();
            }
        }
    }
}
