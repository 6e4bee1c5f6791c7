package io.github.wsrouter.internal;

import io.github.wsrouter.Relay;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** {@link Relay#local()}: one node, nobody else to reach. Publishes complete at once with zero receivers. */
public final class LocalRelay implements Relay {

    public static final LocalRelay INSTANCE = new LocalRelay();

    private static final CompletableFuture<Integer> NOBODY = CompletableFuture.completedFuture(0);

    private static final Channel CHANNEL = new Channel() {
        @Override
        public void subscribe(Topic topic) {}

        @Override
        public void unsubscribe(Topic topic) {}

        @Override
        public CompletionStage<Integer> publishText(Topic topic, String text) {
            return NOBODY;
        }

        @Override
        public CompletionStage<Integer> publishBinary(Topic topic, ByteBuffer data) {
            return NOBODY;
        }
    };

    private LocalRelay() {}

    /** The channel every route of a single node uses. */
    public static Channel channel() {
        return CHANNEL;
    }

    @Override
    public Channel open(String route, Receiver receiver) {
        return CHANNEL;
    }

    /** A history in this node's memory ({@link MemoryHistory}): there are no other nodes to share it with. */
    @Override
    public History history(String route, int maxMessages, Duration maxAge, History.Receiver receiver) {
        return new MemoryHistory(maxMessages, maxAge, receiver);
    }

    @Override
    public String toString() {
        return "Relay.local()";
    }
}
