package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's examples, as written there: if this fails, the README is wrong. */
@Timeout(10)
class ReadmeExampleTest {

    /** "Writing your own MessageRouter". */
    static final class ShoutRouter implements MessageRouter {
        @Override
        public void onText(Connection connection, String text) {
            connection.sendText(text.toUpperCase(Locale.ROOT));
        }
    }

    /** "Testing your router": script, run, verify. */
    @Test
    void aliceTalksToBob() {
        TestServer server = TestServer.create()
                .route("/ws/{username}/", DirectedJsonRouter.create());
        TestClient alice = server.connect("/ws/alice/");
        TestClient bob = server.connect("/ws/bob/");

        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        alice.sendText("{\"to_user\":\"carol\",\"message\":\"hi\"}");
        bob.close();

        assertThat(bob.nextText()).isEqualTo("{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\"}");
        assertThat(alice.nextText()).contains("\"error\":\"unknown_recipient\"");
        alice.assertNoMoreMessages();
        bob.assertClosed(1000);
    }

    @Test
    void shoutRouterShouts() {
        TestClient client = TestServer.create().route("/shout/", new ShoutRouter()).connect("/shout/");
        client.sendText("hello");
        assertThat(client.nextText()).isEqualTo("HELLO");
    }

    @Test
    void unknownRecipientErrorReadsAsDocumented() {
        TestClient alice = TestServer.create().route("/ws/{username}/", DirectedJsonRouter.create())
                .connect("/ws/alice/");
        alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
        assertThat(alice.nextText())
                .isEqualTo("{\"error\":\"unknown_recipient\",\"to_user\":\"bob\",\"detail\":\"no user 'bob' is connected\"}");
    }
}
