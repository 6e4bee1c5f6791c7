package io.github.wsrouter.server.undertow;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.RouteStats;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.ServerStats;
import io.github.wsrouter.server.WsServer;
import io.github.wsrouter.server.internal.FrameGuard;
import io.github.wsrouter.server.internal.FrameReader;
import io.github.wsrouter.server.internal.Keepalive;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.server.internal.UpgradeGate;
import io.github.wsrouter.server.internal.UpgradedHttp;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.LiveConnections;
import io.github.wsrouter.spi.RouteCounters;
import io.github.wsrouter.spi.RouteTable;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.ResponseCodeHandler;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import io.undertow.websockets.WebSocketConnectionCallback;
import io.undertow.websockets.WebSocketProtocolHandshakeHandler;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.protocol.version07.Hybi07Handshake;
import io.undertow.websockets.core.protocol.version08.Hybi08Handshake;
import io.undertow.websockets.core.protocol.version13.Hybi13Handshake;
import io.undertow.websockets.spi.AsyncWebSocketHttpServerExchange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * An Undertow {@link HttpHandler} that serves WebSocket routes: mount it in your own Undertow
 * handler chain, or let {@link WsServer} do it.
 *
 * <pre>{@code
 * WebSocketRoutes routes = WebSocketRoutes.builder()
 *         .route("/chat/{username}/", DirectedJsonRouter.create())
 *         .build();
 * PathHandler paths = Handlers.path(myAppHandler).addPrefixPath("/chat", routes);
 * }</pre>
 *
 * <h2>Requests</h2>
 * Templates match the full request path (not a path relative to a prefix the handler is mounted
 * under). A path no route matches goes to the fallback handler (by default a 404). A request that
 * matches a route but is not a WebSocket upgrade gets {@code 426 Upgrade Required}; a malformed
 * upgrade gets {@code 400}.
 *
 * <h2>Threads</h2>
 * Undertow reads each connection on one IO thread. Router callbacks run on that IO thread unless
 * the route was given an executor, which then runs them, still one at a time and in order per
 * connection. Sends may come from any thread.
 *
 * <h2>Origins</h2>
 * Browser pages of other origins are refused with 403 before any upgrade (cross-site WebSocket
 * hijacking): see {@link WsOptions.Builder#allowedOrigins}. Clients that send no {@code Origin}
 * are allowed.
 *
 * <h2>Limits</h2>
 * Every limit is a {@link WsOptions} field, documented there: server-wide with {@link
 * Builder#options}, per route with {@link Builder#route(String, MessageRouter, WsOptions)}.
 *
 * <h2>Stopping</h2>
 * Call {@link #closeAll(CloseStatus, Duration)} before stopping an Undertow of your own that
 * mounts these routes, so that clients read 1001 instead of a dropped connection.
 */
public final class WebSocketRoutes implements HttpHandler {

    /** The protocol versions Undertow's own handshake handler accepts. */
    private static final List<io.undertow.websockets.core.protocol.Handshake> HANDSHAKES =
            List.of(new Hybi13Handshake(), new Hybi08Handshake(), new Hybi07Handshake());

    private record Route(
            String template,
            MessageRouter router,
            Executor executor,
            HttpHandler handshakeHandler,
            RouteCounters counters,
            Settings.Limits limits) {}

    private final RouteTable<Route> routes;
    private final HttpHandler fallback;
    private final UpgradeGate gate;
    private final LiveConnections<UndertowConnection> live = new LiveConnections<>();
    /** Undertow's set of open channels, which each channel leaves when it closes. */
    private final java.util.Set<WebSocketChannel> peers = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Keepalive<UndertowConnection> keepalive;
    private final java.util.function.Consumer<UndertowConnection> terminated = live::terminated;
    /** The routes in the order they were added, for {@link #stats()}. */
    private final List<Route> added = new ArrayList<>();

    WebSocketRoutes(Settings settings, HttpHandler fallback) {
        this.fallback = fallback;
        this.gate = new UpgradeGate(settings);
        // Upgrades are answered by open(); this handler only answers what is not a GET (403).
        WebSocketConnectionCallback callback = (exchange, channel) -> org.xnio.IoUtils.safeClose(channel);
        HttpHandler notAnUpgrade = UpgradeGate::notAnUpgrade;
        this.routes = new RouteTable<>();
        for (Settings.Mount mount : settings.mounts()) {
            Route route = new Route(
                    mount.template().toString(),
                    mount.router(),
                    mount.executor(),
                    new WebSocketProtocolHandshakeHandler(callback, notAnUpgrade),
                    new RouteCounters(),
                    settings.limits(mount));
            routes.add(mount.template(), route);
            added.add(route);
        }
        this.keepalive = new Keepalive<>(live, added.stream().map(Route::limits).toList());
        settings.mountRouters();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        String rawPath = UpgradeGate.rawPath(exchange.getRequestURI());
        RouteTable.Match<Route> match = routes.match(rawPath);
        if (match == null) {
            fallback.handleRequest(exchange);
            return;
        }
        if (!gate.admit(exchange, live.size())) {
            return;
        }
        Handshake accepted =
                gate.decide(exchange, rawPath, match.parameters(), match.value().router());
        if (accepted == null) {
            return;
        }
        String subprotocol = accepted.chosenSubprotocol();
        if (subprotocol != null) {
            // Undertow echoes only subprotocols configured up front; the hook chose this one now
            exchange.getResponseHeaders().put(Headers.SEC_WEB_SOCKET_PROTOCOL, subprotocol);
        }
        open(exchange, accepted, match.value());
    }

    /**
     * Opens the connection, then answers the upgrade: the router's {@code onOpen} has run and the
     * connection is in every registry (the router's, {@link LiveConnections}) before the 101 is
     * written, so a client that sees its handshake complete is already routed. Sends made meanwhile
     * wait in the connection's send queue until Undertow hands over the channel ({@link
     * #onConnect}). On a route with an executor, {@code onOpen} runs there and the exchange waits
     * for it (dispatched). If the client goes before the channel comes, the HTTP connection's
     * close listener fails the upgrade: the router hears 1006 once and the connection is forgotten.
     */
    private void open(HttpServerExchange exchange, Handshake handshake, Route route) throws Exception {
        if (!exchange.getRequestMethod().equals(Methods.GET)) {
            route.handshakeHandler().handleRequest(exchange); // answers 403, as Undertow does
            return;
        }
        AsyncWebSocketHttpServerExchange facade = new AsyncWebSocketHttpServerExchange(exchange, peers);
        io.undertow.websockets.core.protocol.Handshake selected = null;
        for (io.undertow.websockets.core.protocol.Handshake candidate : HANDSHAKES) {
            if (candidate.matches(facade)) {
                selected = candidate;
                break;
            }
        }
        if (selected == null) {
            UpgradeGate.notAnUpgrade(exchange);
            return;
        }
        io.undertow.websockets.core.protocol.Handshake version = selected;
        Executor executor = route.executor() != null ? route.executor() : Runnable::run;
        UndertowConnection connection = new UndertowConnection(
                handshake,
                route.router(),
                executor,
                route.limits(),
                route.counters(),
                exchange.getConnection(),
                terminated);
        live.upgrading();
        exchange.getConnection().addCloseListener(closed -> connection.upgradeFailed());
        Runnable answer = () -> answer(exchange, facade, version, connection);
        if (route.executor() == null) {
            connection.deliverOpen(answer); // onOpen and the answer run here, now
        } else {
            exchange.dispatch(SameThreadExecutor.INSTANCE, () -> connection.deliverOpen(answer));
        }
    }

    /** After the router's {@code onOpen}: registers the connection and writes the 101. */
    private void answer(
            HttpServerExchange exchange,
            AsyncWebSocketHttpServerExchange facade,
            io.undertow.websockets.core.protocol.Handshake version,
            UndertowConnection connection) {
        live.opened(connection, true);
        if (connection.isClosed()) { // the client went meanwhile (closed() comes before terminated())
            live.terminated(connection);
            return;
        }
        try {
            exchange.upgradeChannel((streamConnection, upgraded) -> onConnect(
                    connection,
                    upgraded,
                    streamConnection,
                    version.createChannel(facade, streamConnection, facade.getBufferPool())));
            version.handshake(facade);
        } catch (RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> "could not answer the WebSocket upgrade to " + exchange.getRequestPath(),
                    e);
            connection.upgradeFailed();
            org.xnio.IoUtils.safeClose(exchange.getConnection());
        }
    }

    /** The number of open connections. */
    public int connectionCount() {
        return live.size();
    }

    /** The counters of each route and the refused handshakes, now. */
    public ServerStats stats() {
        Map<String, RouteStats> perRoute = new LinkedHashMap<>();
        for (Route route : added) {
            perRoute.put(route.template(), route.counters().snapshot());
        }
        return new ServerStats(live.size(), perRoute, gate.rejections(), live.queuedBytes());
    }

    /**
     * Stops gracefully: closes every open connection with the status, normally {@link
     * CloseStatus#GOING_AWAY 1001}, and waits, up to the timeout, for the closing handshakes;
     * connections still open then are dropped. Call it before stopping an Undertow of your own
     * that mounts these routes, so that clients read 1001 instead of a dropped connection (1006);
     * {@code WsServer.stop()} does it for you. Connections that open meanwhile are not refused:
     * stop routing requests here first.
     */
    public void closeAll(CloseStatus status, Duration timeout) {
        live.closeAll(status, timeout, UndertowConnection::abort);
    }

    /** On the IO thread, once the 101 is written: the channel is there. */
    private void onConnect(
            UndertowConnection connection,
            HttpServerExchange exchange,
            org.xnio.StreamConnection socket,
            WebSocketChannel channel) {
        if (!connection.attach(channel, socket)) {
            return; // given up meanwhile (a stop's abort): the router has heard its close
        }
        if (!UpgradedHttp.release(exchange.getConnection())) {
            releaseHeaders(exchange); // the exchange stays with the HTTP connection: its headers at least go
        }
        channel.addCloseTask(connection); // the socket is gone: its place is free before the router hears
        FrameGuard.install(connection, socket);
        connection.reading(FrameReader.install(connection, socket)); // in front of Undertow's parser
        channel.getReceiveSetter().set(new ReceiveListener(connection));
        keepalive.opened(connection);
        connection.ready(); // what onOpen and others sent meanwhile leaves first, in order
        channel.resumeReceives();
    }

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    /**
     * Undertow keeps a connection's HTTP exchange, its request and response headers with it, for as
     * long as the WebSocket channel lives, though it never reads them again once the 101 has gone
     * (the exchange is complete before the connection callback). The connection keeps the request
     * headers it needs; the maps' entries are released here, about 0.4 KiB a connection.
     */
    private static void releaseHeaders(HttpServerExchange exchange) {
        exchange.getRequestHeaders().clear();
        exchange.getResponseHeaders().clear();
    }

    /** Routes and options of a {@link WebSocketRoutes} handler. */
    public static final class Builder {
        private final Settings.Collector settings = new Settings.Collector();
        private HttpHandler fallback = ResponseCodeHandler.HANDLE_404;

        Builder() {}

        /**
         * The limits and policies of every route (those a route sets for itself aside); see {@link
         * WsOptions}. Default {@link WsOptions#defaults()}.
         */
        public Builder options(WsOptions options) {
            settings.options(options);
            return this;
        }

        /**
         * Mounts a router with the server-wide options: its callbacks run on the connection's IO
         * thread (they must not block) unless those options name an executor.
         *
         * @throws IllegalArgumentException if the template is malformed or collides with a mounted one
         */
        public Builder route(String template, MessageRouter router) {
            return route(template, router, WsOptions.builder().build());
        }

        /**
         * Mounts a router with options of its own, laid field by field over the server-wide ones:
         * its limits where they differ, an executor for routers that block.
         *
         * @throws IllegalArgumentException if the template is malformed or collides with a mounted
         *     one, or the options set a server-wide field (relay, maxConnections, closeTimeout,
         *     linger, maxPingsPerMinute, handshakeHook, allowedOrigins)
         */
        public Builder route(String template, MessageRouter router, WsOptions options) {
            settings.route(template, router, options);
            return this;
        }

        /** The handler for requests no route matches; default a 404. */
        public Builder fallback(HttpHandler handler) {
            this.fallback = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * @throws IllegalStateException if no route was added
         * @throws IllegalArgumentException if a router refuses its route, or the options give a
         *     relay URI (which only {@link WsServer} takes)
         */
        public WebSocketRoutes build() {
            return new WebSocketRoutes(settings.build(), fallback);
        }
    }
}
