package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.server.WsServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The runner with {@code --require-token}: the seed's "anyone can connect as anyone" answered. A
 * token is taken from the {@code token.} subprotocol (what the chat page does) or the query; a
 * missing or forged one is refused with 401 and another user's with 403, before any upgrade.
 */
@Timeout(60)
class TokenHandshakeTest {

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private void start(boolean jakarta) {
        String[] args = jakarta
                ? new String[] {"--host", "127.0.0.1", "--port", "0", "--require-token", "s3cret", "--jakarta"}
                : new String[] {"--host", "127.0.0.1", "--port", "0", "--require-token", "s3cret"};
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        ExampleRunner.Launch launch = ExampleRunner.launch(args, quiet, quiet);
        assertThat(launch.exitCode()).isZero();
        server = launch.server();
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aTokenInTheSubprotocolAdmitsItsUserAndTheChatProtocolIsEchoed(boolean jakarta) throws Exception {
        start(jakarta);
        Queue alice = new Queue();
        WebSocket ws = http.newWebSocketBuilder()
                .subprotocols("wsrouter.chat", "token." + token("alice"))
                .buildAsync(uri("/ws/alice/"), alice)
                .get(10, TimeUnit.SECONDS);
        assertThat(ws.getSubprotocol()).isEqualTo("wsrouter.chat");

        ws.sendText("{\"to_user\":\"alice\",\"message\":\"note to self\"}", true)
                .get(10, TimeUnit.SECONDS);
        String received = alice.awaitTextContaining("note to self");
        assertThat(received).contains("\"from\":\"alice\"").contains("note to self");
        ws.sendClose(1000, "").get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aTokenInTheQueryAdmitsItsUserToo(boolean jakarta) throws Exception {
        start(jakarta);
        WebSocket ws = http.newWebSocketBuilder()
                .buildAsync(uri("/ws/alice/?token=" + token("alice")), new Queue())
                .get(10, TimeUnit.SECONDS);
        assertThat(ws.getSubprotocol()).isEmpty();
        ws.sendClose(1000, "").get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void missingForgedAndSomeoneElsesTokensAreRefusedBeforeTheUpgrade(boolean jakarta) throws Exception {
        start(jakarta);
        String bobs = token("bob");
        String[] parts = bobs.split("\\.");
        String forged = java.util.Base64.getUrlEncoder()
                        .withoutPadding()
                        .encodeToString("alice".getBytes(StandardCharsets.UTF_8))
                + "." + parts[1] + "." + parts[2];

        assertThat(refusal(http.newWebSocketBuilder(), "/ws/alice/"))
                .as("no token")
                .isEqualTo(401);
        assertThat(refusal(http.newWebSocketBuilder().subprotocols("wsrouter.chat", "token." + forged), "/ws/alice/"))
                .as("bob's signature on alice's name")
                .isEqualTo(401);
        assertThat(refusal(http.newWebSocketBuilder(), "/ws/alice/?token=not-a-token"))
                .as("garbage")
                .isEqualTo(401);
        assertThat(refusal(http.newWebSocketBuilder().subprotocols("wsrouter.chat", "token." + bobs), "/ws/alice/"))
                .as("bob's token on alice's path")
                .isEqualTo(403);
        assertThat(server.stats().rejectedHandshakes()).containsEntry("401", 3L).containsEntry("403", 1L);
    }

    private int refusal(WebSocket.Builder builder, String path) {
        var attempt = builder.buildAsync(uri(path), new Queue());
        int[] status = new int[1];
        assertThatThrownBy(() -> attempt.get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> status[0] = ((WebSocketHandshakeException) e.getCause())
                        .getResponse()
                        .statusCode());
        return status[0];
    }

    private String token(String user) throws Exception {
        HttpResponse<String> answer = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/token"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("user=" + user))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(200);
        String body = answer.body();
        int start = body.indexOf("\"token\":\"") + 9;
        return body.substring(start, body.indexOf('"', start));
    }

    private URI uri(String path) {
        return URI.create("ws://127.0.0.1:" + server.port() + path);
    }

    /** Whole text messages, in order. */
    private static final class Queue implements WebSocket.Listener {
        private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        /** The next text containing {@code wanted}, dropping the others (presence, stream positions). */
        String awaitTextContaining(String wanted) throws InterruptedException {
            for (; ; ) {
                String text = texts.poll(10, TimeUnit.SECONDS);
                assertThat(text).as("a text within 10 s").isNotNull();
                if (text.contains(wanted)) {
                    return text;
                }
            }
        }
    }
}
