package io.github.wsrouter.examples;

import io.github.wsrouter.micrometer.WsRouterMetrics;
import io.github.wsrouter.server.WsServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

/**
 * The runner's {@code GET /metrics}: the server's meters ({@link WsRouterMetrics}) in Prometheus'
 * text format, read at each request.
 */
final class MetricsHandler implements HttpHandler {

    /** Prometheus' text exposition format, version 0.0.4. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    /** The server whose meters this serves; set once it is built. */
    void serve(WsServer server) {
        WsRouterMetrics.of(server).bindTo(registry);
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        if (exchange.isInIoThread()) {
            exchange.dispatch(this); // a scrape reads every connection's send buffer: off the IO thread
            return;
        }
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, CONTENT_TYPE);
        exchange.getResponseSender().send(registry.scrape());
    }
}
