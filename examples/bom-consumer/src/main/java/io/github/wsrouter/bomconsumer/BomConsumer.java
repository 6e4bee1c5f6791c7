package io.github.wsrouter.bomconsumer;

import io.github.wsrouter.EchoRouter;
import io.github.wsrouter.micrometer.WsRouterMetrics;
import io.github.wsrouter.server.WsServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;

/** Starts an echo server on a free port with its meters bound, prints them, and stops. */
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
        } finally {
            server.stop();
        }
    }
}
