package io.github.wsrouter.benchmarks;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.undertow.Handlers;
import io.undertow.Undertow;
import io.undertow.server.handlers.PathHandler;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedTextMessage;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import io.undertow.websockets.spi.WebSocketHttpExchange;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The baseline: the three routes written in plain Undertow, the way its documentation shows
 * ({@code Handlers.websocket}, an {@code AbstractReceiveListener}, {@code WebSockets.sendText}),
 * with no wsrouter. {@code /echo} echoes, {@code /broadcast} sends every message to every
 * connection of the route, {@code /ws/{user}/} relays {@code {"to":..,"message":..}} as
 * {@code {"from":..,"message":..}} to every connection of the recipient.
 */
public final class BaselineServer implements BenchServer {

    private final Set<WebSocketChannel> broadcast = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, Set<WebSocketChannel>> users = new ConcurrentHashMap<>();
    private final Set<WebSocketChannel> all = ConcurrentHashMap.newKeySet();
    private final Gson gson = new Gson();
    private final Undertow undertow;

    public BaselineServer(String host, int port) {
        PathHandler paths = Handlers.path()
                .addExactPath("/echo", Handlers.websocket(this::echo))
                .addExactPath("/broadcast", Handlers.websocket(this::broadcast))
                .addPrefixPath("/ws", Handlers.websocket(this::directed));
        undertow =
                Undertow.builder().addHttpListener(port, host).setHandler(paths).build();
    }

    @Override
    public BenchServer start() {
        undertow.start();
        return this;
    }

    @Override
    public int port() {
        return ((InetSocketAddress) undertow.getListenerInfo().get(0).getAddress()).getPort();
    }

    @Override
    public int connectionCount() {
        return all.size();
    }

    @Override
    public void stop() {
        undertow.stop();
    }

    private void track(WebSocketChannel channel) {
        all.add(channel);
        channel.addCloseTask(all::remove);
    }

    private void echo(WebSocketHttpExchange exchange, WebSocketChannel channel) {
        track(channel);
        channel.getReceiveSetter().set(new AbstractReceiveListener() {
            @Override
            protected void onFullTextMessage(WebSocketChannel channel, BufferedTextMessage message) {
                WebSockets.sendText(message.getData(), channel, null);
            }
        });
        channel.resumeReceives();
    }

    private void broadcast(WebSocketHttpExchange exchange, WebSocketChannel channel) {
        track(channel);
        broadcast.add(channel);
        channel.addCloseTask(broadcast::remove);
        channel.getReceiveSetter().set(new AbstractReceiveListener() {
            @Override
            protected void onFullTextMessage(WebSocketChannel channel, BufferedTextMessage message) {
                String text = message.getData();
                for (WebSocketChannel peer : broadcast) {
                    WebSockets.sendText(text, peer, null);
                }
            }
        });
        channel.resumeReceives();
    }

    private void directed(WebSocketHttpExchange exchange, WebSocketChannel channel) {
        String path = exchange.getRequestURI();
        int query = path.indexOf('?');
        String[] parts = (query < 0 ? path : path.substring(0, query)).split("/");
        if (parts.length != 3 || parts[2].isEmpty()) { // "", "ws", user
            WebSockets.sendClose(1008, "no user", channel, null);
            return;
        }
        String user = parts[2];
        track(channel);
        users.computeIfAbsent(user, u -> ConcurrentHashMap.newKeySet()).add(channel);
        channel.addCloseTask(
                ch -> users.computeIfPresent(user, (u, set) -> set.remove(ch) && set.isEmpty() ? null : set));
        channel.getReceiveSetter().set(new AbstractReceiveListener() {
            @Override
            protected void onFullTextMessage(WebSocketChannel channel, BufferedTextMessage message) {
                JsonObject in;
                try {
                    in = JsonParser.parseString(message.getData()).getAsJsonObject();
                } catch (RuntimeException e) {
                    WebSockets.sendText("{\"error\":\"invalid_json\"}", channel, null);
                    return;
                }
                JsonElement to = in.get("to");
                Set<WebSocketChannel> targets = to == null ? null : users.get(to.getAsString());
                if (targets == null) {
                    WebSockets.sendText("{\"error\":\"unknown_recipient\"}", channel, null);
                    return;
                }
                JsonObject out = new JsonObject();
                out.addProperty("from", user);
                out.add("message", in.get("message"));
                String text = gson.toJson(out);
                for (WebSocketChannel target : targets) {
                    WebSockets.sendText(text, target, null);
                }
            }
        });
        channel.resumeReceives();
    }
}
