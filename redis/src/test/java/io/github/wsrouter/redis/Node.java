package io.github.wsrouter.redis;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.Relay;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.server.WsServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;

/**
 * One server of a multi-node test, on a free port, with the example runner's routes and its own
 * {@link RedisRelay}: {@code /ws/} broadcast, {@code /rooms/{room}/} rooms, {@code /ws/{username}/}
 * directed JSON with {@code "*"} for everyone, and {@code /history/{username}/} the same with history
 * (1,000 messages, 5 minutes) in Redis.
 */
final class Node implements AutoCloseable {

    static final String BROADCAST = "/ws/";
    static final String ROOMS = "/rooms/{room}/";
    static final String DIRECTED = "/ws/{username}/";
    static final String HISTORY = "/history/{username}/";
    static final String PRESENCE = "/presence/{username}/";

    /** How long a node that stops answering keeps its users in the tests: 3 s. */
    static final Duration PRESENCE_TIMEOUT = Duration.ofSeconds(3);

    final String name;
    final RedisRelay relay;
    final BroadcastRouter broadcast = BroadcastRouter.create();
    final BroadcastRouter rooms =
            BroadcastRouter.builder().roomParameter("room").build();
    /** Directed JSON with rooms: anybody joins any room but {@code staff}, which only {@code admin} may. */
    final DirectedJsonRouter directed = DirectedJsonRouter.builder()
            .everyone("*")
            .rooms((user, room, action) -> !room.equals("staff") || user.equals("admin"))
            .build();

    final DirectedJsonRouter history = DirectedJsonRouter.builder()
            .everyone("*")
            .history(1000, Duration.ofMinutes(5))
            .build();
    /** Directed JSON with presence across nodes. */
    final DirectedJsonRouter presence =
            DirectedJsonRouter.builder().presence(true).build();

    final WsServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    private Node(String name, URI redis, Duration commandTimeout, boolean jakarta) {
        this.name = name;
        this.relay = RedisRelay.builder(redis)
                .nodeId(name)
                .commandTimeout(commandTimeout)
                .presenceTimeout(PRESENCE_TIMEOUT)
                .build();
        WsServer.Builder builder = WsServer.builder()
                .port(0)
                .options(WsOptions.builder().relay(relay).build())
                .route(BROADCAST, broadcast)
                .route(ROOMS, rooms)
                .route(DIRECTED, directed)
                .route(HISTORY, history)
                .route(PRESENCE, presence);
        if (jakarta) {
            builder.jakarta();
        }
        this.server = builder.build().start();
    }

    /**
     * Commands time out after 5 s here, not the default 2 s: on a busy test machine an answer may
     * come late, and these tests are about what arrives, not about timeouts.
     */
    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);

    static Node start(String name, URI redis) {
        return new Node(name, redis, COMMAND_TIMEOUT, false);
    }

    /** A node that serves its routes through the Jakarta WebSocket adapter. */
    static Node startJakarta(String name, URI redis) {
        return new Node(name, redis, COMMAND_TIMEOUT, true);
    }

    static Node start(String name, URI redis, Duration commandTimeout) {
        return new Node(name, redis, commandTimeout, false);
    }

    WsClient connect(String path) {
        return WsClient.connect(http, server.uri(path));
    }

    /** Stops without a word to Redis, as a node that dies: its relay's connections are dropped, nothing is cleaned. */
    void crash() {
        relay.crash();
        server.stop();
    }

    /** Whether Redis confirmed this node's subscription to a topic of a route. */
    boolean subscribed(String route, Relay.Topic topic) {
        return relay.isSubscribed(route, topic);
    }

    @Override
    public void close() {
        server.stop(); // closes the relay too
    }

    @Override
    public String toString() {
        return name;
    }
}
