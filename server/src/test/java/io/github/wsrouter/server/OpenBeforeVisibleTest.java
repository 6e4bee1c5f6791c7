package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.WsOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Routed from the moment a client sees its handshake complete: the router's {@code onOpen} has run
 * and the connection is in every registry before the client's own {@code open} event, so a
 * message sent to it as soon as that event fires reaches it. With clients that are not ours (the
 * JDK's {@code java.net.http.WebSocket}), 1,000 rounds per scenario and adapter, on one server.
 *
 * <p>No round sleeps: each waits for events, bounded by {@link #WAIT}. A missed message is told
 * apart from a late one without waiting out the bound where the protocol allows it (a later
 * marker message, an {@code unknown_recipient} answer, an {@code online} list).
 */
@Timeout(600)
@Tag("scale") // 1,000 rounds a scenario: left out by -Pfast
class OpenBeforeVisibleTest {

    static final int ROUNDS = Integer.getInteger("openBeforeVisible.rounds", 1_000);
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    enum Adapter {
        NATIVE,
        JAKARTA
    }

    private WsServer server;
    private final List<Client> clients = new ArrayList<>();

    private void start(Adapter adapter) {
        WsServer.Builder builder = WsServer.builder()
                .port(0)
                .stopTimeout(Duration.ofSeconds(5))
                .route("/ws/", BroadcastRouter.create())
                .route(
                        "/rooms/{room}/",
                        BroadcastRouter.builder().roomParameter("room").build())
                .route("/direct/{username}/", DirectedJsonRouter.create())
                .route(
                        "/presence/{username}/",
                        DirectedJsonRouter.builder().presence(true).build());
        if (adapter == Adapter.JAKARTA) {
            builder.jakarta();
        }
        server = builder.build().start();
    }

    @AfterEach
    void stop() {
        clients.forEach(Client::abort);
        if (server != null) {
            server.stop();
        }
    }

    @ParameterizedTest
    @EnumSource(Adapter.class)
    void aBroadcastSentAsSoonAsTheThirdHasOpenedReachesAllThree(Adapter adapter) {
        start(adapter);
        assertNoFailures(adapter, "broadcast /ws/", round -> broadcastRound("/ws/", round));
    }

    @ParameterizedTest
    @EnumSource(Adapter.class)
    void aRoomBroadcastSentAsSoonAsTheThirdHasOpenedReachesAllThree(Adapter adapter) {
        start(adapter);
        assertNoFailures(adapter, "broadcast /rooms/{room}/", round -> broadcastRound("/rooms/r" + round + "/", round));
    }

    @ParameterizedTest
    @EnumSource(Adapter.class)
    void aDirectedMessageToAUserWhoHasJustOpenedArrives(Adapter adapter) {
        start(adapter);
        Client alice = connect("/direct/alice/", null);
        assertNoFailures(adapter, "directed", round -> directedRound(alice, round));
    }

    @ParameterizedTest
    @EnumSource(Adapter.class)
    void aJoinOfAConnectionThatHasJustOpenedReachesEveryoneOpenBeforeIt(Adapter adapter) {
        start(adapter);
        assertNoFailures(adapter, "presence join", this::presenceRound);
    }

    /**
     * The router's {@code onOpen} runs before the 101 is written; a client that goes meanwhile
     * (reset while {@code onOpen} runs, so the 101 cannot be written and no channel comes) gives
     * the router its {@code onClose} with 1006, exactly once, and frees the connection's place.
     * With callbacks on the IO thread and on a route executor.
     */
    @ParameterizedTest
    @EnumSource(Adapter.class)
    void anUpgradeThatFailsAfterOnOpenClosesOnceWith1006(Adapter adapter) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            HeldOpenRouter inline = new HeldOpenRouter();
            HeldOpenRouter pooled = new HeldOpenRouter();
            WsServer.Builder builder = WsServer.builder()
                    .port(0)
                    .stopTimeout(Duration.ofSeconds(5))
                    .route("/held/", inline)
                    .route(
                            "/held-pooled/",
                            pooled,
                            WsOptions.builder().executor(pool).build());
            if (adapter == Adapter.JAKARTA) {
                builder.jakarta();
            }
            server = builder.build().start();
            for (HeldOpenRouter router : List.of(inline, pooled)) {
                String path = router == inline ? "/held/" : "/held-pooled/";
                try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
                    socket.getOutputStream()
                            .write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                            + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                    router.opened.get(WAIT.toMillis(), TimeUnit.MILLISECONDS); // onOpen is running, no 101 yet
                    socket.setSoLinger(true, 0); // the client vanishes: a reset
                }
                router.release.countDown();
                io.github.wsrouter.CloseStatus status = router.closes.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(status).as("%s %s: onClose", adapter, path).isNotNull();
                assertThat(status.code()).isEqualTo(1006);
                org.awaitility.Awaitility.await().atMost(WAIT).until(() -> server.connectionCount() == 0);

                // a connection after it opens and closes as usual; the failed one was told once
                Client next = connect(path, null);
                assertThat(next.await(text -> text.equals("welcome"))).isTrue();
                next.close();
                assertThat(router.closes.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS))
                        .isNotNull();
                assertThat(router.closes).as("a second onClose").isEmpty();
                assertThat(router.opens.get()).isEqualTo(2);
                org.awaitility.Awaitility.await().atMost(WAIT).until(() -> server.connectionCount() == 0);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** A router whose first onOpen waits until the test has reset the client. */
    private static final class HeldOpenRouter implements io.github.wsrouter.MessageRouter {
        final CompletableFuture<Void> opened = new CompletableFuture<>();
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        final LinkedBlockingQueue<io.github.wsrouter.CloseStatus> closes = new LinkedBlockingQueue<>();
        final java.util.concurrent.atomic.AtomicInteger opens = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public void onOpen(io.github.wsrouter.Connection connection) {
            opens.incrementAndGet();
            connection.sendText("welcome"); // queued until the socket is there, or failed with it
            opened.complete(null);
            try {
                release.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void onText(io.github.wsrouter.Connection connection, String text) {}

        @Override
        public void onClose(io.github.wsrouter.Connection connection, io.github.wsrouter.CloseStatus status) {
            closes.add(status);
        }
    }

    /** One round: {@code null} when it passed, else what went wrong. */
    @FunctionalInterface
    private interface Round {
        String run(int round) throws Exception;
    }

    private void assertNoFailures(Adapter adapter, String scenario, Round round) {
        long started = System.nanoTime();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < ROUNDS; i++) {
            String failure;
            try {
                failure = round.run(i);
            } catch (Exception e) {
                failure = e.toString();
            }
            if (failure != null) {
                failures.add("round " + i + ": " + failure);
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        System.out.printf(
                "OpenBeforeVisibleTest %s %s: %d of %d rounds failed (%d ms)%n",
                adapter, scenario, failures.size(), ROUNDS, millis);
        assertThat(failures)
                .as("%s %s: rounds failed of %d", adapter, scenario, ROUNDS)
                .isEmpty();
    }

    /**
     * Three clients connect one after another; as the third's open event fires, the first sends
     * {@code m1}. Then the third sends {@code ready} and, once its own copy is back (it is
     * registered), the first sends {@code m2}. Each must have {@code m1} before {@code m2}: a
     * client that gets {@code m2} alone missed {@code m1} (a connection's frames keep their order).
     */
    private String broadcastRound(String path, int round) throws Exception {
        String m1 = "m1-" + round;
        String m2 = "m2-" + round;
        String ready = "ready-" + round;
        Client first = connect(path, null);
        Client second = connect(path, null);
        CompletableFuture<CompletableFuture<WebSocket>> firstSend = new CompletableFuture<>();
        Client third = connect(path, ws -> firstSend.complete(first.ws().sendText(m1, true)));
        try {
            firstSend.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            third.ws().sendText(ready, true).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (!third.await(ready::equals)) {
                return "the third never got its own message back";
            }
            first.ws().sendText(m2, true).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            List<String> missed = new ArrayList<>();
            Client[] all = {first, second, third};
            for (int i = 0; i < all.length; i++) {
                if (!all[i].await(m2::equals)) {
                    missed.add("client " + (i + 1) + " got no m2");
                } else if (!all[i].received.contains(m1)) {
                    missed.add("client " + (i + 1) + " missed m1");
                }
            }
            return missed.isEmpty() ? null : String.join(", ", missed);
        } finally {
            first.close();
            second.close();
            third.close();
        }
    }

    /**
     * A user connects; as its open event fires, alice sends it a directed message. It must
     * arrive; alice hearing {@code unknown_recipient} for it is the failure seen at once.
     */
    private String directedRound(Client alice, int round) throws Exception {
        String user = "u" + round;
        String message = "{\"to_user\":\"" + user + "\",\"message\":\"hi " + round + "\"}";
        CompletableFuture<CompletableFuture<WebSocket>> sent = new CompletableFuture<>();
        Client bob =
                connect("/direct/" + user + "/", ws -> sent.complete(alice.ws().sendText(message, true)));
        try {
            sent.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            String wanted = "\"hi " + round + "\"";
            String unknown = "\"to_user\":\"" + user + "\"";
            CompletableFuture<String> outcome = new CompletableFuture<>();
            bob.onMessage(text -> {
                if (text.contains(wanted)) {
                    outcome.complete(null);
                }
            });
            alice.onMessage(text -> {
                if (text.contains("unknown_recipient") && text.contains(unknown)) {
                    outcome.complete("alice was told unknown_recipient");
                }
            });
            try {
                return outcome.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                return "no message within " + WAIT;
            }
        } finally {
            alice.onMessage(null);
            bob.close();
        }
    }

    /**
     * a opens, then b; as b's open event fires, c connects. a and b were open before c: both must
     * hear c's {@code join}. b's {@code online} list naming c already is the failure seen at once
     * (b was registered after c, so no join for c comes to it).
     */
    private String presenceRound(int round) throws Exception {
        String a = "a" + round;
        String b = "b" + round;
        String c = "c" + round;
        String join = "{\"presence\":\"join\",\"user\":\"" + c + "\"}";
        Client first = connect("/presence/" + a + "/", null);
        CompletableFuture<Client> third = new CompletableFuture<>();
        Client second =
                connect("/presence/" + b + "/", ws -> third.completeAsync(() -> connect("/presence/" + c + "/", null)));
        try {
            third.get(WAIT.toMillis() * 2, TimeUnit.MILLISECONDS);
            List<String> missed = new ArrayList<>();
            Client[] before = {first, second};
            for (int i = 0; i < before.length; i++) {
                Client client = before[i];
                boolean joined = client.await(
                        text -> text.equals(join) || text.contains("\"online\"") && text.contains("\"" + c + "\""));
                if (!joined) {
                    missed.add("client " + (i + 1) + " heard no join within " + WAIT);
                } else if (!client.received.contains(join)) {
                    missed.add("client " + (i + 1) + " was not open before c on the server (online lists c, no join)");
                }
            }
            return missed.isEmpty() ? null : String.join(", ", missed);
        } finally {
            first.close();
            second.close();
            if (third.isDone() && !third.isCompletedExceptionally()) {
                third.join().close();
            }
        }
    }

    private Client connect(String path, Consumer<WebSocket> onOpen) {
        Client client = new Client(onOpen);
        URI uri = server.uri(path);
        try {
            client.ws = CLIENT.newWebSocketBuilder()
                    .connectTimeout(WAIT)
                    .buildAsync(uri, client)
                    .get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not connect to " + uri + ": " + e, e);
        }
        return client;
    }

    /** A JDK client that records every text message it receives. */
    private static final class Client implements WebSocket.Listener {
        private final Consumer<WebSocket> onOpen;
        private volatile WebSocket ws;
        final List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final LinkedBlockingQueue<String> unread = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        private volatile Consumer<String> watcher;

        Client(Consumer<WebSocket> onOpen) {
            this.onOpen = onOpen;
        }

        WebSocket ws() {
            return ws;
        }

        void onMessage(Consumer<String> watcher) {
            this.watcher = watcher;
            if (watcher != null) {
                received.forEach(watcher);
            }
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            this.ws = webSocket;
            webSocket.request(Long.MAX_VALUE);
            if (onOpen != null) {
                onOpen.accept(webSocket);
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                received.add(text);
                unread.add(text);
                Consumer<String> w = watcher;
                if (w != null) {
                    w.accept(text);
                }
            }
            return null;
        }

        /** Waits, bounded, for a message that matches; the messages before it are consumed. */
        boolean await(Predicate<String> wanted) throws InterruptedException {
            long deadline = System.nanoTime() + WAIT.toNanos();
            for (; ; ) {
                long left = deadline - System.nanoTime();
                String next = left <= 0 ? null : unread.poll(left, TimeUnit.NANOSECONDS);
                if (next == null) {
                    return false;
                }
                if (wanted.test(next)) {
                    return true;
                }
            }
        }

        void close() {
            WebSocket w = ws;
            if (w != null) {
                w.sendClose(WebSocket.NORMAL_CLOSURE, "").whenComplete((ok, e) -> {
                    if (e != null) {
                        w.abort();
                    }
                });
            }
        }

        void abort() {
            WebSocket w = ws;
            if (w != null) {
                w.abort();
            }
        }
    }
}
