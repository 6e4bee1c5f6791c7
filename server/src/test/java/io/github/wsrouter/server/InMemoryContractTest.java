package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;

/** The contract suite against the in-memory test kit: the kit behaves like a real server. */
class InMemoryContractTest extends RoutingContractTest {

    @Override
    protected ServerUnderTest start(Map<String, MessageRouter> routes) {
        TestServer server = TestServer.create();
        routes.forEach(server::route);
        return new ServerUnderTest() {
            @Override
            public Peer connect(String path) {
                return new KitPeer(server.connect(path));
            }

            @Override
            public void stop() {
                server.stop();
            }
        };
    }

    private record KitPeer(TestClient client) implements Peer {
        private static final Duration TIMEOUT = Duration.ofSeconds(10);

        @Override
        public void sendText(String text) {
            client.sendText(text);
        }

        @Override
        public void sendBinary(byte[] data) {
            client.sendBinary(data);
        }

        @Override
        public String awaitText() {
            return client.awaitText(TIMEOUT);
        }

        @Override
        public ByteBuffer awaitBinary() {
            return client.awaitBinary(TIMEOUT);
        }

        @Override
        public CloseStatus awaitClose() {
            client.assertNoMoreMessages();
            if (client.closeStatus() == null) {
                throw new AssertionError("expected the server to close but the connection is open");
            }
            return client.closeStatus();
        }

        @Override
        public void close(CloseStatus status) {
            client.close(status);
        }

        @Override
        public void abort() {
            client.disconnect();
        }
    }
}
