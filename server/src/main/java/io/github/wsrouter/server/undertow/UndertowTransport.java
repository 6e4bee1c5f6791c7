package io.github.wsrouter.server.undertow;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.server.ServerStats;
import io.github.wsrouter.server.internal.Transport;
import io.undertow.server.HttpHandler;
import java.time.Duration;

/** {@code WsServer} on Undertow's native WebSocket API: {@link WebSocketRoutes} is the handler. */
final class UndertowTransport implements Transport {

    static {
        Transport.register(
                Transport.UNDERTOW,
                (settings, fallback, worker) -> new UndertowTransport(new WebSocketRoutes(settings, fallback)));
    }

    private final WebSocketRoutes routes;

    private UndertowTransport(WebSocketRoutes routes) {
        this.routes = routes;
    }

    @Override
    public HttpHandler handler() {
        return routes;
    }

    @Override
    public int connectionCount() {
        return routes.connectionCount();
    }

    @Override
    public ServerStats stats() {
        return routes.stats();
    }

    @Override
    public void stop(Duration timeout) {
        routes.closeAll(CloseStatus.GOING_AWAY, timeout);
    }
}
