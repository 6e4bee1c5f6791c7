package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.WsOptions;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Frames a WebSocket client library would refuse to send, from a raw client: the offender is closed
 * with the RFC's code, and another client on the same server carries on.
 */
@Timeout(60)
class ProtocolViolationTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    @ParameterizedTest(name = "jakarta={0}: {1}")
    @CsvSource({
        // masked frames use the mask key 00000000, so the payload bytes read as they are
        "false, invalid UTF-8 text,              81 82 00000000 C328,                 1007",
        "true,  invalid UTF-8 text,              81 82 00000000 C328,                 1007",
        "false, invalid UTF-8 split in fragments, 01 81 00000000 C3 80 81 00000000 28, 1007",
        "true,  invalid UTF-8 split in fragments, 01 81 00000000 C3 80 81 00000000 28, 1007",
        "false, unmasked client frame,           81 02 6869,                          1002",
        "true,  unmasked client frame,           81 02 6869,                          1002",
        "false, RSV bits without an extension,   C1 82 00000000 6869,                 1002",
        "true,  RSV bits without an extension,   C1 82 00000000 6869,                 1002",
        "false, reserved opcode,                 83 82 00000000 6869,                 1002",
        "true,  reserved opcode,                 83 82 00000000 6869,                 1002",
        "false, fragmented control frame,        09 80 00000000,                      1002",
        "true,  fragmented control frame,        09 80 00000000,                      1002",
        "false, invalid close code 999,          88 82 00000000 03E7,                 1002",
        "true,  invalid close code 999,          88 82 00000000 03E7,                 1002",
    })
    void aViolationClosesTheOffenderWithTheRfcCodeAndOthersCarryOn(
            boolean jakarta, String what, String frames, int expectedCode) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer.Builder builder = WsServer.builder().port(0).route("/echo/", router);
        server = (jakarta ? builder.jakarta() : builder).build().start();
        Peer bystander = JdkPeer.connect(HTTP, server.uri("/echo/"));
        try (RawWebSocket offender = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(2);
            offender.sendRaw(RawWebSocket.hex(frames));
            RawWebSocket.Frame reply = offender.read();
            assertThat(reply.opcode()).as(what).isEqualTo(0x8);
            assertThat(reply.closeCode()).as(what).isEqualTo(expectedCode);
        }
        bystander.sendText("still here");
        assertThat(bystander.awaitText()).isEqualTo("still here");
    }

    /**
     * A message that came just before a forbidden header is answered before the close code
     * (Autobahn 4.1.5's and 5.15's order, from a client that writes byte by byte and does not
     * wait): the close goes after what the container does with the bytes read before the header,
     * the message's delivery included, which Undertow's Jakarta container runs a task later.
     */
    @ParameterizedTest(name = "jakarta={0}: {1}")
    @CsvSource({
        "false, reserved opcode 7,                     false, 87 8D",
        "true,  reserved opcode 7,                     false, 87 8D",
        "false, unmasked text,                         false, 81 05",
        "true,  unmasked text,                         false, 81 05",
        "false, continuation after a fragmented one,   true,  00 89",
        "true,  continuation after a fragmented one,   true,  00 89",
    })
    void aMessageJustBeforeAForbiddenHeaderIsAnsweredBeforeTheCloseCode(
            boolean jakarta, String what, boolean fragmented, String header) throws Exception {
        WsServer.Builder builder = WsServer.builder().port(0).route("/echo/", EchoRouter.create());
        server = (jakarta ? builder.jakarta() : builder).build().start();
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        if (fragmented) {
            byte[] first = RawWebSocket.maskedFrame(0x1, "Hello, ".getBytes(StandardCharsets.UTF_8));
            first[0] = 0x01; // not final: the continuation after it ends the message
            message.writeBytes(first);
            message.writeBytes(RawWebSocket.maskedFrame(0x0, "world!".getBytes(StandardCharsets.UTF_8)));
        } else {
            message.writeBytes(RawWebSocket.maskedFrame(0x1, "Hello, world!".getBytes(StandardCharsets.UTF_8)));
        }
        message.writeBytes(RawWebSocket.hex(header));
        byte[] bytes = message.toByteArray();
        Map<String, Integer> failures = new TreeMap<>();
        int rounds = 100;
        for (int round = 0; round < rounds; round++) {
            try (RawWebSocket client = RawWebSocket.connect(server.port(), "/echo/")) {
                client.setNoDelay();
                client.sendByteByByte(bytes);
                RawWebSocket.Frame first = client.read();
                RawWebSocket.Frame second = first.opcode() == 0x8 ? first : client.read();
                String failure = first.opcode() != 0x1
                        ? "the close came first"
                        : !first.text().equals("Hello, world!")
                                ? "echoed " + first.text()
                                : second.opcode() != 0x8 || second.closeCode() != 1002
                                        ? "then opcode " + second.opcode()
                                        : null;
                if (failure != null) {
                    failures.merge(failure, 1, Integer::sum);
                }
            }
        }
        assertThat(failures)
                .as(what + ": failed rounds of " + rounds + " by cause")
                .isEmpty();
    }

    /** An empty message is an ordinary message, not one over the limit (Autobahn 1.1.1, 1.2.1). */
    @ParameterizedTest(name = "jakarta={0}: opcode {1}")
    @CsvSource({"false, 1", "true, 1", "false, 2", "true, 2"})
    void anEmptyMessageIsEchoedNotRefusedAsTooBig(boolean jakarta, int opcode) throws Exception {
        WsServer.Builder builder = WsServer.builder()
                .port(0)
                .options(WsOptions.builder().maxMessageSize(16 * 1024 * 1024).build())
                .route("/echo/", EchoRouter.create());
        server = (jakarta ? builder.jakarta() : builder).build().start();
        try (RawWebSocket client = RawWebSocket.connect(server.port(), "/echo/")) {
            client.send(opcode, new byte[0]);
            RawWebSocket.Frame reply = client.read();
            assertThat(reply.opcode()).isEqualTo(opcode);
            assertThat(reply.payload()).isEmpty();
            client.sendText("after");
            assertThat(client.read().text()).isEqualTo("after");
        }
    }
}
