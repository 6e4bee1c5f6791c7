package io.github.wsrouter.examples;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.github.wsrouter.server.ServerStats;
import io.github.wsrouter.server.WsServer;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;

/**
 * The runner's {@code GET /stats}: {@code open} (connections open now) at the top, then the
 * counters summed and per route, and the refused handshakes by reason; with {@code --redis},
 * the relay's counters under {@code relay}.
 */
final class StatsHandler implements HttpHandler {

    private static final Gson GSON =
            new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create();

    private volatile WsServer server;

    /** The server whose counters this serves; set once it is built. */
    void serve(WsServer server) {
        this.server = server;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json; charset=utf-8");
        io.github.wsrouter.Relay relay = server.relay();
        exchange.getResponseSender()
                .send(json(server.stats(), relay == io.github.wsrouter.Relay.local() ? null : relay.stats()));
    }

    /** With the relay's counters under {@code relay} when there are several servers ({@code null}: one). */
    static String json(ServerStats stats, io.github.wsrouter.Relay.Stats relay) {
        JsonObject json = new JsonObject();
        json.addProperty("open", stats.open());
        json.add("total", GSON.toJsonTree(stats.total()));
        json.add("routes", GSON.toJsonTree(stats.routes()));
        json.add("rejectedHandshakes", GSON.toJsonTree(stats.rejectedHandshakes()));
        if (relay != null) {
            json.add("relay", GSON.toJsonTree(relay));
        }
        return GSON.toJson(json);
    }
}
