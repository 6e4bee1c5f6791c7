package io.github.wsrouter;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A relay for tests: records what routers publish and subscribe, answers each publish with a
 * stage the test completes, and delivers messages as if another node had published them.
 */
final class FakeRelay implements Relay {

    record Published(String route, Topic topic, String text, CompletableFuture<Integer> result) {}

    final List<Published> published = new ArrayList<>();
    final Map<String, Integer> subscriptions = new HashMap<>();
    private final Map<String, Receiver> receivers = new HashMap<>();

    @Override
    public synchronized Channel open(String route, Receiver receiver) {
        receivers.put(route, receiver);
        return new Channel() {
            @Override
            public void subscribe(Topic topic) {
                synchronized (FakeRelay.this) {
                    subscriptions.merge(route + " " + topic, 1, Integer::sum);
                }
            }

            @Override
            public void unsubscribe(Topic topic) {
                synchronized (FakeRelay.this) {
                    subscriptions.merge(route + " " + topic, -1, Integer::sum);
                    subscriptions.remove(route + " " + topic, 0);
                }
            }

            @Override
            public CompletionStage<Integer> publishText(Topic topic, String text) {
                CompletableFuture<Integer> result = new CompletableFuture<>();
                synchronized (FakeRelay.this) {
                    published.add(new Published(route, topic, text, result));
                }
                return result;
            }

            @Override
            public CompletionStage<Integer> publishBinary(Topic topic, ByteBuffer data) {
                return publishText(topic, "binary:" + data.remaining());
            }
        };
    }

    private final Map<String, History.Receiver> historyReceivers = new HashMap<>();

    /** Keeps history in memory, as {@link Relay#local()} does, and remembers its receiver. */
    @Override
    public synchronized History history(
            String route, int maxMessages, java.time.Duration maxAge, History.Receiver receiver) {
        historyReceivers.put(route, receiver);
        return new io.github.wsrouter.internal.MemoryHistory(maxMessages, maxAge, receiver);
    }

    /** As a relay does when it may have missed messages to a topic. */
    void gap(String route, Topic topic, String reason) {
        Receiver receiver;
        synchronized (this) {
            receiver = receivers.get(route);
        }
        receiver.onGap(topic, reason);
    }

    /** As a relay does when entries of a stream were lost and could not be read back. */
    void historyGap(String route, String stream, String reason, History.Position position) {
        History.Receiver receiver;
        synchronized (this) {
            receiver = historyReceivers.get(route);
        }
        receiver.onGap(stream, reason, position);
    }

    /** An entry of a stream, as the history hands it to the route on every node. */
    void historyReceiverEntry(String route, String stream, long offset, String text) {
        History.Receiver receiver;
        synchronized (this) {
            receiver = historyReceivers.get(route);
        }
        receiver.onEntry(stream, offset, text);
    }

    /** A message from another node. */
    void deliver(String route, Topic topic, String text) {
        Receiver receiver;
        synchronized (this) {
            receiver = receivers.get(route);
        }
        receiver.onText(topic, text);
    }

    int subscriptions(String route, Topic topic) {
        return subscriptions.getOrDefault(route + " " + topic, 0);
    }
}
