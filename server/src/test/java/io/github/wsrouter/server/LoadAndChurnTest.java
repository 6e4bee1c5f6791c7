package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.DirectedJsonRouter;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Many connections, many cycles, many senders: nothing leaks, nothing is lost, stop is bounded. */
@Timeout(180)
class LoadAndChurnTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void tenThousandConnectCloseCyclesHalfAbortedLeaveNothingBehind(boolean jakarta) throws Exception {
        BroadcastRouter broadcast = BroadcastRouter.create();
        ObservedRouter router = new ObservedRouter(broadcast);
        WsServer.Builder builder = WsServer.builder().port(0).route("/ws/", router);
        WsServer server = (jakarta ? builder.jakarta() : builder).build().start();
        try {
            long fdsBefore = openFileDescriptors();
            int threadsBefore = otherThreads();
            long workersBefore = workerPoolThreads(); // other servers' pools of this JVM may still be winding down
            long cyclesStarted = System.nanoTime();
            for (int i = 0; i < 10_000; i++) {
                RawWebSocket client = RawWebSocket.connect(server.port(), "/ws/");
                if (i % 2 == 0) {
                    client.send(0x8, new byte[] {0x03, (byte) 0xE8}); // close 1000
                    assertThat(client.read().opcode()).isEqualTo(0x8);
                    client.close();
                } else {
                    client.abort(); // TCP reset, no close frame
                }
            }
            for (int i = 0; i < 10_000; i++) {
                router.await("open", "close", "error");
            }
            // every open has its close: wait for the last ones
            int closes = 0;
            while (server.connectionCount() > 0 || broadcast.connectionCount() > 0) {
                router.await("close", "error");
                closes++;
                assertThat(closes).isLessThanOrEqualTo(10_000);
            }
            assertThat(broadcast.connectionCount()).isZero();
            assertThat(broadcast.rooms()).isEmpty();
            assertThat(server.stats().open()).isZero();
            assertThat(server.stats().routes().get("/ws/").closed()).isEqualTo(10_000);
            assertThat(openFileDescriptors()).isLessThan(fdsBefore + 50);
            System.out.printf(
                    "jakarta=%s: 10,000 cycles in %d ms; threads before %d, now %d, worker pool %d%n",
                    jakarta,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cyclesStarted),
                    threadsBefore,
                    otherThreads(),
                    workerPoolThreads());
            // No thread per connection stays behind. Undertow's worker pool (XNIO "task" threads,
            // which the Jakarta adapter runs on) starts threads on demand and keeps them for its
            // keep-alive: it is bounded (8 per I/O thread by default, 16 here) and checked apart.
            // Every other thread returns to where it was, give or take the JDK's own pools.
            org.awaitility.Awaitility.await("threads back to where they were")
                    .atMost(Duration.ofSeconds(30))
                    .until(() -> otherThreads() <= threadsBefore + 2);
            assertThat(workerPoolThreads()).as("Undertow worker pool threads").isLessThanOrEqualTo(workersBefore + 16);
        } finally {
            server.stop();
        }
    }

    /** Live threads of Undertow's worker pools ("XNIO-n task-m"). */
    private static long workerPoolThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(LoadAndChurnTest::isWorkerPoolThread)
                .count();
    }

    /** Every other live thread. */
    private static int otherThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !isWorkerPoolThread(t))
                .count();
    }

    private static boolean isWorkerPoolThread(Thread thread) {
        return thread.getName().matches("XNIO-\\d+ task-\\d+");
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void stopUnderLoadWithAThousandConnectionsClosesEveryOneWithGoingAway(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(BroadcastRouter.create());
        WsServer.Builder builder = WsServer.builder().port(0).route("/ws/", router);
        WsServer server = (jakarta ? builder.jakarta() : builder).build().start();
        List<Peer> peers = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            peers.add(JdkPeer.connect(HTTP, server.uri("/ws/")));
        }
        router.awaitOpens(1000);
        peers.get(0).sendText("load");
        for (Peer peer : peers) {
            assertThat(peer.awaitText()).isEqualTo("load");
        }

        long started = System.nanoTime();
        server.stop();
        long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(stopMillis)
                .as("stop returns within its bound (5 s) plus Undertow's own stop")
                .isLessThan(15_000);
        for (Peer peer : peers) {
            assertThat(peer.awaitClose().code()).isEqualTo(1001);
        }
    }

    @ParameterizedTest(name = "jakarta={0}")
    @ValueSource(booleans = {false, true})
    void tenSendersToOneUserKeepEachSendersOrderWithoutDuplicates(boolean jakarta) throws Exception {
        ObservedRouter router = new ObservedRouter(DirectedJsonRouter.create());
        WsServer.Builder builder = WsServer.builder().port(0).route("/ws/{username}/", router);
        WsServer server = (jakarta ? builder.jakarta() : builder).build().start();
        ExecutorService pool = Executors.newFixedThreadPool(10);
        try {
            Peer bob = JdkPeer.connect(HTTP, server.uri("/ws/bob/"));
            List<Peer> senders = new ArrayList<>();
            for (int s = 0; s < 10; s++) {
                senders.add(JdkPeer.connect(HTTP, server.uri("/ws/sender" + s + "/")));
            }
            router.awaitOpens(11);
            List<Future<?>> sends = new ArrayList<>();
            for (int s = 0; s < 10; s++) {
                Peer sender = senders.get(s);
                int id = s;
                sends.add(pool.submit(() -> {
                    for (int n = 0; n < 1000; n++) {
                        sender.sendText("{\"to_user\":\"bob\",\"message\":\"" + id + ":" + n + "\"}");
                    }
                }));
            }
            int[] next = new int[10];
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 10_000; i++) {
                String message =
                        RoutingContractTest.json(bob.awaitText()).get("message").getAsString();
                assertThat(seen.add(message)).as("duplicate %s", message).isTrue();
                int id = Integer.parseInt(message.substring(0, message.indexOf(':')));
                assertThat(message).isEqualTo(id + ":" + next[id]);
                next[id]++;
            }
            for (Future<?> send : sends) {
                send.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            server.stop();
        }
    }

    private static long openFileDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
