package io.github.wsrouter.bomconsumer;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.micrometer.WsRouterMetrics;
import io.github.wsrouter.server.WsServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Starts an echo server on a free port with its meters bound, says hello to it with the JDK's
 * WebSocket client, prints the echo and the meters, and stops. It is a named module
 * ({@code module-info.java}): it runs on the module path as well as on the class path.
 */
public final class BomConsumer {

    private BomConsumer() {}

    public static void main(String[] args) {
        run(System.out);
    }

    static void run(PrintStream out) {
        MeterRegistry registry = new SimpleMeterRegistry();
        WsServer server = WsServer.builder()
                .port(0)
                .route("/echo/", EchoRouter.create())
                .build()
                .start();
        try {
            WsRouterMetrics.of(server).bindTo(registry);
            out.println("echo at " + server.uri("/echo/"));
            registry.getMeters().stream()
                    .filter(meter -> meter.getId().getName().equals("wsrouter.connections"))
                    .forEach(meter ->
                            out.println(meter.getId().getName() + meter.getId().getTags() + " = "
                                    + meter.measure().iterator().next().getValue()));
            out.println("echo: " + hello(server));
        } catch (Exception e) {
            throw new IllegalStateException("the echo did not come back", e);
        } finally {
            server.stop();
        }
    }

    private static String hello(WsServer server) throws Exception {
        CompletableFuture<String> echo = new CompletableFuture<>();
        WebSocket socket = HttpClient.newHttpClient()
                .newWebSocketBuilder()
                .buildAsync(server.uri("/echo/"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        echo.complete(data.toString());
                        return null;
                    }
                })
                .get(10, TimeUnit.SECONDS);
        socket.sendText("hello", true);
        String answer = echo.get(10, TimeUnit.SECONDS);
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        return answer;
    }
}
