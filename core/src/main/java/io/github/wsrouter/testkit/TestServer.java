package io.github.wsrouter.testkit;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.PathTemplate;
import io.github.wsrouter.Relay;
import io.github.wsrouter.RouteContext;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.WsOptions;
import io.github.wsrouter.internal.Checks;
import io.github.wsrouter.spi.Handshake;
import io.github.wsrouter.spi.RouteCounters;
import io.github.wsrouter.spi.RouteTable;
import io.github.wsrouter.spi.SendLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Routers mounted on path templates, served in memory: the same routing, lifecycle, limits and
 * send guarantees as a real server, with no sockets.
 *
 * <pre>{@code
 * TestServer server = TestServer.create()
 *         .route("/ws/{username}/", DirectedJsonRouter.create());
 * TestClient alice = server.connect("/ws/alice/");
 * TestClient bob = server.connect("/ws/bob/");
 *
 * alice.sendText("{\"to_user\":\"bob\",\"message\":\"hi\"}");
 *
 * assertEquals("{\"to_user\":\"bob\",\"message\":\"hi\",\"from\":\"alice\"}", bob.nextText());
 * alice.assertNoMoreMessages();
 * }</pre>
 *
 * <h2>Threads</h2>
 * By default router callbacks run on the thread that calls {@link #connect} or a {@link
 * TestClient} method, before that method returns, and what a router sends is recorded at once. So
 * a test reads results right after acting, with no waiting. A route mounted with an {@linkplain
 * WsOptions#executor() executor} runs its callbacks there instead, one at a time and in order
 * per connection, as the real server does; a test then waits for results with {@link
 * TestClient#awaitText(java.time.Duration)} and {@link TestClient#awaitClose(java.time.Duration)},
 * as it does for a router that sends from threads of its own.
 *
 * <h2>Limits</h2>
 * There are no server-wide limits in memory: a route mounted without {@link WsOptions} accepts
 * messages of any size and any rate, and has an unbounded send buffer. A route's options apply as on
 * the real server; see {@link #route(String, MessageRouter, WsOptions)}.
 *
 * <p>Routes follow {@link PathTemplate}'s matching and precedence; a template that collides with
 * one already mounted is refused, as the real server does. Header names are case-insensitive.
 * Safe for use from several threads.
 */
public final class TestServer {

    /** A mounted route: its router and what its options make of it in memory. */
    record Mount(
            MessageRouter router, Executor executor, SendLimits limits, long maxMessageSize, RouteCounters counters) {}

    private final RouteTable<Mount> routes = new RouteTable<>();
    private final Set<TestClient> clients = ConcurrentHashMap.newKeySet();
    private volatile HandshakeHook hook;
    private Relay relay = Relay.local();

    private TestServer() {}

    public static TestServer create() {
        return new TestServer();
    }

    /**
     * Mounts a router with no limits, its callbacks run on the calling thread.
     *
     * @throws IllegalArgumentException if the template is malformed or collides with a mounted one
     */
    public TestServer route(String template, MessageRouter router) {
        return route(template, router, WsOptions.builder().build());
    }

    /**
     * Mounts a router with options of its own, applied as the real server applies them:
     * <ul>
     *   <li>{@link WsOptions#executor() executor}: router callbacks run on it, one at a time and
     *       in order per connection; without one they run on the calling thread;
     *   <li>{@link WsOptions#maxMessageSize() maxMessageSize}: a text message whose UTF-8
     *       encoding, or a binary message, is longer closes its connection with {@link
     *       CloseStatus#MESSAGE_TOO_BIG 1009} "message over N bytes"; the router sees the close,
     *       not the message;
     *   <li>{@link WsOptions#rateLimit() rateLimit}: a message over the limit is answered or
     *       closes its connection, as {@link io.github.wsrouter.RateLimit.Exceeded} says;
     *   <li>{@link WsOptions#sendBufferBytes() sendBuffer}: bounds what waits to be written;
     *       frames are read at once in memory, so the bound is reached only behind a client that
     *       {@linkplain TestClient#pauseReading() stopped reading}.
     * </ul>
     * Ignored in memory, where there are no frames and no idle peers: {@link
     * WsOptions#maxFragments() maxFragments} (a test client sends whole messages) and {@link
     * WsOptions#pingInterval() keepalive} (no pings, and no connection is dropped as idle). The
     * server-wide fields (relay, handshake hook, origins, connection and ping caps, close timeout,
     * linger) are refused, as on the real server; the test server has its own {@link
     * #relay(Relay)} and {@link #handshakeHook(HandshakeHook)}.
     *
     * @throws IllegalArgumentException if the template is malformed or collides with a mounted one,
     *     or the options set a server-wide field
     */
    public synchronized TestServer route(String template, MessageRouter router, WsOptions options) {
        Objects.requireNonNull(router, "router");
        Objects.requireNonNull(options, "options");
        PathTemplate parsed = PathTemplate.parse(template);
        Checks.routeOptions(template, options);
        SendLimits limits = new SendLimits(
                options.sendBufferBytes() != null ? options.sendBufferBytes() : 0,
                options.sendOverflow() != null ? options.sendOverflow() : SendOverflow.CLOSE,
                options.hasRateLimit() ? options.rateLimit() : null);
        Mount mount = new Mount(
                router,
                options.executor() != null ? options.executor() : Runnable::run,
                limits,
                options.maxMessageSize() != null ? options.maxMessageSize() : Long.MAX_VALUE,
                new RouteCounters());
        routes.add(parsed, mount);
        router.onMount(new RouteContext(parsed.toString(), relay));
        return this;
    }

    /**
     * The relay that routers mounted after this call are given ({@link MessageRouter#onMount});
     * default {@link Relay#local()}. A test relay of your own shows what a router publishes to
     * other nodes, and hands it messages as if another node had sent them.
     */
    public synchronized TestServer relay(Relay relay) {
        this.relay = Objects.requireNonNull(relay, "relay");
        return this;
    }

    /** Runs this hook on every handshake before the route's {@code onHandshake}, as the server does. */
    public TestServer handshakeHook(HandshakeHook hook) {
        this.hook = hook;
        return this;
    }

    /**
     * A request to a path, which may carry a query string ({@code /ws/alice/?token=t}), to which
     * headers can be added before it {@linkplain Request#connect() connects} or only {@linkplain
     * Request#handshake() runs the handshake}.
     */
    public Request request(String pathAndQuery) {
        return new Request(this, pathAndQuery);
    }

    /**
     * Runs the handshake decisions (the hook, then the route's {@code onHandshake}) for a path
     * without opening a connection: to test what a router or hook refuses. For a header with
     * several values, see {@link #request(String)}.
     *
     * @param headers one value per header name
     * @throws AssertionError if no route matches the path
     */
    public HandshakeDecision handshake(String pathAndQuery, Map<String, String> headers) {
        return decision(pathAndQuery, singleValued(headers));
    }

    /** Opens a connection at a path, which may carry a query string ({@code /ws/alice/?token=t}). */
    public TestClient connect(String pathAndQuery) {
        return connect(pathAndQuery, Map.of());
    }

    /**
     * Opens a connection with request headers. On a route without an executor, the router's
     * {@code onOpen} has run when this returns (and may have closed the connection: see {@link
     * TestClient#closeStatus()}). For a header with several values, see {@link #request(String)}.
     *
     * @param headers one value per header name
     * @throws AssertionError if no route matches the path (a real server answers 404), or the
     *     handshake hook or the router refuses the handshake
     */
    public TestClient connect(String pathAndQuery, Map<String, String> headers) {
        return open(pathAndQuery, singleValued(headers));
    }

    /**
     * Closes every open connection with 1001 (going away), as a server that stops. A client that
     * {@linkplain TestClient#pauseReading() stopped reading} sees the close once it reads again.
     */
    public void stop() {
        for (TestClient client : List.copyOf(clients)) {
            client.connection().close(CloseStatus.GOING_AWAY);
        }
    }

    /**
     * A handshake request being written: headers are added in order, and a name given twice (in
     * any case) has both values, as several header lines of an HTTP request. Not safe for use from
     * several threads; each {@link #connect()} opens a new connection with the headers so far.
     */
    public static final class Request {

        private final TestServer server;
        private final String pathAndQuery;
        private final List<Map.Entry<String, List<String>>> headers = new ArrayList<>();

        private Request(TestServer server, String pathAndQuery) {
            this.server = server;
            this.pathAndQuery = Objects.requireNonNull(pathAndQuery, "pathAndQuery");
        }

        /**
         * Adds a header line; the values of a name given several times are kept in order.
         *
         * @throws IllegalArgumentException if the name is empty
         */
        public Request header(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("a header name cannot be empty");
            }
            headers.add(Map.entry(name, List.of(value)));
            return this;
        }

        /**
         * Opens a connection, as {@link TestServer#connect(String, Map)} does.
         *
         * @throws AssertionError if no route matches the path, or the handshake is refused
         */
        public TestClient connect() {
            return server.open(pathAndQuery, Handshake.headers(headers));
        }

        /**
         * Runs the handshake decisions without opening a connection, as {@link
         * TestServer#handshake(String, Map)} does.
         *
         * @throws AssertionError if no route matches the path
         */
        public HandshakeDecision handshake() {
            return server.decision(pathAndQuery, Handshake.headers(headers));
        }
    }

    // ---- internals ----

    private HandshakeDecision decision(String pathAndQuery, Map<String, List<String>> headers) {
        Handshake.Decided decided = decide(pathAndQuery, headers).decided;
        return decided.refusal() != null
                ? decided.refusal()
                : decided.accepted().identity() == null
                        ? HandshakeDecision.accept()
                        : HandshakeDecision.acceptAs(decided.accepted().identity());
    }

    private TestClient open(String pathAndQuery, Map<String, List<String>> headers) {
        Attempt attempt = decide(pathAndQuery, headers);
        if (attempt.decided.refusal() != null) {
            HandshakeDecision refusal = attempt.decided.refusal();
            throw new AssertionError("the handshake to " + pathAndQuery + " was refused with " + refusal.status() + " "
                    + refusal.reason());
        }
        TestClient client = new TestClient(attempt.decided.accepted(), attempt.mount, clients::remove);
        clients.add(client);
        client.open();
        return client;
    }

    private record Attempt(Handshake.Decided decided, Mount mount) {}

    /** @param headers as {@link Handshake#headers} makes them */
    private Attempt decide(String pathAndQuery, Map<String, List<String>> headers) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? null : pathAndQuery.substring(q + 1);
        RouteTable.Match<Mount> match;
        synchronized (this) {
            match = routes.match(path);
            if (match == null) {
                throw new AssertionError("no route matches " + path + "; routes: " + routes.templates());
            }
        }
        Handshake handshake = new Handshake(path, match.parameters(), Handshake.parseQuery(query), headers);
        return new Attempt(handshake.decide(hook, match.value().router()), match.value());
    }

    private static Map<String, List<String>> singleValued(Map<String, String> headers) {
        List<Map.Entry<String, List<String>>> lines = new ArrayList<>(headers.size());
        headers.forEach((name, value) -> lines.add(Map.entry(name, List.of(value))));
        return Handshake.headers(lines);
    }
}
