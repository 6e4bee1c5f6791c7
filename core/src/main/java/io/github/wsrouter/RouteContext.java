package io.github.wsrouter;

import java.util.Objects;

/**
 * What a transport tells a router about one route it is mounted on, before the route's first
 * connection opens: see {@link MessageRouter#onMount}.
 *
 * @param route the route's path template as written, e.g. {@code /ws/{username}/}: the same on
 *     every node that serves the route, so it names the route's {@link Relay.Channel channel}
 * @param relay how the router reaches the route's connections on other nodes; {@link
 *     Relay#local()} on a single node
 */
public record RouteContext(String route, Relay relay) {

    public RouteContext {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(relay, "relay");
    }

    /** The route's path template, parsed. */
    public PathTemplate template() {
        return PathTemplate.parse(route);
    }

    /** Whether the route's template has a parameter of this name, such as {@code room} in {@code /rooms/{room}/}. */
    public boolean hasParameter(String name) {
        return template().parameterNames().contains(name);
    }
}
