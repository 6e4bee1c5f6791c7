package io.github.wsrouter.benchmarks;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.server.WsServer;

/**
 * wsrouter serving the example runner's routes ({@code /echo/}, {@code /ws/} broadcast,
 * {@code /ws/{username}/} directed JSON with presence and {@code "*"}, {@code /rooms/{room}/}),
 * with the recipient field named {@code to} as the baseline's.
 */
public final class WsrouterServer implements BenchServer {

    private final WsServer server;

    public WsrouterServer(String host, int port) {
        server = WsServer.builder()
                .host(host).port(port)
                .maxMessageSize(1 << 20)
                .route("/echo/", EchoRouter.create())
                .route("/ws/", BroadcastRouter.create())
                .route("/ws/{username}/", DirectedJsonRouter.builder().toField("to").everyone("*").presence(true).build())
                .route("/rooms/{room}/", BroadcastRouter.builder().roomParameter("room").build())
                .stopTimeout(java.time.Duration.ofSeconds(1))
                .build();
    }

    @Override
    public BenchServer start() {
        server.start();
        return this;
    }

    @Override
    public int port() {
        return server.port();
    }

    @Override
    public int connectionCount() {
        return server.connectionCount();
    }

    @Override
    public void stop() {
        server.stop();
    }
}
