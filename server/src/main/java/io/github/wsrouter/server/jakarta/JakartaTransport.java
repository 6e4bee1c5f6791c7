package io.github.wsrouter.server.jakarta;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.server.ServerStats;
import io.github.wsrouter.server.internal.HandshakeRelay;
import io.github.wsrouter.server.internal.Settings;
import io.github.wsrouter.server.internal.Transport;
import io.github.wsrouter.server.internal.UpgradeGate;
import io.github.wsrouter.server.internal.UpgradeWatch;
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
final class JakartaTransport implements Transport, HttpHandler {

    static {
        Transport.register(Transport.JAKARTA, JakartaTransport::new);
    }

    private static final AtomicInteger DEPLOYMENTS = new AtomicInteger();

    private final JakartaRoutes routes;
    private final RouteTable<MessageRouter> table = new RouteTable<>();
    private final UpgradeGate gate;
    private final HttpHandler fallback;
    private final DeploymentManager manager;
    private final HttpHandler container;

    private JakartaTransport(Settings settings, HttpHandler fallback, Supplier<XnioWorker> worker) {
        this.routes = new JakartaRoutes(settings);
        settings.mounts().forEach(m -> table.add(m.template(), m.router()));
        this.gate = routes.gate;
        this.fallback = fallback;
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
        String rawPath = UpgradeGate.rawPath(exchange.getRequestURI());
        RouteTable.Match<MessageRouter> match = table.match(rawPath);
        if (match == null) {
            fallback.handleRequest(exchange);
            return;
        }
        if (!gate.admit(exchange, routes.connectionCount())) {
            return;
        }
        String upgrade = exchange.getRequestHeaders().getFirst(Headers.UPGRADE);
        if (upgrade == null
                || !upgrade.equalsIgnoreCase("websocket")
                || !exchange.getRequestHeaders().contains(Headers.SEC_WEB_SOCKET_KEY)) {
            UpgradeGate.notAnUpgrade(exchange);
            return;
        }
        Handshake accepted = gate.decide(exchange, rawPath, match.parameters(), match.value());
        if (accepted == null) {
            return;
        }
        String key = HandshakeRelay.put(accepted);
        // the container opens the connection before its 101; this tells it if the client goes first
        UpgradeWatch.watch(key, exchange.getConnection());
        exchange.getRequestHeaders().put(new HttpString(HandshakeRelay.HEADER), key);
        container.handleRequest(exchange);
    }

    @Override
    public HttpHandler handler() {
        return this;
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
        try {
            manager.stop();
        } catch (ServletException | RuntimeException e) {
            // stopping anyway
        }
        manager.undeploy();
    }
}
