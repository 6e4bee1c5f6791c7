package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.WsOptions;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A handshake hook that reads a token from the offered subprotocols and chooses one to echo, as
 * RFC 6455 requires: the way a browser page authenticates, since it cannot set headers.
 */
@Timeout(30)
class SubprotocolTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private WsServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private ObservedRouter startWithTokenHook(boolean jakarta) {
        ObservedRouter router = new ObservedRouter(EchoRouter.create());
        WsServer.Builder builder = WsServer.builder()
                .port(0)
                .route("/echo/", router)
                .options(WsOptions.builder()
                        .handshakeHook(request -> {
                            if (request.subprotocols().contains("token.alice-secret")) {
                                return HandshakeDecision.acceptAs("alice").withSubprotocol("chat");
                            }
                            if (request.subprotocols().contains("token.buggy")) {
                                return HandshakeDecision.accept().withSubprotocol("never-offered");
                            }
                            return HandshakeDecision.reject(401, "a token is required");
                        })
                        .build());
        server = (jakarta ? builder.jakarta() : builder).build().start();
        return router;
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void theChosenSubprotocolIsEchoedAndTheConnectionCarriesIt(boolean jakarta) throws Exception {
        ObservedRouter router = startWithTokenHook(jakarta);
        RecordingListener listener = new RecordingListener();
        WebSocket ws = HTTP.newWebSocketBuilder()
                .subprotocols("chat", "token.alice-secret")
                .buildAsync(server.uri("/echo/"), listener)
                .get(10, TimeUnit.SECONDS);

        assertThat(ws.getSubprotocol()).isEqualTo("chat");
        ObservedRouter.Event open = router.await("open");
        assertThat(open.connection().subprotocol()).isEqualTo("chat");
        assertThat(open.connection().identity()).isEqualTo("alice");
        ws.sendText("hello", true).get(10, TimeUnit.SECONDS);
        assertThat(listener.awaitText()).isEqualTo("hello");
        ws.sendClose(1000, "").get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aWrongTokenIsRefusedBeforeTheUpgrade(boolean jakarta) throws Exception {
        startWithTokenHook(jakarta);
        assertThat(status("chat", "token.mallory")).isEqualTo(401);
        assertThat(status("chat")).isEqualTo(401);
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void aHookThatChoosesASubprotocolTheClientDidNotOfferIsABugAnswered500(boolean jakarta) throws Exception {
        startWithTokenHook(jakarta);
        assertThat(status("chat", "token.buggy")).isEqualTo(500);
    }

    private int status(String... subprotocols) {
        var attempt = HTTP.newWebSocketBuilder()
                .subprotocols(subprotocols[0], java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length))
                .buildAsync(server.uri("/echo/"), new WebSocket.Listener() {});
        int[] status = new int[1];
        assertThatThrownBy(() -> attempt.get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(WebSocketHandshakeException.class)
                .satisfies(e -> status[0] = ((WebSocketHandshakeException) e.getCause())
                        .getResponse()
                        .statusCode());
        return status[0];
    }

    /** Collects whole text messages. */
    private static final class RecordingListener implements WebSocket.Listener {
        private final java.util.concurrent.BlockingQueue<String> texts =
                new java.util.concurrent.LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();

        @Override
        public java.util.concurrent.CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            ws.request(1);
            return null;
        }

        String awaitText() throws InterruptedException {
            String text = texts.poll(10, TimeUnit.SECONDS);
            assertThat(text).as("a text within 10 s").isNotNull();
            return text;
        }
    }
}
