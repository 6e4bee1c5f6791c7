package io.github.wsrouter.server.docs;

// The README's server and docs/server.md's, as written there: compiled by the build, not run (it
// listens on 0.0.0.0:8080 until the JVM exits). DocsExamplesTest runs the same routes on a free port.
import io.github.wsrouter.*;
import io.github.wsrouter.server.WsServer;

public final class ChatServer {
    public static void main(String[] args) {
        WsServer server = WsServer.builder()
                .host("0.0.0.0").port(8080)
                .route("/echo/", EchoRouter.create())
                .route("/rooms/{room}/", BroadcastRouter.builder().roomParameter("room").build())
                .route("/ws/{username}/", DirectedJsonRouter.create())
                .build()
                .start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop));
    }
}
