package io.github.wsrouter.testkit;

import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.PathTemplate;
import io.github.wsrouter.Relay;
import io.github.wsrouter.RouteContext;
import io.github.wsrouter.internal.Handshake;
import io.github.wsrouter.internal.RouteTable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Routers mounted on path templates, served in memory: the same routing, lifecycle and send
 * guarantees as a real server, with no sockets and no threads.
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
 * <h2>Synchronous</h2>
 * Router callbacks run on the thread that calls {@link #connect} or a {@link TestClient} method,
 * before that method returns; what a router sends is recorded at once. So a test reads results
 * right after acting, with no waiting. A router that sends from threads of its own can be awaited
 * with {@link TestClient#awaitText(java.time.Duration)}.
 *
 * <p>Routes follow {@link PathTemplate}'s matching and precedence; a template that collides with
 * one already mounted is refused, as the real server does. Safe for use from several threads.
 */
public final class TestServer {

    private final RouteTable<MessageRouter> routes = new RouteTable<>();
    private final Set<TestClient> clients = ConcurrentHashMap.newKeySet();
    private volatile HandshakeHook hook;
    private Relay relay = Relay.local();

    private TestServer() {
    }

    public static TestServer create() {
        return new TestServer();
    }

    /**
     * Mounts a router.
     *
     * @throws IllegalArgumentException if the template is malformed or collides with a mounted one
     */
    public synchronized TestServer route(String template, MessageRouter router) {
        PathTemplate parsed = PathTemplate.parse(template);
        routes.add(parsed, router);
        router.onMount(new RouteContext(parsed.toString(), relay));
        return this;
    }

    /**
     * The relay that routers mounted after this call are given ({@link MessageRouter#onMount});
     * default {@link Relay#local()}. A test relay of your own shows what a router publishes to
     * other nodes, and hands it messages as if another node had sent them.
     */
    public synchronized TestServer relay(Relay relay) {
        this.relay = java.util.Objects.requireNonNull(relay, "relay");
        return this;
    }

    /** Runs this hook on every handshake before the route's {@code onHandshake}, as the server does. */
    public TestServer handshakeHook(HandshakeHook hook) {
        this.hook = hook;
        return this;
    }

    /**
     * Runs the handshake decisions (the hook, then the route's {@code onHandshake}) for a path
     * without opening a connection: to test what a router or hook refuses.
     */
    public HandshakeDecision handshake(String pathAndQuery, Map<String, String> headers) {
        Handshake.Decided decided = decide(pathAndQuery, headers).decided;
        return decided.refusal() != null ? decided.refusal()
                : decided.accepted().identity() == null ? HandshakeDecision.accept()
                : HandshakeDecision.acceptAs(decided.accepted().identity());
    }

    /** Opens a connection at a path, which may carry a query string ({@code /ws/alice/?token=t}). */
    public TestClient connect(String pathAndQuery) {
        return connect(pathAndQuery, Map.of());
    }

    /**
     * Opens a connection with request headers; the router's {@code onOpen} has run when this
     * returns (and may have closed the connection: see {@link TestClient#closeStatus()}).
     *
     * @throws AssertionError if no route matches the path (a real server answers 404), or the
     *     handshake hook or the router refuses the handshake
     */
    public TestClient connect(String pathAndQuery, Map<String, String> headers) {
        Attempt attempt = decide(pathAndQuery, headers);
        if (attempt.decided.refusal() != null) {
            HandshakeDecision refusal = attempt.decided.refusal();
            throw new AssertionError("the handshake to " + pathAndQuery + " was refused with "
                    + refusal.status() + " " + refusal.reason());
        }
        TestClient client = new TestClient(attempt.decided.accepted(), attempt.router, clients::remove);
        clients.add(client);
        client.open();
        return client;
    }

    private record Attempt(Handshake.Decided decided, MessageRouter router) {
    }

    private Attempt decide(String pathAndQuery, Map<String, String> headers) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        String query = q < 0 ? null : pathAndQuery.substring(q + 1);
        RouteTable.Match<MessageRouter> match;
        synchronized (this) {
            match = routes.match(path);
        }
        if (match == null) {
            throw new AssertionError("no route matches " + path + "; routes: " + routes.templates());
        }
        Map<String, List<String>> headerLists = new java.util.LinkedHashMap<>();
        headers.forEach((name, value) -> headerLists.put(name, List.of(value)));
        Handshake handshake = new Handshake(path, match.parameters(), Handshake.parseQuery(query), headerLists);
        return new Attempt(handshake.decide(hook, match.value()), match.value());
    }

    /** Closes every open connection with 1001 (going away), as a server that stops. */
    public void stop() {
        for (TestClient client : List.copyOf(clients)) {
            client.connection().close(io.github.wsrouter.CloseStatus.GOING_AWAY);
        }
    }
}
