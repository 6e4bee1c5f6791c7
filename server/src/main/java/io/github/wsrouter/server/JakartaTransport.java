package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.server.internal.HandshakeRelay;
import io.github.wsrouter.server.jakarta.JakartaRoutes;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.RouteTable;
import io.undertow.server.DefaultByteBufferPool;
import io.undertow.server.HttpHandler;
import io.undertow.server.HttpServerExchange;
import io.undertow.servlet.Servlets;
import io.undertow.servlet.api.DeploymentInfo;
import io.undertow.servlet.api.DeploymentManager;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import io.undertow.websockets.jsr.WebSocketDeploymentInfo;
import jakarta.servlet.ServletException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.xnio.XnioWorker;

/**
 * Serves {@link JakartaRoutes} from an embedded Undertow servlet deployment, with the native
 * adapter's HTTP answers: upgrades on a route go to the Jakarta container; other requests on a
 * route get 426; paths no route matches go to the fallback.
 */
final class JakartaTransport implements HttpHandler {

    private static final AtomicInteger DEPLOYMENTS = new AtomicInteger();

    private final JakartaRoutes routes;
    private final RouteTable<MessageRouter> table;
    private final HandshakeHook hook;
    private final HttpHandler fallback;
    private final DeploymentManager manager;
    private final HttpHandler container;

    private final OriginPolicy origins;
    private final int maxConnections;
    private final Rejections rejections = new Rejections();

    JakartaTransport(
            JakartaRoutes routes,
            RouteTable<MessageRouter> table,
            HandshakeHook hook,
            HttpHandler fallback,
            OriginPolicy origins,
            int maxConnections,
            Supplier<XnioWorker> worker) {
        this.maxConnections = maxConnections;
        this.routes = routes;
        this.table = table;
        this.hook = hook;
        this.fallback = fallback;
        this.origins = origins;
        WebSocketDeploymentInfo webSockets =
                new WebSocketDeploymentInfo().setWorker(worker).setBuffers(new DefaultByteBufferPool(true, 16 * 1024));
        routes.endpointConfigs().forEach(webSockets::addEndpoint);
        DeploymentInfo deployment = Servlets.deployment()
                .setClassLoader(new DeploymentClassLoader(JakartaTransport.class.getClassLoader()))
                .setContextPath("/")
                .setDeploymentName("wsrouter-" + DEPLOYMENTS.incrementAndGet())
                .addServletContextAttribute(WebSocketDeploymentInfo.ATTRIBUTE_NAME, webSockets);
        manager = Servlets.newContainer().addDeployment(deployment);
        manager.deploy();
        try {
            container = manager.start();
        } catch (ServletException e) {
            throw new IllegalStateException("could not start the Jakarta WebSocket deployment: " + e.getMessage(), e);
        }
    }

    /**
     * Undertow registers a deployment's WebSocket container under the deployment's class loader, so
     * {@code ContainerProvider.getWebSocketContainer()} called with that loader as context loader
     * returns the server's container, which dies with the server. A loader of our own (delegating
     * everything to the application's) keeps the application's client container its own.
     */
    private static final class DeploymentClassLoader extends ClassLoader {
        DeploymentClassLoader(ClassLoader parent) {
            super("wsrouter-jakarta", parent);
        }
    }

    @Override
    public void handleRequest(HttpServerExchange exchange) throws Exception {
        exchange.getRequestHeaders().remove(HandshakeRelay.HEADER); // only we may set it
        String rawPath = WebSocketRoutes.rawPath(exchange.getRequestURI());
        RouteTable.Match<MessageRouter> match = table.match(rawPath);
        if (match == null) {
            fallback.handleRequest(exchange);
            return;
        }
        if (origins.refuse(exchange, rejections)) {
            return;
        }
        if (routes.connectionCount() >= maxConnections) {
            rejections.count("capacity");
            WebSocketRoutes.refuse(exchange, io.github.wsrouter.HandshakeDecision.reject(503, "too many connections"));
            return;
        }
        String upgrade = exchange.getRequestHeaders().getFirst(Headers.UPGRADE);
        if (upgrade == null
                || !upgrade.equalsIgnoreCase("websocket")
                || !exchange.getRequestHeaders().contains(Headers.SEC_WEB_SOCKET_KEY)) {
            WebSocketRoutes.notAnUpgrade(exchange);
            return;
        }
        Handshake.Decided decided =
                WebSocketRoutes.handshake(exchange, rawPath, match.parameters()).decide(hook, match.value());
        if (decided.refusal() != null) {
            rejections.count(Integer.toString(decided.refusal().status()));
            WebSocketRoutes.refuse(exchange, decided.refusal());
            return;
        }
        String key = HandshakeRelay.put(decided.accepted());
        // the container opens the connection before its 101; this tells it if the client goes first
        io.github.wsrouter.server.internal.UpgradeWatch.watch(key, exchange.getConnection());
        exchange.getRequestHeaders().put(new HttpString(HandshakeRelay.HEADER), key);
        container.handleRequest(exchange);
    }

    JakartaRoutes routes() {
        return routes;
    }

    ServerStats stats() {
        return new ServerStats(
                routes.connectionCount(), routes.routeStats(), rejections.snapshot(), routes.queuedBytes());
    }

    void closeAll(CloseStatus status, Duration timeout) {
        routes.closeAll(status, timeout);
    }

    void undeploy() {
        try {
            manager.stop();
        } catch (ServletException | RuntimeException e) {
            // stopping anyway
        }
        manager.undeploy();
    }
}
