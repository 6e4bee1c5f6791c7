package io.github.wsrouter.server;

import io.github.wsrouter.MessageRouter;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;

/** The contract suite against the native Undertow adapter, with the JDK's WebSocket client. */
class UndertowContractTest extends RoutingContractTest {

    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    @Override
    protected ServerUnderTest start(Map<String, MessageRouter> routes) {
        WsServer.Builder builder = WsServer.builder().port(0).stopTimeout(Duration.ofSeconds(5));
        routes.forEach(builder::route);
        WsServer server = builder.build().start();
        return new ServerUnderTest() {
            @Override
            public Peer connect(String path) {
                return JdkPeer.connect(CLIENT, server.uri(path));
            }

            @Override
            public void stop() {
                server.stop();
            }
        };
    }
}
