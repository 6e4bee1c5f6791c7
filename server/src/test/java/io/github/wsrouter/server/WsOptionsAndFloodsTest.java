package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.RateLimit;
import io.github.wsrouter.WsOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Limits set per route over the server's, and the two floods Undertow has no setting for: a
 * message in endless fragments, and endless pings. On both adapters.
 */
@Timeout(60)
class WsOptionsAndFloodsTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private WsServer start(WsServer.Builder builder, boolean jakarta) {
        server = (jakarta ? builder.jakarta() : builder).port(0).build().start();
        return server;
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aRoutesOwnMessageLimitOverridesTheServersForThatRouteAlone(boolean jakarta) throws Exception {
        ObservedRouter small = new ObservedRouter(EchoRouter.create());
        start(
                WsServer.builder()
                        .options(WsOptions.builder().maxMessageSize(1024).build())
                        .route("/small/", small)
                        .route(
                                "/big/",
                                EchoRouter.create(),
                                WsOptions.builder().maxMessageSize(64 * 1024).build()),
                jakarta);
        String fourKiB = "x".repeat(4096);

        try (RawWebSocket big = RawWebSocket.connect(server.port(), "/big/")) {
            big.sendText(fourKiB);
            assertThat(big.read().text()).isEqualTo(fourKiB);
        }
        try (RawWebSocket limited = RawWebSocket.connect(server.port(), "/small/")) {
            small.awaitOpens(1);
            limited.sendText(fourKiB);
            RawWebSocket.Frame reply = limited.read();
            assertThat(reply.opcode()).isEqualTo(0x8);
            assertThat(reply.closeCode()).isEqualTo(1009);
        }
        assertThat(small.await("close", "error").status().code()).isEqualTo(1009);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aRoutesOwnRateLimitAppliesWhereTheServerHasNone(boolean jakarta) throws Exception {
        start(
                WsServer.builder()
                        .route("/free/", EchoRouter.create())
                        .route(
                                "/limited/",
                                EchoRouter.create(),
                                WsOptions.builder()
                                        .rateLimit(new RateLimit(0.001, 2, RateLimit.Exceeded.REPLY))
                                        .build()),
                jakarta);

        try (RawWebSocket free = RawWebSocket.connect(server.port(), "/free/")) {
            for (int i = 0; i < 5; i++) {
                free.sendText("m" + i);
                assertThat(free.read().text()).isEqualTo("m" + i);
            }
        }
        try (RawWebSocket limited = RawWebSocket.connect(server.port(), "/limited/")) {
            for (int i = 0; i < 2; i++) {
                limited.sendText("m" + i);
                assertThat(limited.read().text()).isEqualTo("m" + i);
            }
            limited.sendText("one too many");
            // echo has no error replies: the router's default answer is a 1008 close
            assertThat(limited.read().closeCode()).isEqualTo(1008);
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aMessageInMoreFragmentsThanTheCapClosesWith1008AndOthersCarryOn(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        start(
                WsServer.builder()
                        .options(WsOptions.builder().maxFragments(4).build())
                        .route("/echo/", router),
                jakarta);
        Peer bystander = JdkPeer.connect(HTTP, server.uri("/echo/"));

        try (RawWebSocket client = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(2);
            client.sendRaw(fragmented("abcd", 4));
            assertThat(client.read().text())
                    .as("four fragments are within the cap")
                    .isEqualTo("abcd");

            client.sendRaw(fragmented("abcde", 5));
            RawWebSocket.Frame reply = client.read();
            assertThat(reply.opcode()).isEqualTo(0x8);
            assertThat(reply.closeCode()).isEqualTo(1008);
            assertThat(reason(reply)).contains("fragments");
            client.setReadTimeout(10_000);
            assertThat(client.awaitEndOfStream())
                    .as("the server drops the offender")
                    .isTrue();
        }
        assertThat(router.await("close", "error").status().code()).isEqualTo(1008);
        bystander.sendText("still here");
        assertThat(bystander.awaitText()).isEqualTo("still here");
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void endlessEmptyContinuationFramesAreCutOffAtTheDefaultCap(boolean jakarta) throws Exception {
        start(WsServer.builder().route("/echo/", EchoRouter.create()), jakarta);
        try (RawWebSocket client = RawWebSocket.connect(server.port(), "/echo/")) {
            ByteArrayOutputStream flood = new ByteArrayOutputStream();
            flood.write(frame(false, 0x1, "a".getBytes(StandardCharsets.UTF_8)));
            byte[] empty = frame(false, 0x0, new byte[0]);
            for (int i = 0; i < 5000; i++) {
                flood.write(empty);
            }
            sendIgnoringReset(client, flood.toByteArray());
            RawWebSocket.Frame reply = client.read();
            assertThat(reply.closeCode()).isEqualTo(1008);
            assertThat(reason(reply)).contains("1024 fragments");
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void pingsOverThePerMinuteCapCloseWith1008(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        start(
                WsServer.builder()
                        .options(WsOptions.builder().maxPingsPerMinute(20).build())
                        .route("/echo/", router),
                jakarta);
        try (RawWebSocket client = RawWebSocket.connect(server.port(), "/echo/")) {
            router.awaitOpens(1);
            for (int i = 0; i < 20; i++) {
                client.send(0x9, ("p" + i).getBytes(StandardCharsets.UTF_8));
                RawWebSocket.Frame pong = client.read();
                assertThat(pong.opcode()).isEqualTo(0xA);
                assertThat(pong.text()).isEqualTo("p" + i);
            }
            client.sendText("messages still flow");
            assertThat(client.read().text()).isEqualTo("messages still flow");

            client.send(0x9, "one too many".getBytes(StandardCharsets.UTF_8));
            RawWebSocket.Frame reply = client.read();
            assertThat(reply.opcode()).isEqualTo(0x8);
            assertThat(reply.closeCode()).isEqualTo(1008);
            assertThat(reason(reply)).contains("pings");
        }
        assertThat(router.await("close", "error").status().code()).isEqualTo(1008);
    }

    @Test
    void routeOptionsRefuseNonsense() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> WsOptions.builder().maxMessageSize(0))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> WsOptions.builder().maxFragments(0))
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> WsServer.builder()
                        .options(WsOptions.builder().maxPingsPerMinute(0).build()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static String reason(RawWebSocket.Frame close) {
        byte[] payload = close.payload();
        return payload.length <= 2 ? "" : new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
    }

    /** A text message split into {@code parts} masked frames. */
    private static byte[] fragmented(String text, int parts) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int per = bytes.length / parts;
        for (int i = 0; i < parts; i++) {
            int from = i * per;
            int to = i == parts - 1 ? bytes.length : from + per;
            byte[] part = java.util.Arrays.copyOfRange(bytes, from, to);
            out.write(frame(i == parts - 1, i == 0 ? 0x1 : 0x0, part));
        }
        return out.toByteArray();
    }

    /** One masked frame, short payloads only. */
    private static byte[] frame(boolean fin, int opcode, byte[] payload) {
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) ((fin ? 0x80 : 0) | opcode);
        frame[1] = (byte) (0x80 | payload.length);
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /** The server may close while the flood is still being written: that is the point. */
    private static void sendIgnoringReset(RawWebSocket client, byte[] bytes) {
        try {
            client.sendRaw(bytes);
        } catch (IOException closedMeanwhile) {
            // the close frame was sent before the socket went; it is read next
        }
    }
}
