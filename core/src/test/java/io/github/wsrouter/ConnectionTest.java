package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What every {@link Connection} tells a router, shown on the in-memory transport. */
@Timeout(10)
class ConnectionTest {

    private final TestServer server = TestServer.create().route("/echo/{room}/", EchoRouter.create());

    @Test
    void queryParameterIsTheFirstValueOrNull() {
        Connection connection = server.connect("/echo/x/?tag=a&tag=b&empty=").connection();

        assertThat(connection.queryParameter("tag")).isEqualTo("a");
        assertThat(connection.queryParameters().get("tag")).containsExactly("a", "b");
        assertThat(connection.queryParameter("empty")).isEmpty();
        assertThat(connection.queryParameter("missing")).isNull();
        assertThat(connection.pathParameter("room")).isEqualTo("x");
    }

    @Test
    void queuedBytesCountTextAsItsUtf8Bytes() {
        TestClient client = server.connect("/echo/x/").pauseReading();
        String first = "held in flight";
        String[] texts = {"ascii", "é", "中文", "😀", "a\uD800b"}; // the last has a lone surrogate

        client.sendText(first);
        long expected = 0;
        for (String text : texts) {
            client.sendText(text);
            expected += text.getBytes(StandardCharsets.UTF_8).length;
        }
        expected += first.length();

        assertThat(client.connection().queuedBytes()).isEqualTo(expected);
        client.resumeReading();
        assertThat(client.connection().queuedBytes()).isZero();
        assertThat(client.texts()).hasSize(texts.length + 1);
    }

    @Test
    void closeFutureCompletesWithTheStatusAfterOnClose() {
        StringBuilder seen = new StringBuilder();
        MessageRouter router = new MessageRouter() {
            @Override
            public void onOpen(Connection connection) {
                connection
                        .closeFuture()
                        .thenAccept(status -> seen.append("future ").append(status.code()));
            }

            @Override
            public void onClose(Connection connection, CloseStatus status) {
                seen.append("onClose ");
            }
        };
        TestClient client = TestServer.create().route("/r/", router).connect("/r/");

        assertThat(client.connection().closeFuture().toCompletableFuture()).isNotDone();
        client.close(CloseStatus.GOING_AWAY);

        assertThat(seen).hasToString("onClose future 1001");
        assertThat(client.connection().closeFuture().toCompletableFuture().join())
                .isEqualTo(CloseStatus.GOING_AWAY);
    }

    @Test
    void identityIsTheHandshakesAndAttributesStartEmpty() {
        TestServer secured = TestServer.create()
                .handshakeHook(request -> HandshakeDecision.acceptAs("alice").withAttribute("tenant", "t1"))
                .route("/r/", EchoRouter.create());
        Connection connection = secured.connect("/r/").connection();

        assertThat(connection.identity()).isEqualTo("alice");
        assertThat(connection.attributes()).containsOnlyKeys("tenant");
        connection.attributes().put("wsrouter.identity", "mallory");
        assertThat(connection.identity()).isEqualTo("alice");
    }
}
