package io.github.wsrouter;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.wsrouter.testkit.TestClient;
import io.github.wsrouter.testkit.TestServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Timeout;

/**
 * History through a relay whose store is shared by two nodes and answers asynchronously, the way
 * a backend such as Redis does: entries reach each node on its own thread, stages complete later.
 * A user who aborts on one node and resumes on the other gets everything once and in order.
 */
@Timeout(30)
class SharedHistoryTest {

    /** The store both nodes share: streams of entries, and who reads which stream. */
    private static final class Backend {
        final Map<String, List<String>> streams = new HashMap<>();
        final Map<String, Map<Node, Integer>> readers = new HashMap<>();
    }

    /** One node's view of the backend: its deliveries and answers run on its own thread. */
    private static final class Node implements Relay {
        final Backend backend;
        final ExecutorService thread = Executors.newSingleThreadExecutor();
        Relay.History.Receiver receiver;

        Node(Backend backend) {
            this.backend = backend;
        }

        @Override
        public Channel open(String route, Receiver receiver) {
            return Relay.local().open(route, receiver);
        }

        @Override
        public History history(String route, int maxMessages, Duration maxAge, History.Receiver receiver) {
            this.receiver = receiver;
            Node node = this;
            return new History() {
                @Override
                public CompletionStage<Position> open(String stream) {
                    synchronized (backend) {
                        backend.readers
                                .computeIfAbsent(stream, s -> new HashMap<>())
                                .merge(node, 1, Integer::sum);
                        long head = backend.streams
                                .computeIfAbsent(stream, s -> new ArrayList<>())
                                .size();
                        return CompletableFuture.supplyAsync(() -> new Position("e1", head), thread);
                    }
                }

                @Override
                public void close(String stream) {
                    synchronized (backend) {
                        backend.readers.get(stream).merge(node, -1, Integer::sum);
                    }
                }

                @Override
                public CompletionStage<Long> append(String stream, String text, boolean mustExist) {
                    synchronized (backend) {
                        List<String> entries = backend.streams.get(stream);
                        if (entries == null) {
                            if (mustExist) {
                                return CompletableFuture.supplyAsync(() -> 0L, thread);
                            }
                            entries = new ArrayList<>();
                            backend.streams.put(stream, entries);
                        }
                        entries.add(text);
                        long offset = entries.size();
                        backend.readers.getOrDefault(stream, Map.of()).forEach((reader, count) -> {
                            if (count > 0) {
                                reader.thread.execute(() -> reader.receiver.onEntry(stream, offset, text));
                            }
                        });
                        return CompletableFuture.supplyAsync(() -> offset, thread);
                    }
                }

                @Override
                public CompletionStage<Replay> since(String stream, String epoch, long offset) {
                    synchronized (backend) {
                        List<String> entries = backend.streams.getOrDefault(stream, List.of());
                        List<Entry> missed = new ArrayList<>();
                        for (int i = (int) offset; i < entries.size(); i++) {
                            missed.add(new Entry(i + 1, entries.get(i)));
                        }
                        Position position = new Position("e1", entries.size());
                        return CompletableFuture.supplyAsync(() -> new Replay(missed, null, position), thread);
                    }
                }
            };
        }

        @Override
        public void close() {
            thread.shutdownNow();
        }
    }

    private final Backend backend = new Backend();
    private final Node nodeA = new Node(backend);
    private final Node nodeB = new Node(backend);

    @AfterEach
    void stop() {
        nodeA.close();
        nodeB.close();
    }

    private static TestServer server(Node node) {
        return TestServer.create()
                .relay(node)
                .route(
                        "/ws/{username}/",
                        DirectedJsonRouter.builder()
                                .everyone("*")
                                .history(1000, Duration.ofMinutes(5))
                                .build());
    }

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    @RepeatedTest(10)
    void bobAbortsOnOneNodeAndResumesOnTheOtherWithEverythingOnceAndInOrder() throws Exception {
        TestServer a = server(nodeA);
        TestServer b = server(nodeB);
        TestClient bob = a.connect("/ws/bob/");
        TestClient alice = b.connect("/ws/alice/");
        String epoch = json(bob.awaitText(Duration.ofSeconds(5)))
                .getAsJsonObject("streams")
                .getAsJsonObject("user")
                .get("epoch")
                .getAsString();
        json(alice.awaitText(Duration.ofSeconds(5))); // alice's streams: she is open
        CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
            for (int i = 1; i <= 1000; i++) {
                alice.sendText("{\"to_user\":\"bob\",\"message\":" + i + "}");
            }
        });

        List<Integer> got = new ArrayList<>();
        long offset = 0;
        while (got.size() < 300) {
            JsonObject message = json(bob.awaitText(Duration.ofSeconds(5)));
            got.add(message.get("message").getAsInt());
            offset = message.get("offset").getAsLong();
        }
        bob.disconnect();

        TestClient again = b.connect("/ws/bob/?resume=user:" + epoch + ":" + offset);
        boolean recovered = false;
        while (got.size() < 1000 || !recovered) {
            JsonObject message = json(again.awaitText(Duration.ofSeconds(5)));
            if (message.has("recovered")) {
                assertThat(message.get("recovered").getAsBoolean()).isTrue();
                recovered = true;
            } else if (message.has("message")) {
                long next = message.get("offset").getAsLong();
                assertThat(next).isEqualTo(offset + 1);
                offset = next;
                got.add(message.get("message").getAsInt());
            }
        }
        sending.get(10, TimeUnit.SECONDS);

        List<Integer> expected = new ArrayList<>();
        for (int i = 1; i <= 1000; i++) {
            expected.add(i);
        }
        assertThat(got).isEqualTo(expected);
        assertThat(again.hasText()).isFalse();
    }
}
