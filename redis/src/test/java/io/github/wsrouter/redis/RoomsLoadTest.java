package io.github.wsrouter.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rooms and their presence under load: 3 nodes (one on Jakarta) × 2,000 connections, each a user
 * of its own, join 20 rooms (300 members each, 100 per node), then all leave. Every node's view of
 * every room is right after the joins and empty after the leaves, and the presence objects a client
 * receives stay within the 100 ms windows: at most one per window while its room fills, never one
 * per member.
 */
@Tag("redis") // left out by -Pfast
@Timeout(300)
class RoomsLoadTest {

    private static final int PER_NODE = 2000;
    private static final int ROOMS = 20;
    private static final Duration WAIT = Duration.ofSeconds(120);

    private RedisServerProcess redis;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void stop() {
        clients.forEach(c -> c.socket.abort());
        nodes.forEach(Node::close);
        if (redis != null) {
            redis.close();
        }
    }

    /** One connection: it counts its answers and the room presence objects it receives. */
    private static final class Client implements WebSocket.Listener {
        final AtomicInteger joined = new AtomicInteger();
        final AtomicInteger presence = new AtomicInteger();
        final StringBuilder partial = new StringBuilder();
        volatile WebSocket socket;

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                if (text.startsWith("{\"joined\"")) {
                    joined.incrementAndGet();
                } else if (text.startsWith("{\"presence\"") && text.contains("\"room\"")) {
                    presence.incrementAndGet();
                }
            }
            ws.request(1);
            return null;
        }
    }

    @Test
    void sixThousandConnectionsJoinTwentyRoomsAndLeaveWithEveryViewRight() throws Exception {
        redis = RedisServerProcess.start();
        nodes.add(Node.start("node1", redis.uri()));
        nodes.add(Node.start("node2", redis.uri()));
        nodes.add(Node.startJakarta("node3", redis.uri()));

        long start = System.nanoTime();
        Semaphore pending = new Semaphore(200);
        List<CompletableFuture<WebSocket>> opening = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            for (int i = 0; i < PER_NODE; i++) {
                String user = "u" + n + "-" + i;
                String room = "room" + (i % ROOMS);
                Client client = new Client();
                clients.add(client);
                pending.acquire();
                CompletableFuture<WebSocket> open = http.newWebSocketBuilder()
                        .buildAsync(nodes.get(n).server.uri("/ws/" + user + "/"), client)
                        .whenComplete((ws, failure) -> {
                            pending.release();
                            if (ws != null) {
                                client.socket = ws;
                                ws.sendText("{\"join\":\"" + room + "\"}", true);
                            }
                        });
                opening.add(open);
            }
        }
        CompletableFuture.allOf(opening.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        await().atMost(WAIT).until(() -> clients.stream().allMatch(c -> c.joined.get() == 1));
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(node -> IntStream.range(0, ROOMS)
                                .allMatch(r ->
                                        node.directed.roomMembers("room" + r).size() == 3 * PER_NODE / ROOMS)));
        long joinedAt = System.nanoTime();
        int mostWhileJoining =
                clients.stream().mapToInt(c -> c.presence.get()).max().orElse(0);
        long windows = Duration.ofNanos(joinedAt - start).toMillis() / 100 + 2;

        for (Client client : clients) {
            client.socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye");
        }
        await().atMost(WAIT)
                .until(() -> nodes.stream()
                        .allMatch(node -> IntStream.range(0, ROOMS)
                                .allMatch(r ->
                                        node.directed.roomMembers("room" + r).isEmpty())));
        double mean = clients.stream().mapToInt(c -> c.presence.get()).average().orElse(0);
        System.out.printf(
                "RoomsLoadTest: %d connections joined %d rooms in %d ms over 3 nodes; room presence objects"
                        + " per client while joining: at most %d (bound: %d windows of 100 ms; %d members a"
                        + " room); mean %.1f in all%n",
                clients.size(),
                ROOMS,
                Duration.ofNanos(joinedAt - start).toMillis(),
                mostWhileJoining,
                windows,
                3 * PER_NODE / ROOMS,
                mean);
        assertThat((long) mostWhileJoining).isLessThanOrEqualTo(windows).isLessThan(3 * PER_NODE / ROOMS);
    }
}
