package io.github.wsrouter.server.internal;

import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.PathTemplate;
import io.github.wsrouter.Relay;
import io.github.wsrouter.RouteContext;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.internal.Checks;
import io.github.wsrouter.spi.RouteTable;
import io.github.wsrouter.spi.SendLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * What a server builder collected, resolved once: the server-wide {@link WsOptions} laid over the
 * defaults, and each route with its own options laid over those. Immutable. Not API: the public
 * builders collect into a {@link Collector} and build one.
 */
public final class Settings {

    /** A router on a template, with its options resolved (every field set). */
    public record Mount(PathTemplate template, MessageRouter router, WsOptions options) {
        /** The executor for the route's callbacks; {@code null}: the IO thread. */
        public Executor executor() {
            return options.executor();
        }
    }

    /**
     * The limits one route's connections live under: the route's own where it set them, else the
     * server's.
     */
    public record Limits(
            int maxMessageSize,
            int maxFragments,
            int maxPingsPerMinute,
            SendLimits sendLimits,
            long pingMillis,
            long idleMillis,
            long closeTimeoutMillis,
            long lingerMillis,
            long lingerBytes) {}

    private final WsOptions options;
    private final List<Mount> mounts;

    private Settings(WsOptions options, List<Mount> mounts) {
        this.options = options;
        this.mounts = List.copyOf(mounts);
    }

    /** The server-wide options, resolved: every field set but the hook and the executor, which may be none. */
    public WsOptions options() {
        return options;
    }

    public List<Mount> mounts() {
        return mounts;
    }

    public HandshakeHook hook() {
        return options.handshakeHook();
    }

    public Relay relay() {
        return options.relay();
    }

    public int maxConnections() {
        return options.maxConnections();
    }

    public OriginPolicy origins() {
        return new OriginPolicy(options.allowedOrigins(), options.requireOrigin());
    }

    /** Tells each router the route it is mounted on and the relay: once per built transport, before it serves. */
    public void mountRouters() {
        for (Mount mount : mounts) {
            mount.router().onMount(new RouteContext(mount.template().toString(), relay()));
        }
    }

    /** The limits of a mounted route. */
    public Limits limits(Mount mount) {
        WsOptions o = mount.options();
        return new Limits(
                o.maxMessageSize(),
                o.maxFragments(),
                o.maxPingsPerMinute(),
                new SendLimits(o.sendBufferBytes(), o.sendOverflow(), o.rateLimit()),
                o.pingInterval().toMillis(),
                o.idleTimeout().toMillis(),
                o.closeTimeout().toMillis(),
                o.lingerTimeout().toMillis(),
                o.lingerBytes());
    }

    /**
     * What a public builder collects: the server-wide options and the routes. Checks each route
     * as it is added.
     */
    public static final class Collector {
        private record Route(PathTemplate template, MessageRouter router, WsOptions options) {}

        private final RouteTable<Route> validated = new RouteTable<>();
        private final List<Route> routes = new ArrayList<>();
        private WsOptions options = WsOptions.builder().build();

        public void options(WsOptions options) {
            this.options = Objects.requireNonNull(options, "options");
        }

        public WsOptions options() {
            return options;
        }

        /**
         * @throws IllegalArgumentException if the template is malformed or collides with a mounted
         *     one, or the options set a server-wide field
         */
        public void route(String template, MessageRouter router, WsOptions options) {
            Objects.requireNonNull(router, "router");
            Objects.requireNonNull(options, "options");
            PathTemplate parsed = PathTemplate.parse(template);
            Checks.routeOptions(template, options);
            Route route = new Route(parsed, router, options);
            validated.add(parsed, route);
            routes.add(route);
        }

        /** @throws IllegalStateException if no route was added */
        public Settings build() {
            if (options.relayUri() != null) {
                throw new IllegalArgumentException("relay(" + options.relayUri() + "): only WsServer creates a relay "
                        + "from a URI (and closes it when it stops); give these routes a Relay of your own, "
                        + "WsOptions.builder().relay(Relay.create(uri)), and close it after them");
            }
            return build(options.relay() != null ? options.relay() : Relay.local());
        }

        /**
         * The settings, with this relay (one {@link WsOptions.Builder#relay(java.net.URI)} gave).
         *
         * @throws IllegalStateException if no route was added
         */
        public Settings build(Relay relay) {
            if (routes.isEmpty()) {
                throw new IllegalStateException("no route: add at least one with route(template, router)");
            }
            WsOptions server = options.toBuilder().relay(relay).build().over(WsOptions.defaults());
            List<Mount> mounts = new ArrayList<>();
            for (Route route : routes) {
                mounts.add(new Mount(
                        route.template(), route.router(), route.options().over(server)));
            }
            return new Settings(server, mounts);
        }

        /** The templates of the routes added so far. */
        public List<PathTemplate> templates() {
            return routes.stream().map(Route::template).toList();
        }
    }
}
