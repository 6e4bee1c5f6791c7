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
 * counters summed and per route, and the refused handshakes by reason.
 */
final class StatsHandler implements HttpHandler {

    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create();

    private volatile WsServer server;

    /** The server whose counters this serves; set once it is built. */
    void serve(WsServer server) {
        this.server = server;
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) {
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json; charset=utf-8");
        exchange.getResponseSender().send(json(server.stats()));
    }

    static String json(ServerStats stats) {
        JsonObject json = new JsonObject();
        json.addProperty("open", stats.open());
        json.add("total", GSON.toJsonTree(stats.total()));
        json.add("routes", GSON.toJsonTree(stats.routes()));
        json.add("rejectedHandshakes", GSON.toJsonTree(stats.rejectedHandshakes()));
        return GSON.toJson(json);
    }
}
