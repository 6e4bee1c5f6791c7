package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.RouteOptions;
import io.github.wsrouter.RouteStats;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.server.internal.FrameGuard;
import io.github.wsrouter.server.internal.Keepalive;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.server.internal.TextMessages;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.LiveConnections;
import io.github.wsrouter.spi.RouteCounters;
import io.github.wsrouter.spi.RouteTable;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.ResponseCodeHandler;
import io.undertow.util.HeaderValues;
import io.undertow.util.Headers;
import io.undertow.util.Methods;
import io.undertow.util.SameThreadExecutor;
import io.undertow.util.StatusCodes;
import io.undertow.websockets.WebSocketConnectionCallback;
import io.undertow.websockets.WebSocketProtocolHandshakeHandler;
import io.undertow.websockets.core.AbstractReceiveListener;
import io.undertow.websockets.core.BufferedBinaryMessage;
import io.undertow.websockets.core.CloseMessage;
import io.undertow.websockets.core.StreamSourceFrameChannel;
import io.undertow.websockets.core.WebSocketChannel;
import io.undertow.websockets.core.WebSockets;
import io.undertow.websockets.core.protocol.version07.Hybi07Handshake;
import io.undertow.websockets.core.protocol.version08.Hybi08Handshake;
import io.undertow.websockets.core.protocol.version13.Hybi13Handshake;
import io.undertow.websockets.spi.AsyncWebSocketHttpServerExchange;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.xnio.Pooled;

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
 * hijacking): see {@link Builder#allowedOrigins}. Clients that send no {@code Origin} are allowed.
 *
 * <h2>Limits</h2>
 * A message larger than {@link Builder#maxMessageSize(int)} (after reassembly) closes its
 * connection with 1009. A connection whose send buffer goes over {@link Builder#sendBuffer} (the
 * peer reads too slowly) is closed with 4000 or dropped-to, as chosen. A message in more than
 * {@link Builder#maxFragments(int)} frames, or more than {@link Builder#maxPingsPerMinute(int)}
 * pings, closes with 1008. A peer that does not answer our close frame is dropped after {@link
 * Builder#closeTimeout(Duration)}. A route mounted with {@link RouteOptions} may set its own
 * message size, fragment, send buffer, rate and keepalive limits.
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
    private final OriginPolicy origins;
    private final HandshakeHook hook;
    private final int maxConnections;
    private final LiveConnections<UndertowConnection> live = new LiveConnections<>();
    /** Undertow's set of open channels, which each channel leaves when it closes. */
    private final java.util.Set<WebSocketChannel> peers = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Keepalive<UndertowConnection> keepalive;
    private final java.util.function.Consumer<UndertowConnection> terminated = live::terminated;
    private final Rejections rejections = new Rejections();
    /** The routes in the order they were added, for {@link #stats()}. */
    private final List<Route> added = new ArrayList<>();

    private WebSocketRoutes(Settings settings, HttpHandler fallback, OriginPolicy origins) {
        this.fallback = fallback;
        this.origins = origins;
        this.hook = settings.hook();
        this.maxConnections = settings.maxConnections();
        // Upgrades are answered by open(); this handler only answers what is not a GET (403).
        WebSocketConnectionCallback callback = (exchange, channel) -> org.xnio.IoUtils.safeClose(channel);
        HttpHandler notAnUpgrade = WebSocketRoutes::notAnUpgrade;
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

    /** Routes with these settings: for {@link WsServer}. */
    static WebSocketRoutes of(Settings settings, HttpHandler fallback, OriginPolicy origins) {
        settings.requireRoutes();
        return new WebSocketRoutes(settings.copy(), fallback, origins);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        String rawPath = rawPath(exchange.getRequestURI());
        RouteTable.Match<Route> match = routes.match(rawPath);
        if (match == null) {
            fallback.handleRequest(exchange);
            return;
        }
        if (origins.refuse(exchange, rejections)) {
            return;
        }
        if (live.size() >= maxConnections) {
            rejections.count("capacity");
            refuse(exchange, HandshakeDecision.reject(503, "too many connections"));
            return;
        }
        Handshake handshake = handshake(exchange, rawPath, match.parameters());
        Handshake.Decided decided = handshake.decide(hook, match.value().router());
        if (decided.refusal() != null) {
            rejections.count(Integer.toString(decided.refusal().status()));
            refuse(exchange, decided.refusal());
            return;
        }
        String subprotocol = decided.accepted().chosenSubprotocol();
        if (subprotocol != null) {
            // Undertow echoes only subprotocols configured up front; the hook chose this one now
            exchange.getResponseHeaders().put(Headers.SEC_WEB_SOCKET_PROTOCOL, subprotocol);
        }
        open(exchange, decided.accepted(), match.value());
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
            notAnUpgrade(exchange);
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
                    connection, upgraded, version.createChannel(facade, streamConnection, facade.getBufferPool())));
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
        return new ServerStats(live.size(), perRoute, rejections.snapshot(), live.queuedBytes());
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
    private void onConnect(UndertowConnection connection, HttpServerExchange exchange, WebSocketChannel channel) {
        releaseHeaders(exchange);
        if (!connection.attach(channel)) {
            return; // given up meanwhile (a stop's abort): the router has heard its close
        }
        channel.addCloseTask(connection); // the socket is gone: its place is free before the router hears
        FrameGuard.install(connection);
        channel.getReceiveSetter().set(new Listener(connection));
        keepalive.opened(connection);
        connection.ready(); // what onOpen and others sent meanwhile leaves first, in order
        channel.resumeReceives();
    }

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    /** What the request says, as a handshake not yet decided. */
    static Handshake handshake(HttpServerExchange exchange, String rawPath, Map<String, String> parameters) {
        List<Map.Entry<String, HeaderValues>> headers =
                new ArrayList<>(exchange.getRequestHeaders().size());
        for (HeaderValues values : exchange.getRequestHeaders()) {
            headers.add(Map.entry(values.getHeaderName().toString(), values));
        }
        return new Handshake(
                rawPath, parameters, Handshake.parseQuery(exchange.getQueryString()), Handshake.headers(headers));
    }

    /** Answers a refused handshake with its status and reason, before any upgrade. */
    static void refuse(HttpServerExchange exchange, HandshakeDecision refusal) {
        LOG.log(
                System.Logger.Level.INFO,
                () -> "refused WebSocket handshake to " + exchange.getRequestPath() + ": " + refusal.status() + " "
                        + refusal.reason());
        exchange.setStatusCode(refusal.status());
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseSender().send(refusal.reason() + "\n");
    }

    /** Answers a request to a route that is not a WebSocket upgrade: 426, or 400 for a malformed one. */
    static void notAnUpgrade(HttpServerExchange exchange) {
        String upgrade = exchange.getRequestHeaders().getFirst(Headers.UPGRADE);
        if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
            exchange.setStatusCode(StatusCodes.UPGRADE_REQUIRED);
            exchange.getResponseHeaders().put(Headers.UPGRADE, "websocket");
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
            exchange.getResponseSender().send("This is a WebSocket endpoint: connect with a WebSocket client.\n");
        } else {
            exchange.setStatusCode(StatusCodes.BAD_REQUEST);
            exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
            exchange.getResponseSender()
                    .send("Bad WebSocket handshake: a GET with Connection: Upgrade, "
                            + "Sec-WebSocket-Key and Sec-WebSocket-Version 13 is required.\n");
        }
    }

    /** The path of a request URI as sent: origin form, or the path of an absolute URI. */
    static String rawPath(String requestUri) {
        if (requestUri.startsWith("/")) {
            return requestUri;
        }
        int scheme = requestUri.indexOf("://");
        if (scheme < 0) {
            return requestUri;
        }
        int slash = requestUri.indexOf('/', scheme + 3);
        return slash < 0 ? "/" : requestUri.substring(slash);
    }

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

    /** The connection's receive listener. */
    private static final class Listener extends AbstractReceiveListener {
        private final UndertowConnection connection;

        Listener(UndertowConnection connection) {
            this.connection = connection;
        }

        private int maxMessageSize() {
            return connection.limits().maxMessageSize();
        }

        @Override
        protected void onText(WebSocketChannel channel, StreamSourceFrameChannel message) throws java.io.IOException {
            if (!announcedTooBig(channel, message)) {
                // bytes gathered, then decoded in bulk: not Undertow's byte-at-a-time BufferedTextMessage
                TextMessages.read(message, maxMessageSize(), connection, connection::deliverText, this::onError);
            }
        }

        @Override
        protected void onBinary(WebSocketChannel channel, StreamSourceFrameChannel message) throws java.io.IOException {
            if (!announcedTooBig(channel, message)) {
                super.onBinary(channel, message);
            }
        }

        /**
         * A fallback for a connection without a {@link FrameGuard} (the one check of a message's
         * size, which never lets such a frame reach Undertow): a frame whose header announces more
         * than the limit is refused at once with 1009, before
         * any of it is read or buffered (Undertow closes the frame's stream when its announced
         * length is over the stream limit).
         *
         * <p>Only a stream that setMaxStreamSize itself closes is too big: a message with an empty
         * final frame (Autobahn 1.1.1, 1.2.1, 6.1.1, 9.7.1, 9.8.1) arrives already closed, as
         * Undertow ends a zero-length final frame's stream at once; it is an ordinary empty
         * message and goes on to Undertow's reader like any other.
         */
        private boolean announcedTooBig(WebSocketChannel channel, StreamSourceFrameChannel message) {
            boolean openBefore = message.isOpen();
            message.setMaxStreamSize(maxMessageSize());
            if (!openBefore || message.isOpen()) {
                return false;
            }
            connection.deliverError(
                    new java.io.IOException("a frame announced more than " + maxMessageSize() + " bytes"));
            connection.closeForViolation(
                    CloseStatus.MESSAGE_TOO_BIG.withReason("message over " + maxMessageSize() + " bytes"));
            return true;
        }

        @Override
        protected void onFullBinaryMessage(WebSocketChannel channel, BufferedBinaryMessage message) {
            Pooled<ByteBuffer[]> pooled = message.getData();
            try {
                ByteBuffer[] buffers = pooled.getResource();
                int size = 0;
                for (ByteBuffer buffer : buffers) {
                    size += buffer.remaining();
                }
                ByteBuffer copy = ByteBuffer.allocate(size);
                for (ByteBuffer buffer : buffers) {
                    copy.put(buffer);
                }
                connection.deliverBinary(copy.flip());
            } finally {
                pooled.free();
            }
        }

        /**
         * Reads the peer's close status and answers with the same one. (Undertow's default reads
         * an empty close frame as 1000; RFC 6455 reports it as 1005. It is answered with 1000.)
         */
        @Override
        protected void onFullCloseMessage(WebSocketChannel channel, BufferedBinaryMessage message) {
            Pooled<ByteBuffer[]> data = message.getData();
            try {
                ByteBuffer payload = WebSockets.mergeBuffers(data.getResource());
                CloseStatus status = CloseStatus.NO_STATUS;
                if (payload.remaining() >= 2) {
                    CloseMessage close = new CloseMessage(payload);
                    try {
                        status = CloseStatus.of(close.getCode(), close.getReason());
                    } catch (IllegalArgumentException invalid) {
                        status = CloseStatus.PROTOCOL_ERROR;
                    }
                }
                connection.peerClosed(status); // answered through the send queue
            } finally {
                data.free();
            }
        }

        /**
         * A read failed. After a close frame for a violation (ours, or Undertow's own for a protocol
         * error, invalid UTF-8, or a binary message over the limit) the connection lingers before
         * its socket is closed, and the router hears the status that was sent; otherwise the
         * channel is closed at once, as Undertow's listener does.
         */
        @Override
        protected void onError(WebSocketChannel channel, Throwable error) {
            connection.deliverError(error);
            if (channel.isCloseFrameSent() && channel.isOpen()) {
                int code = channel.getCloseCode();
                CloseStatus sent = CloseStatus.PROTOCOL_ERROR; // Undertow's bare protocol errors
                try {
                    sent = code > 0 ? CloseStatus.of(code, channel.getCloseReason()) : sent;
                } catch (IllegalArgumentException notAStatus) {
                    // 1002 it is
                }
                connection.closeForViolation(sent); // Undertow's frame is out: the path records it and lingers
            } else {
                org.xnio.IoUtils.safeClose(channel);
            }
        }

        @Override
        protected void onFullPongMessage(WebSocketChannel channel, BufferedBinaryMessage message)
                throws java.io.IOException {
            connection.markInbound();
            super.onFullPongMessage(channel, message);
        }

        @Override
        protected void onFullPingMessage(WebSocketChannel channel, BufferedBinaryMessage message)
                throws java.io.IOException {
            connection.markInbound();
            super.onFullPingMessage(channel, message);
        }

        // Undertow's buffers, bounded as a last fallback: the FrameGuard checks the size first
        @Override
        protected long getMaxTextBufferSize() {
            return maxMessageSize();
        }

        @Override
        protected long getMaxBinaryBufferSize() {
            return maxMessageSize();
        }
    }

    /** Routes and options of a {@link WebSocketRoutes} handler. */
    public static final class Builder {
        private final Settings settings = new Settings();
        private HttpHandler fallback = ResponseCodeHandler.HANDLE_404;
        private OriginPolicy origins = OriginPolicy.sameOrigin();

        Builder() {}

        /**
         * Mounts a router whose callbacks run on the connection's IO thread: they must not block.
         *
         * @throws IllegalArgumentException if the template is malformed or collides with a mounted one
         */
        public Builder route(String template, MessageRouter router) {
            settings.route(template, router, RouteOptions.defaults());
            return this;
        }

        /**
         * Mounts a router whose callbacks run on the executor, one at a time and in order per
         * connection: for routers that block (a database, a remote call).
         */
        public Builder route(String template, MessageRouter router, Executor callbackExecutor) {
            settings.route(template, router, Objects.requireNonNull(callbackExecutor, "callbackExecutor"));
            return this;
        }

        /**
         * Mounts a router with options of its own: its limits where they differ from the server's,
         * an executor for routers that block.
         */
        public Builder route(String template, MessageRouter router, RouteOptions options) {
            settings.route(template, router, options);
            return this;
        }

        /** The handler for requests no route matches; default a 404. */
        public Builder fallback(HttpHandler handler) {
            this.fallback = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Origins allowed besides the server's own, such as {@code https://app.example.com}; {@code *}
         * allows every origin. By default only same-origin browser pages may connect: a handshake
         * from another origin, or with {@code Origin: null}, is refused with 403 before any upgrade.
         *
         * @param requireOrigin whether a handshake without {@code Origin} (a non-browser client) is
         *     refused too; default {@code false}
         */
        public Builder allowedOrigins(java.util.Collection<String> origins, boolean requireOrigin) {
            this.origins = new OriginPolicy(java.util.Set.copyOf(origins), requireOrigin);
            return this;
        }

        /**
         * Runs on every handshake before the route's {@code onHandshake}: authenticate, attach an
         * identity, or refuse with an HTTP status before the upgrade.
         */
        public Builder handshakeHook(HandshakeHook hook) {
            settings.handshakeHook(hook);
            return this;
        }

        /** The largest message accepted, in bytes after reassembly; default 64 KiB. Larger closes with 1009. */
        public Builder maxMessageSize(int bytes) {
            settings.maxMessageSize(bytes);
            return this;
        }

        /**
         * The most frames one message may come in; default 1,024. A message in more fragments closes
         * its connection with 1008 (empty fragments cost no memory, but each costs work).
         */
        public Builder maxFragments(int fragments) {
            settings.maxFragments(fragments);
            return this;
        }

        /** The most pings a connection may send in a minute; default 300. More closes it with 1008. */
        public Builder maxPingsPerMinute(int pings) {
            settings.maxPingsPerMinute(pings);
            return this;
        }

        /**
         * How long, and how much, the server keeps reading and discarding what a client still
         * sends after the server closed it for a violation (1002, 1007, 1008, 1009) before it drops
         * the socket; defaults 2 s and 16 MiB. Dropping a socket with unread bytes in it answers
         * them with a TCP reset, and a reset discards the close frame on the client's side before it
         * is read: a client that was in the middle of writing (a message over the limit, say) would
         * see 1006 instead of the close code. Lingering ends early at the client's close frame or
         * at end of stream; over either bound the socket is dropped. {@code Duration.ZERO} or 0
         * bytes turn it off.
         */
        public Builder linger(Duration timeout, long maxBytes) {
            settings.linger(timeout, maxBytes);
            return this;
        }

        /** How long to wait for the peer's answer to our close frame before dropping it; default 5 s. */
        public Builder closeTimeout(Duration timeout) {
            settings.closeTimeout(timeout);
            return this;
        }

        /**
         * The bound of each connection's send buffer (bytes queued, not yet written) and what
         * happens to a send over it; default 1 MiB and {@link SendOverflow#CLOSE} (closed with 4000).
         */
        public Builder sendBuffer(long maxQueuedBytes, SendOverflow overflow) {
            settings.sendBuffer(maxQueuedBytes, overflow);
            return this;
        }

        /**
         * An inbound message rate limit per connection, such as {@code new RateLimit(20, 40,
         * RateLimit.Exceeded.REPLY)}; default none.
         */
        public Builder rateLimit(io.github.wsrouter.RateLimit limit) {
            settings.rateLimit(limit);
            return this;
        }

        /**
         * Pings every connection at the interval and drops one from which nothing (no message, no
         * pong) has arrived for the idle timeout; defaults 25 s and 60 s. The router sees 1001
         * "idle timeout".
         */
        public Builder keepalive(Duration pingInterval, Duration idleTimeout) {
            settings.keepalive(pingInterval, idleTimeout);
            return this;
        }

        /** The most connections open at once; over it a handshake gets 503. Default unlimited. */
        public Builder maxConnections(int max) {
            settings.maxConnections(max);
            return this;
        }

        /**
         * Reaches the routes' connections on other servers through this relay, for the routers that
         * use one ({@code BroadcastRouter}, {@code DirectedJsonRouter}); default {@link
         * io.github.wsrouter.Relay#local()}. The caller closes it.
         */
        public Builder relay(io.github.wsrouter.Relay relay) {
            settings.relay(relay);
            return this;
        }

        /** @throws IllegalStateException if no route was added */
        public WebSocketRoutes build() {
            return of(settings, fallback, origins);
        }
    }
}
