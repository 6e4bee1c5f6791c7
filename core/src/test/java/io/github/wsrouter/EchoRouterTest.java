package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class EchoRouterTest {

    private final TestServer server = TestServer.create().route("/echo/", EchoRouter.create());
    private final TestClient alice = server.connect("/echo/");
    private final TestClient bob = server.connect("/echo/");

    @AfterEach
    void nothingElseWasSent() {
        alice.assertNoMoreMessages();
        bob.assertNoMoreMessages();
    }

    @Test
    void textComesBackAsText() {
        alice.sendText("hello");

        assertThat(alice.nextText()).isEqualTo("hello");
    }

    @Test
    void unicodeAndEmptyTextComeBackUnchanged() {
        alice.sendText("ren\u00e9e \uD83D\uDE00").sendText("");

        assertThat(alice.nextText()).isEqualTo("ren\u00e9e \uD83D\uDE00");
        assertThat(alice.nextText()).isEmpty();
    }

    @Test
    void binaryComesBackAsBinary() {
        byte[] payload = {0x01, 0x02, (byte) 0xFF, 0x00};

        alice.sendBinary(payload);

        ByteBuffer echoed = alice.nextBinary();
        byte[] bytes = new byte[echoed.remaining()];
        echoed.get(bytes);
        assertThat(bytes).containsExactly(payload);
    }

    @Test
    void emptyBinaryComesBackEmpty() {
        alice.sendBinary(new byte[0]);

        assertThat(alice.nextBinary().remaining()).isZero();
    }

    @Test
    void messagesComeBackInOrderAndOnlyToTheSender() {
        alice.sendText("one").sendBinary(new byte[] {2}).sendText("three");

        assertThat(alice.nextText()).isEqualTo("one");
        assertThat(alice.nextBinary().get(0)).isEqualTo((byte) 2);
        assertThat(alice.nextText()).isEqualTo("three");
        bob.assertNoMoreMessages();
    }

    @Test
    void eachClientGetsItsOwnEcho() {
        alice.sendText("from alice");
        bob.sendText("from bob");

        assertThat(alice.texts()).containsExactly("from alice");
        assertThat(bob.texts()).containsExactly("from bob");
    }

    @Test
    void oneInstanceServesSeveralRoutes() {
        EchoRouter echo = EchoRouter.create();
        TestServer two = TestServer.create().route("/a/", echo).route("/b/{x}/", echo);
        TestClient a = two.connect("/a/");
        TestClient b = two.connect("/b/1/");

        a.sendText("a");
        b.sendText("b");

        assertThat(a.texts()).containsExactly("a");
        assertThat(b.texts()).containsExactly("b");
    }
}
