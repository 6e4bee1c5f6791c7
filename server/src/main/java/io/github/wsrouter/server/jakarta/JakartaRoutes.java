package io.github.wsrouter.server.jakarta;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.PathTemplate;
import io.github.wsrouter.RouteStats;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.ServerStats;
import io.github.wsrouter.server.internal.FrameGuard;
import io.github.wsrouter.server.internal.HandshakeRelay;
import io.github.wsrouter.server.internal.Keepalive;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.server.internal.UpgradeGate;
import io.github.wsrouter.server.internal.UpgradeWatch;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.LiveConnections;
import io.github.wsrouter.spi.RouteCounters;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * wsrouter routes as Jakarta WebSocket endpoints, deployable in any Jakarta WebSocket 2.x
 * container (Undertow's servlet deployment, WildFly, Tomcat, Jetty).
 *
 * <pre>{@code
 * // one route, for a container you already run
 * ServerEndpointConfig config = JakartaRoutes.endpointConfig("/ws/{username}/", DirectedJsonRouter.create());
 * serverContainer.addEndpoint(config);
 *
 * // or a set of routes, with the limits and the stop of a WsServer
 * JakartaRoutes routes = JakartaRoutes.builder()
 *         .route("/echo/", EchoRouter.create())
 *         .route("/ws/{username}/", DirectedJsonRouter.create())
 *         .build();
 * routes.endpointConfigs().forEach(serverContainer::addEndpoint);
 * }</pre>
 *
 * <p>{@code WsServer.builder().jakarta()} deploys the routes into an embedded Undertow servlet
 * deployment for you. Limits and policies are {@link WsOptions}; in another container, a refused
 * handshake (the hook's, or over {@link WsOptions.Builder#maxConnections}) is closed with 1008 at
 * open, as Jakarta WebSocket has no way to answer a handshake with a status.
 *
 * <p>The router sees the same {@code Connection} as on the native adapter: path parameters from the
 * container's {@code {name}} parameters, query parameters, headers (captured during the handshake),
 * attributes, and sends that are asynchronous, ordered, never interleaved and never throw. The
 * callbacks run on the container's thread for the session, or on the route's executor, one at a
 * time and in order per connection.
 */
public final class JakartaRoutes {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    private static final String HANDSHAKE = "io.github.wsrouter.handshake";
    /** The connection opened in the handshake, for the endpoint's onOpen. */
    private static final String OPENED = "io.github.wsrouter.connection";

    private final List<ServerEndpointConfig> configs = new ArrayList<>();
    private final Map<String, RouteCounters> counters = new java.util.LinkedHashMap<>();
    private final LiveConnections<JakartaConnection> live = new LiveConnections<>();
    private final HandshakeHook hook;
    private final Keepalive<JakartaConnection> keepalive;
    /** The checks of {@code WsServer}'s gate ({@link JakartaTransport}), and the refusals counted. */
    final UpgradeGate gate;

    JakartaRoutes(Settings settings) {
        this.hook = settings.hook();
        this.gate = new UpgradeGate(settings);
        List<Settings.Limits> routeLimits = new ArrayList<>();
        for (Settings.Mount mount : settings.mounts()) {
            RouteCounters routeCounters = new RouteCounters();
            Settings.Limits limits = settings.limits(mount);
            routeLimits.add(limits);
            configs.add(config(mount.template(), mount.router(), mount.executor(), routeCounters, limits));
            counters.put(mount.template().toString(), routeCounters);
        }
        this.keepalive = new Keepalive<>(live, routeLimits);
        settings.mountRouters();
    }

    /**
     * One route as an endpoint configuration, with the default limits (64 KiB messages) and
     * callbacks on the container's threads.
     */
    public static ServerEndpointConfig endpointConfig(String template, MessageRouter router) {
        return builder().route(template, router).build().endpointConfigs().get(0);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The endpoint configurations, one per route, in the order added. */
    public List<ServerEndpointConfig> endpointConfigs() {
        return List.copyOf(configs);
    }

    /** The number of open connections on these routes. */
    public int connectionCount() {
        return live.size();
    }

    /** The counters of each route and the refused handshakes, now. */
    public ServerStats stats() {
        Map<String, RouteStats> perRoute = new java.util.LinkedHashMap<>();
        counters.forEach((template, routeCounters) -> perRoute.put(template, routeCounters.snapshot()));
        return new ServerStats(live.size(), perRoute, gate.rejections(), live.queuedBytes());
    }

    /**
     * Stops gracefully: closes every open connection with the status, normally {@link
     * CloseStatus#GOING_AWAY 1001}, and waits, up to the timeout, until the container has closed
     * them; connections still open then are dropped.
     */
    public void closeAll(CloseStatus status, Duration timeout) {
        live.closeAll(status, timeout, JakartaConnection::abort);
    }

    private ServerEndpointConfig config(
            PathTemplate template,
            MessageRouter router,
            Executor executor,
            RouteCounters routeCounters,
            Settings.Limits limits) {
        Executor callbacks = executor != null ? executor : Runnable::run;
        return ServerEndpointConfig.Builder.create(RouterEndpoint.class, template.toString())
                .configurator(new ServerEndpointConfig.Configurator() {
                    @Override
                    public void modifyHandshake(
                            ServerEndpointConfig config, HandshakeRequest request, HandshakeResponse response) {
                        // The config is a per-connection copy (Jakarta WebSocket 2.1, 3.1.x).
                        live.upgrading();
                        List<String> relayKey = request.getHeaders().get(HandshakeRelay.HEADER);
                        String key = relayKey == null || relayKey.isEmpty() ? null : relayKey.get(0);
                        Handshake.Decided decided = decide(template, router, request, key);
                        config.getUserProperties().put(HANDSHAKE, decided);
                        UpgradeWatch watch = UpgradeWatch.take(key);
                        if (watch != null && decided.accepted() != null) {
                            config.getUserProperties()
                                    .put(
                                            OPENED,
                                            openInHandshake(
                                                    decided.accepted(),
                                                    router,
                                                    callbacks,
                                                    routeCounters,
                                                    limits,
                                                    watch));
                        }
                        if (decided.accepted() != null && decided.accepted().chosenSubprotocol() != null) {
                            // the container negotiates from a fixed list; the hook chose this one now
                            response.getHeaders()
                                    .put(
                                            "Sec-WebSocket-Protocol",
                                            List.of(decided.accepted().chosenSubprotocol()));
                        }
                    }

                    @Override
                    @SuppressWarnings("unchecked")
                    public <T> T getEndpointInstance(Class<T> endpointClass) {
                        return (T) new RouterEndpoint(router, callbacks, routeCounters, limits);
                    }
                })
                .build();
    }

    /**
     * The decided handshake: relayed by wsrouter's own server, which refused bad ones with their
     * HTTP status already; or decided here, in another container, where a refusal can only become a
     * close with 1008 at open (Jakarta WebSocket has no way to answer a handshake with a status).
     */
    private Handshake.Decided decide(
            PathTemplate template, MessageRouter router, HandshakeRequest request, String relayKey) {
        Handshake relayed = HandshakeRelay.take(relayKey);
        if (relayed != null) {
            return new Handshake.Decided(relayed, null);
        }
        if (gate.full(live.size())) {
            return new Handshake.Decided(
                    null, io.github.wsrouter.HandshakeDecision.reject(503, "too many connections"));
        }
        String rawPath = request.getRequestURI().getRawPath();
        Map<String, String> parameters = template.match(rawPath);
        Map<String, List<String>> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.putAll(request.getHeaders());
        headers.remove(HandshakeRelay.HEADER);
        Handshake handshake = new Handshake(
                rawPath,
                parameters == null ? Map.of() : parameters,
                Handshake.parseQuery(request.getQueryString()),
                headers);
        Handshake.Decided decided = handshake.decide(hook, router);
        if (decided.refusal() != null) {
            gate.refused(decided.refusal().status());
        }
        return decided;
    }

    /**
     * Opens the connection in the handshake, before the container writes the 101: the router's
     * {@code onOpen} runs (on the route's executor, the handshake's thread waiting for it) and the
     * connection is registered, so a client that sees its handshake complete is routed. Sends wait
     * in the send queue until the endpoint's {@code onOpen} attaches the session. If the HTTP
     * connection closes first (the watch of wsrouter's own server), the router hears 1006 once.
     */
    private JakartaConnection openInHandshake(
            Handshake handshake,
            MessageRouter router,
            Executor callbacks,
            RouteCounters routeCounters,
            Settings.Limits limits,
            UpgradeWatch watch) {
        JakartaConnection opened =
                new JakartaConnection(handshake, router, callbacks, limits, routeCounters, live::terminated);
        java.util.concurrent.CompletableFuture<Void> done = new java.util.concurrent.CompletableFuture<>();
        opened.deliverOpen(() -> done.complete(null));
        try {
            // bounded: a router whose onOpen blocks does not hold the handshake's thread for good
            done.get(limits.closeTimeoutMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException slow) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    () -> "onOpen of router " + router.getClass().getName() + " took over "
                            + limits.closeTimeoutMillis() + " ms on " + handshake.path()
                            + ": the handshake completes without waiting for it");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException impossible) {
            throw new IllegalStateException(impossible);
        }
        live.opened(opened, true);
        watch.onFailure(opened::upgradeFailed);
        if (opened.isClosed()) { // failed meanwhile (closed() comes before terminated())
            live.terminated(opened);
        }
        return opened;
    }

    /** One instance per session: adapts the container's callbacks to the connection's. */
    private final class RouterEndpoint extends Endpoint {
        private final MessageRouter router;
        private final Executor callbacks;
        private final RouteCounters routeCounters;
        private final Settings.Limits limits;
        private JakartaConnection connection;

        RouterEndpoint(MessageRouter router, Executor callbacks, RouteCounters routeCounters, Settings.Limits limits) {
            this.router = router;
            this.callbacks = callbacks;
            this.routeCounters = routeCounters;
            this.limits = limits;
        }

        @Override
        public void onOpen(Session session, EndpointConfig config) {
            Handshake.Decided decided =
                    (Handshake.Decided) config.getUserProperties().remove(HANDSHAKE);
            session.getUserProperties().remove(HANDSHAKE);
            JakartaConnection pending =
                    (JakartaConnection) config.getUserProperties().remove(OPENED);
            session.getUserProperties().remove(OPENED);
            if (pending != null) {
                attach(session, pending);
                return;
            }
            if (decided != null && decided.refusal() != null) {
                live.upgradeAbandoned();
                closeRefused(session, decided.refusal());
                return;
            }
            Handshake handshake = decided != null
                    ? decided.accepted()
                    : new Handshake(
                            session.getRequestURI().getRawPath(),
                            session.getPathParameters(),
                            Handshake.parseQuery(session.getQueryString()),
                            Map.of());
            // a fallback where the FrameGuard is installed (it checks the size first); the only check elsewhere
            session.setMaxTextMessageBufferSize(limits.maxMessageSize());
            session.setMaxBinaryMessageBufferSize(limits.maxMessageSize());
            JakartaConnection opened = new JakartaConnection(
                    handshake, router, callbacks, limits, routeCounters, session, live::terminated);
            connection = opened;
            addHandlers(session, opened);
            opened.deliverOpen();
            live.opened(opened, decided != null);
            if (session instanceof io.undertow.websockets.jsr.UndertowSession undertow) {
                // Undertow's container resumes receives after onOpen: the guard sees every frame.
                FrameGuard.install(opened);
                keepalive.opened(opened);
            }
        }

        /** The connection opened in the handshake gets its session; what was sent meanwhile leaves now. */
        private void attach(Session session, JakartaConnection opened) {
            if (!opened.attach(session)) {
                try {
                    session.close(); // the upgrade was given up meanwhile (a stop): the router has heard its close
                } catch (java.io.IOException ignored) {
                    // closing anyway
                }
                return;
            }
            connection = opened;
            session.setMaxTextMessageBufferSize(limits.maxMessageSize());
            session.setMaxBinaryMessageBufferSize(limits.maxMessageSize());
            addHandlers(session, opened);
            if (session instanceof io.undertow.websockets.jsr.UndertowSession) {
                FrameGuard.install(opened);
                keepalive.opened(opened);
            }
            opened.ready();
        }

        private void addHandlers(Session session, JakartaConnection opened) {
            session.addMessageHandler(String.class, (MessageHandler.Whole<String>) opened::deliverText);
            session.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) data -> {
                ByteBuffer copy = ByteBuffer.allocate(data.remaining());
                copy.put(data).flip();
                opened.deliverBinary(copy);
            });
            session.addMessageHandler(
                    jakarta.websocket.PongMessage.class,
                    (MessageHandler.Whole<jakarta.websocket.PongMessage>) pong -> opened.markInbound());
        }

        @Override
        public void onClose(Session session, CloseReason reason) {
            JakartaConnection closing = connection;
            if (closing != null) {
                closing.sessionClosed(reason);
            }
        }

        @Override
        public void onError(Session session, Throwable error) {
            JakartaConnection failing = connection;
            if (failing != null) {
                failing.deliverError(error);
            }
        }
    }

    private static void closeRefused(Session session, HandshakeDecision refusal) {
        try {
            String reason = ("refused: " + refusal.status() + " " + refusal.reason());
            session.close(new CloseReason(
                    CloseReason.CloseCodes.VIOLATED_POLICY, reason.length() > 100 ? reason.substring(0, 100) : reason));
        } catch (java.io.IOException ignored) {
            // closing anyway
        }
    }

    /** Routes and options of a {@link JakartaRoutes}. */
    public static final class Builder {
        private final Settings.Collector settings = new Settings.Collector();

        private Builder() {}

        /**
         * The limits and policies of every route (those a route sets for itself aside); see {@link
         * WsOptions}. Default {@link WsOptions#defaults()}.
         */
        public Builder options(WsOptions options) {
            settings.options(options);
            return this;
        }

        /**
         * Mounts a router with the server-wide options: its callbacks run on the container's
         * thread for the session unless those options name an executor.
         */
        public Builder route(String template, MessageRouter router) {
            return route(template, router, WsOptions.builder().build());
        }

        /**
         * Mounts a router with options of its own, laid field by field over the server-wide ones.
         *
         * @throws IllegalArgumentException if the template is malformed or collides with a mounted
         *     one, or the options set a server-wide field
         */
        public Builder route(String template, MessageRouter router, WsOptions options) {
            settings.route(template, router, options);
            return this;
        }

        /**
         * @throws IllegalStateException if no route was added
         * @throws IllegalArgumentException if a router refuses its route, or the options give a
         *     relay URI (which only {@code WsServer} takes)
         */
        public JakartaRoutes build() {
            return new JakartaRoutes(settings.build());
        }
    }
}
