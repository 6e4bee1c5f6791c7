package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.Relay;
import io.github.wsrouter.RouteOptions;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.internal.Checks;
import io.github.wsrouter.server.internal.JakartaAccess;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.server.jakarta.JakartaRoutes;
import io.github.wsrouter.spi.RouteTable;
import io.undertow.Undertow;
import io.undertow.server.HttpHandler;
import io.undertow.server.handlers.ResponseCodeHandler;
import io.undertow.server.handlers.resource.ClassPathResourceManager;
import io.undertow.server.handlers.resource.ResourceHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.xnio.XnioWorker;

/**
 * An Undertow server for WebSocket routes, with optional static files.
 *
 * <pre>{@code
 * WsServer server = WsServer.builder()
 *         .port(8000)
 *         .route("/echo/", EchoRouter.create())
 *         .route("/ws/{username}/", DirectedJsonRouter.create())
 *         .build();
 * server.start();
 * }</pre>
 *
 * <h2>Lifecycle</h2>
 * {@link #start()} binds and returns once the server accepts connections; {@link #port()} then
 * tells the bound port (useful with port 0). {@link #stop()} closes every open connection (and
 * any that completes its upgrade during the stop) with
 * {@link CloseStatus#GOING_AWAY 1001}, waits up to the {@linkplain Builder#stopTimeout stop
 * timeout} for the closing handshakes, drops what is left, and stops Undertow. Routers see
 * {@code onClose} for every connection. A server can be started once.
 *
 * <p>Routing, threads and limits are {@link WebSocketRoutes}': the callbacks of a route run on
 * Undertow's IO threads unless the route has an executor.
 *
 * <h2>Several servers</h2>
 * Given a {@link Builder#relay(URI) relay} (for example {@code redis://127.0.0.1:6379} with
 * {@code wsrouter-redis} on the class path), servers that mount the same routes form one service:
 * broadcasts, rooms and directed messages reach the connections of every server. The server
 * owns the relay and closes it when it stops.
 */
public final class WsServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    private final String host;
    private final int requestedPort;
    private final WebSocketRoutes nativeRoutes;
    private final JakartaTransport jakarta;
    private final HttpHandler handler;
    private final Duration stopTimeout;
    private final Integer ioThreads;
    private final Duration handshakeTimeout;
    private final Relay relay;
    private volatile Undertow undertow;
    private int port = -1;
    private boolean started;
    private boolean stopped;

    private WsServer(Builder builder) {
        this.host = builder.host;
        this.requestedPort = builder.port;
        this.stopTimeout = builder.stopTimeout;
        this.ioThreads = builder.ioThreads;
        this.handshakeTimeout = builder.handshakeTimeout;
        this.relay = builder.settings.relay();
        HttpHandler fallback = ResponseCodeHandler.HANDLE_404;
        if (builder.staticFolder != null) {
            ClassLoader loader = builder.classLoader;
            fallback = new ResourceHandler(new ClassPathResourceManager(loader, builder.staticFolder), fallback)
                    .setWelcomeFiles("index.html")
                    .setDirectoryListingEnabled(false);
        }
        if (!builder.httpHandlers.isEmpty()) {
            io.undertow.server.handlers.PathHandler paths = new io.undertow.server.handlers.PathHandler(fallback);
            builder.httpHandlers.forEach(paths::addExactPath);
            fallback = paths;
        }
        if (builder.jakarta) {
            JakartaRoutes routes = JakartaAccess.routes(builder.settings);
            RouteTable<MessageRouter> table = new RouteTable<>();
            builder.settings.mounts().forEach(m -> table.add(m.template(), m.router()));
            this.nativeRoutes = null;
            this.jakarta = new JakartaTransport(
                    routes,
                    table,
                    builder.settings.hook(),
                    fallback,
                    builder.origins,
                    builder.settings.maxConnections(),
                    this::worker);
            this.handler = jakarta;
        } else {
            this.nativeRoutes = WebSocketRoutes.of(builder.settings, fallback, builder.origins);
            this.jakarta = null;
            this.handler = nativeRoutes;
        }
    }

    private XnioWorker worker() {
        Undertow server = undertow;
        return server == null ? null : server.getWorker();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds and starts serving.
     *
     * @throws UncheckedIOException with a {@link BindException} when the port is taken
     * @throws IllegalStateException if the server was started before, or stopped: a stopped
     *     server has closed its relay and cannot start again (build a new one)
     */
    public synchronized WsServer start() {
        if (stopped) {
            throw new IllegalStateException("this server was stopped and cannot start again: build a new "
                    + "WsServer (a Builder can build several)");
        }
        if (started) {
            throw new IllegalStateException("server already started");
        }
        started = true;
        Undertow.Builder builder = Undertow.builder()
                .addHttpListener(requestedPort, host)
                // a client that sends a partial request, or none, is disconnected (slowloris)
                .setServerOption(io.undertow.UndertowOptions.REQUEST_PARSE_TIMEOUT, (int) handshakeTimeout.toMillis())
                .setServerOption(io.undertow.UndertowOptions.NO_REQUEST_TIMEOUT, (int) handshakeTimeout.toMillis())
                .setHandler(handler);
        builder.setIoThreads(
                ioThreads != null ? ioThreads : Math.max(1, Runtime.getRuntime().availableProcessors()));
        Undertow server = builder.build();
        try {
            server.start();
        } catch (RuntimeException e) {
            try {
                server.stop();
            } catch (RuntimeException ignored) {
                // nothing was started
            }
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof BindException) {
                    BindException bind = new BindException(
                            "cannot listen on " + host + ":" + requestedPort + ": " + cause.getMessage());
                    bind.initCause(e);
                    throw new UncheckedIOException(bind);
                }
                if (cause instanceof IOException io) {
                    throw new UncheckedIOException("cannot listen on " + host + ":" + requestedPort, io);
                }
            }
            throw e;
        }
        undertow = server;
        port = ((InetSocketAddress) server.getListenerInfo().get(0).getAddress()).getPort();
        LOG.log(System.Logger.Level.DEBUG, () -> "wsrouter listening on " + host + ":" + port);
        return this;
    }

    /** The bound port once started; the requested one before. */
    public synchronized int port() {
        return port >= 0 ? port : requestedPort;
    }

    public String host() {
        return host;
    }

    /** {@code ws://host:port} plus the path, for clients and tests. */
    public URI uri(String path) {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return URI.create("ws://" + h + ":" + port() + path);
    }

    /** The number of open WebSocket connections. */
    public int connectionCount() {
        return jakarta != null ? jakarta.routes().connectionCount() : nativeRoutes.connectionCount();
    }

    /** The counters of every route, and the refused handshakes, now. */
    public ServerStats stats() {
        return jakarta != null ? jakarta.stats() : nativeRoutes.stats();
    }

    /** Messages dropped because a connection's send buffer was full (policy {@link SendOverflow#DROP}). */
    public long droppedMessages() {
        return stats().total().droppedMessages();
    }

    /** Connections closed because their send buffer overflowed (policy {@link SendOverflow#CLOSE}). */
    public long slowConsumerCloses() {
        return stats().total().slowConsumerCloses();
    }

    /** The relay to other servers: {@link Relay#local()} unless the builder was given one. */
    public Relay relay() {
        return relay;
    }

    /** Whether the routes are served through the Jakarta WebSocket adapter. */
    public boolean isJakarta() {
        return jakarta != null;
    }

    /**
     * Closes every connection with 1001 and stops, within about the stop timeout. Idempotent.
     */
    public void stop() {
        Undertow server;
        synchronized (this) {
            server = undertow;
            undertow = null;
            stopped = true;
        }
        if (server != null) {
            if (jakarta != null) {
                jakarta.closeAll(CloseStatus.GOING_AWAY, stopTimeout);
                jakarta.undeploy();
            } else {
                nativeRoutes.closeAll(CloseStatus.GOING_AWAY, stopTimeout);
            }
            server.stop();
        }
        relay.close();
    }

    /** Same as {@link #stop()}. */
    @Override
    public void close() {
        stop();
    }

    /** Options of a {@link WsServer}. */
    public static final class Builder {
        private final Settings settings = new Settings();
        private boolean jakarta;
        private java.util.Set<String> allowedOrigins = java.util.Set.of();
        private boolean requireOrigin;
        private OriginPolicy origins = OriginPolicy.sameOrigin();
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private String host = "127.0.0.1";
        private int port = 8000;
        private String staticFolder;
        private final java.util.Map<String, HttpHandler> httpHandlers = new java.util.LinkedHashMap<>();
        private ClassLoader classLoader;
        private Duration stopTimeout = Duration.ofSeconds(5);
        private Integer ioThreads;
        private URI relayUri;

        private Builder() {}

        /**
         * Reaches the routes' connections on other servers through this relay; default {@link
         * Relay#local()}, this server alone. The server closes it when it stops.
         */
        public Builder relay(Relay relay) {
            settings.relay(relay);
            this.relayUri = null;
            return this;
        }

        /**
         * Reaches the routes' connections on other servers through the relay for this URI, such as
         * {@code redis://127.0.0.1:6379} ({@code wsrouter-redis} on the class path), created by
         * {@link #build()} with {@link Relay#create(URI)}. The server closes it when it stops.
         */
        public Builder relay(URI uri) {
            this.relayUri = Objects.requireNonNull(uri, "uri");
            return this;
        }

        /** The address to listen on; default {@code 127.0.0.1} (loopback only). */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** The port; default 8000; 0 picks a free port, readable with {@link WsServer#port()} after start. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535: " + port);
            }
            this.port = port;
            return this;
        }

        /** Mounts a router whose callbacks run on IO threads: see {@link WebSocketRoutes.Builder#route(String, MessageRouter)}. */
        public Builder route(String template, MessageRouter router) {
            settings.route(template, router, RouteOptions.defaults());
            return this;
        }

        /** Mounts a router whose callbacks run on the executor, in order per connection. */
        public Builder route(String template, MessageRouter router, Executor callbackExecutor) {
            settings.route(template, router, Objects.requireNonNull(callbackExecutor, "callbackExecutor"));
            return this;
        }

        /** Mounts a router with options of its own (limits, an executor); see {@link RouteOptions}. */
        public Builder route(String template, MessageRouter router, RouteOptions options) {
            settings.route(template, router, options);
            return this;
        }

        /**
         * Serves the routes through the Jakarta WebSocket adapter ({@link JakartaRoutes}) in an
         * embedded Undertow servlet deployment, instead of Undertow's native WebSocket API. Routers,
         * HTTP answers, limits and stop behave the same. It needs {@code
         * io.undertow:undertow-websockets-jsr} (the same version as {@code undertow-core}) on the
         * class path, which {@code wsrouter-server} leaves to the applications that use it.
         *
         * @throws IllegalStateException if {@code undertow-websockets-jsr} is not on the class path
         */
        public Builder jakarta() {
            jakartaAvailable(WsServer.class.getClassLoader());
            this.jakarta = true;
            return this;
        }

        /** @throws IllegalStateException naming the dependency to add, if the loader lacks it */
        static void jakartaAvailable(ClassLoader loader) {
            try {
                Class.forName("io.undertow.websockets.jsr.WebSocketDeploymentInfo", false, loader);
                Class.forName("jakarta.servlet.Servlet", false, loader);
            } catch (ClassNotFoundException | LinkageError missing) {
                throw new IllegalStateException(
                        "the Jakarta adapter needs io.undertow:undertow-websockets-jsr:"
                                + io.undertow.Version.getVersionString()
                                + " on the class path (wsrouter-server has it as an "
                                + "optional dependency): add it to your build, or leave out jakarta() to use Undertow's "
                                + "native WebSocket API",
                        missing);
            }
        }

        /**
         * Serves the files of a classpath folder (e.g. {@code "web"} for {@code src/main/resources/web})
         * at paths no route matches; {@code index.html} answers for {@code /}.
         */
        public Builder staticResources(String classpathFolder) {
            return staticResources(
                    classpathFolder,
                    Thread.currentThread().getContextClassLoader() != null
                            ? Thread.currentThread().getContextClassLoader()
                            : WsServer.class.getClassLoader());
        }

        /**
         * Serves plain HTTP requests to one exact path (not a WebSocket route) with an Undertow
         * handler, before static files: for a health check, a stats page, a token endpoint.
         */
        public Builder http(String exactPath, HttpHandler handler) {
            httpHandlers.put(
                    Objects.requireNonNull(exactPath, "exactPath"), Objects.requireNonNull(handler, "handler"));
            return this;
        }

        /** Serves static files from a classpath folder of the given class loader. */
        public Builder staticResources(String classpathFolder, ClassLoader loader) {
            this.staticFolder = Objects.requireNonNull(classpathFolder, "classpathFolder");
            this.classLoader = Objects.requireNonNull(loader, "loader");
            return this;
        }

        /**
         * Browser origins allowed besides the server's own ({@code *} for any); see {@link
         * WebSocketRoutes.Builder#allowedOrigins}. By default cross-origin pages get 403.
         */
        public Builder allowedOrigins(String... origins) {
            this.allowedOrigins = java.util.Set.of(origins);
            this.origins = new OriginPolicy(allowedOrigins, requireOrigin);
            return this;
        }

        /** Whether handshakes without an {@code Origin} header (non-browser clients) are refused; default {@code false}. */
        public Builder requireOrigin(boolean require) {
            this.requireOrigin = require;
            this.origins = new OriginPolicy(allowedOrigins, requireOrigin);
            return this;
        }

        /**
         * Runs on every handshake before the route's {@code onHandshake}: authenticate (for
         * example a signed token in a query parameter), attach an identity, or refuse with an HTTP
         * status before the upgrade. See {@link io.github.wsrouter.HandshakeHook}.
         */
        public Builder handshakeHook(io.github.wsrouter.HandshakeHook hook) {
            settings.handshakeHook(hook);
            return this;
        }

        /**
         * Each connection's send buffer bound and overflow policy; default 1 MiB, {@link
         * SendOverflow#CLOSE}. See {@link WebSocketRoutes.Builder#sendBuffer}.
         */
        public Builder sendBuffer(long maxQueuedBytes, SendOverflow overflow) {
            settings.sendBuffer(maxQueuedBytes, overflow);
            return this;
        }

        /** An inbound message rate limit per connection; default none. See {@link io.github.wsrouter.RateLimit}. */
        public Builder rateLimit(io.github.wsrouter.RateLimit limit) {
            settings.rateLimit(limit);
            return this;
        }

        /** Pings and the idle timeout; defaults 25 s and 60 s. See {@link WebSocketRoutes.Builder#keepalive}. */
        public Builder keepalive(Duration pingInterval, Duration idleTimeout) {
            settings.keepalive(pingInterval, idleTimeout);
            return this;
        }

        /**
         * How long a client may take to send its HTTP request (the WebSocket handshake); one that
         * sends a partial request, or none, is disconnected. Default 10 s.
         */
        public Builder handshakeTimeout(Duration timeout) {
            Checks.positive("handshakeTimeout", timeout);
            if (timeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(
                        "handshakeTimeout must be at most " + Integer.MAX_VALUE + " ms: " + timeout);
            }
            this.handshakeTimeout = timeout;
            return this;
        }

        /**
         * The most frames one message may come in; default 1,024. A message in more fragments closes
         * its connection with 1008.
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

        /** The most WebSocket connections open at once; over it a handshake gets 503. Default unlimited. */
        public Builder maxConnections(int max) {
            settings.maxConnections(max);
            return this;
        }

        /** See {@link WebSocketRoutes.Builder#maxMessageSize(int)}; default 64 KiB. */
        public Builder maxMessageSize(int bytes) {
            settings.maxMessageSize(bytes);
            return this;
        }

        /** See {@link io.github.wsrouter.server.WebSocketRoutes.Builder#linger(Duration, long)}; defaults 2 s and 16 MiB. */
        public Builder linger(Duration timeout, long maxBytes) {
            settings.linger(timeout, maxBytes);
            return this;
        }

        /** See {@link WebSocketRoutes.Builder#closeTimeout(Duration)}; default 5 s. */
        public Builder closeTimeout(Duration timeout) {
            settings.closeTimeout(timeout);
            return this;
        }

        /** How long {@link WsServer#stop()} waits for closing handshakes before dropping connections; default 5 s. */
        public Builder stopTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "stopTimeout");
            if (timeout.isNegative()) {
                throw new IllegalArgumentException("stopTimeout must be at least 0 ms: " + timeout);
            }
            this.stopTimeout = timeout;
            return this;
        }

        /**
         * Undertow's IO threads; default one per core the JVM may use. (Undertow's own default is
         * at least 2: on a single core the second thread only adds hand-offs between threads, as
         * routers run on the IO threads without blocking; a router that blocks takes an executor.)
         */
        public Builder ioThreads(int threads) {
            this.ioThreads = Checks.positive("ioThreads", threads);
            return this;
        }

        /**
         * @throws IllegalStateException if no route was added
         * @throws IllegalArgumentException if a router refuses its route (a template without the
         *     parameter it needs), a route's keepalive has an idle timeout not longer than its
         *     ping interval, an {@linkplain #http http} handler's path is a route's, or no relay
         *     supports the {@linkplain #relay(URI) relay URI}
         * @throws RuntimeException when the relay cannot connect
         */
        public WsServer build() {
            settings.requireRoutes();
            for (String path : httpHandlers.keySet()) {
                for (Settings.Mount mount : settings.mounts()) {
                    if (mount.template().match(path) != null) {
                        throw new IllegalArgumentException("http(\"" + path + "\", ...) would never be reached: the "
                                + "WebSocket route " + mount.template() + " serves that path. Give the handler "
                                + "another path, such as \"" + path.replaceAll("/+$", "") + "/status\"");
                    }
                }
            }
            if (relayUri == null) {
                return new WsServer(this);
            }
            Relay relay = Relay.create(relayUri);
            Relay before = settings.relay();
            settings.relay(relay);
            try {
                return new WsServer(this);
            } catch (RuntimeException e) {
                relay.close();
                throw e;
            } finally {
                settings.relay(before);
            }
        }
    }
}
