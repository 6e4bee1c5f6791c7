package io.github.wsrouter.server;

import io.github.wsrouter.MessageRouter;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;

/**
 * The contract suite against a running {@link WsServer}: subclasses choose the adapter (native or
 * Jakarta) and the client (the JDK's or the Jakarta one), so every pair is held to one suite.
 */
abstract class ServerContractTest extends RoutingContractTest {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    /** The adapter under test. */
    abstract boolean jakartaAdapter();

    /** The client that connects. */
    abstract Peer connect(java.net.URI uri);

    static Peer jdkClient(java.net.URI uri) {
        return JdkPeer.connect(CLIENT, uri);
    }

    @Override
    protected ServerUnderTest start(Map<String, MessageRouter> routes) {
        WsServer.Builder builder = WsServer.builder().port(0).stopTimeout(Duration.ofSeconds(5));
        if (jakartaAdapter()) {
            builder.jakarta();
        }
        routes.forEach(builder::route);
        WsServer server = builder.build().start();
        return new ServerUnderTest() {
            @Override
            public Peer connect(String path) {
                return ServerContractTest.this.connect(server.uri(path));
            }

            @Override
            public void stop() {
                server.stop();
            }
        };
    }
}
