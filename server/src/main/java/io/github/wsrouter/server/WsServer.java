package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.Relay;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.internal.Checks;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.server.internal.Transport;
import io.github.wsrouter.server.undertow.WebSocketRoutes;
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
 * Undertow's IO threads unless the route has an executor. Every limit and policy is a {@link
 * WsOptions} field, given with {@link Builder#options} or, per route, {@link
 * Builder#route(String, MessageRouter, WsOptions)}.
 *
 * <h2>Several servers</h2>
 * Given a {@linkplain WsOptions.Builder#relay(URI) relay} (for example {@code redis://127.0.0.1:6379} with
 * {@code wsrouter-redis} on the class path), servers that mount the same routes form one service:
 * broadcasts, rooms and directed messages reach the connections of every server. The server
 * owns the relay and closes it when it stops.
 */
public final class WsServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("io.github.wsrouter.server");

    private final String host;
    private final int requestedPort;
    private final Transport transport;
    private final boolean jakarta;
    private final Duration stopTimeout;
    private final Integer ioThreads;
    private final Duration handshakeTimeout;
    private final Relay relay;
    private volatile Undertow undertow;
    private int port = -1;
    private boolean started;
    private boolean stopped;

    private WsServer(Builder builder, Settings settings) {
        this.host = builder.host;
        this.requestedPort = builder.port;
        this.stopTimeout = builder.stopTimeout;
        this.ioThreads = builder.ioThreads;
        this.handshakeTimeout = builder.handshakeTimeout;
        this.relay = settings.relay();
        this.jakarta = builder.jakarta;
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
        this.transport = Transport.create(
                builder.jakarta ? Transport.JAKARTA : Transport.UNDERTOW, settings, fallback, this::worker);
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
                .setHandler(transport.handler());
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
        return transport.connectionCount();
    }

    /** The counters of every route, and the refused handshakes, now. */
    public ServerStats stats() {
        return transport.stats();
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
        return jakarta;
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
            transport.stop(stopTimeout);
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
        private final Settings.Collector settings = new Settings.Collector();
        private boolean jakarta;
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private String host = "127.0.0.1";
        private int port = 8000;
        private String staticFolder;
        private final java.util.Map<String, HttpHandler> httpHandlers = new java.util.LinkedHashMap<>();
        private ClassLoader classLoader;
        private Duration stopTimeout = Duration.ofSeconds(5);
        private Integer ioThreads;

        private Builder() {}

        /**
         * The limits and policies of every route (those a route sets for itself aside), the
         * origins, the hook and the relay; see {@link WsOptions}. Default {@link
         * WsOptions#defaults()}. A relay given here, or created from its URI, is closed when the
         * server stops.
         */
        public Builder options(WsOptions options) {
            settings.options(options);
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

        /**
         * Mounts a router with the server-wide options: its callbacks run on IO threads (they must
         * not block) unless those options name an executor. See {@link
         * WebSocketRoutes.Builder#route(String, MessageRouter)}.
         */
        public Builder route(String template, MessageRouter router) {
            return route(template, router, WsOptions.builder().build());
        }

        /**
         * Mounts a router with options of its own (limits, an executor), laid field by field over
         * the server-wide ones.
         *
         * @throws IllegalArgumentException if the template is malformed or collides with a mounted
         *     one, or the options set a server-wide field (relay, maxConnections, closeTimeout,
         *     linger, maxPingsPerMinute, handshakeHook, allowedOrigins)
         */
        public Builder route(String template, MessageRouter router, WsOptions options) {
            settings.route(template, router, options);
            return this;
        }

        /**
         * Serves the routes through the Jakarta WebSocket adapter in an
         * embedded Undertow servlet deployment, instead of Undertow's native WebSocket API. Routers,
         * HTTP answers, limits and stop behave the same ({@link
         * io.github.wsrouter.server.jakarta.JakartaRoutes}). It needs {@code
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
         *     supports the {@linkplain WsOptions.Builder#relay(URI) relay URI}
         * @throws RuntimeException when the relay cannot connect
         */
        public WsServer build() {
            if (settings.templates().isEmpty()) {
                settings.build(Relay.local()); // throws: no route
            }
            for (String path : httpHandlers.keySet()) {
                for (io.github.wsrouter.PathTemplate template : settings.templates()) {
                    if (template.match(path) != null) {
                        throw new IllegalArgumentException("http(\"" + path + "\", ...) would never be reached: the "
                                + "WebSocket route " + template + " serves that path. Give the handler "
                                + "another path, such as \"" + path.replaceAll("/+$", "") + "/status\"");
                    }
                }
            }
            URI relayUri = settings.options().relayUri();
            if (relayUri == null) {
                return new WsServer(this, settings.build());
            }
            Relay relay = Relay.create(relayUri);
            try {
                return new WsServer(this, settings.build(relay));
            } catch (RuntimeException e) {
                relay.close();
                throw e;
            }
        }
    }
}
