package io.github.wsrouter.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.BroadcastRouter;
import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeRequest;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.SendOverflow;
import io.github.wsrouter.WsOptions;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The scale: one client stops reading while 4 senders broadcast 100,000 messages (25,000
 * each, 64 bytes) to 200 listeners on a {@link BroadcastRouter} route.
 *
 * <ul>
 *   <li>the 199 others receive every message, each sender's sequence in order, no gaps;</li>
 *   <li>the slow one is closed with 4000 (CLOSE) or stays open while messages to it are dropped
 *       and counted (DROP), and no healthy listener is treated as slow;</li>
 *   <li>no send blocks: the router's every {@code sendText} call is timed (the router sees
 *       connections wrapped for that) and none may take a second;</li>
 *   <li>memory stays bounded, measured where it would grow: the slow connection's
 *       {@code queuedBytes()}, read after every send to it, never exceeds the 1 MiB bound plus one
 *       message, and the bytes queued over all connections, sampled every 10 ms, stay under 64 MiB.
 *       (Heap used is sampled and printed too, but not asserted: it includes garbage.)</li>
 * </ul>
 *
 * <p>Healthy listeners are kept from looking slow by a window: a sender takes one permit per
 * healthy listener before each message, the listener gives it back as the message arrives, so
 * no listener is more than {@value #WINDOW} messages (about 70 KB) behind, well under the bound.
 * The listeners are hand-rolled blocking readers over plain sockets, one thread each, parsing
 * frames into a reused buffer: the JDK client is too slow for 200 connections in one JVM.
 */
@Timeout(900)
class SlowConsumerAtScaleIT {

    private static final int LISTENERS = 200; // the slow one and 199 healthy ones, 4 of them senders
    private static final int SENDERS = 4;
    private static final int PER_SENDER = 25_000;
    private static final int MESSAGES = SENDERS * PER_SENDER;
    private static final int WINDOW = 1000;
    private static final long SEND_BUFFER = 1024 * 1024;
    private static final int MESSAGE_LENGTH = 64;
    /**
     * A send that blocked on the slow client would wait until it reads, which it never does, or
     * until it is closed: seconds at least. One second leaves room for a loaded machine's
     * scheduler (310 ms measured once at a load average of 36 on 2 cores) and still catches that.
     */
    private static final long SLOW_SEND_MILLIS = 1000;

    private static final long QUEUED_TOTAL_BOUND = 64L * 1024 * 1024;

    @ParameterizedTest(name = "jakarta={0}, overflow={1}")
    @CsvSource({"false, CLOSE", "true, CLOSE", "false, DROP"})
    void aClientThatStopsReadingWhileFourSendersBroadcastToTwoHundredListeners(boolean jakarta, SendOverflow overflow)
            throws Exception {
        TimedRouter router = new TimedRouter(BroadcastRouter.create());
        // no keepalive pings during the run: the listeners only read, and the slow one never answers
        WsServer.Builder builder = WsServer.builder()
                .port(0)
                .options(WsOptions.builder()
                        .closeTimeout(Duration.ofSeconds(1))
                        .keepalive(Duration.ofMinutes(10), Duration.ofMinutes(20))
                        .sendBuffer(SEND_BUFFER, overflow)
                        .build())
                .route("/ws/", router);
        WsServer server = (jakarta ? builder.jakarta() : builder).build().start();
        int healthyCount = LISTENERS - 1;
        ExecutorService readers = Executors.newFixedThreadPool(healthyCount);
        ExecutorService senders = Executors.newFixedThreadPool(SENDERS);
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        List<RawWebSocket> healthy = new ArrayList<>();
        try (RawWebSocket slow = RawWebSocket.connect(server.port(), "/ws/?role=slow")) {
            for (int i = 0; i < healthyCount; i++) {
                healthy.add(RawWebSocket.connect(server.port(), "/ws/", 256 * 1024));
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> router.opened() == LISTENERS);

            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            System.gc();
            long heapBefore = memory.getHeapMemoryUsage().getUsed();
            AtomicLong maxHeap = new AtomicLong();
            AtomicLong maxQueuedTotal = new AtomicLong();
            sampler.scheduleAtFixedRate(
                    () -> {
                        maxHeap.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                        maxQueuedTotal.accumulateAndGet(router.queuedTotal(), Math::max);
                    },
                    0,
                    10,
                    TimeUnit.MILLISECONDS);
            long started = System.nanoTime();

            List<Semaphore> windows = new ArrayList<>();
            List<Future<String>> checks = new ArrayList<>();
            for (RawWebSocket listener : healthy) {
                Semaphore window = new Semaphore(WINDOW);
                windows.add(window);
                checks.add(readers.submit(() -> receiveEverything(listener, window)));
            }
            List<Future<?>> sends = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                RawWebSocket sender = healthy.get(s);
                String prefix = s + ":";
                sends.add(senders.submit(() -> {
                    for (int n = 0; n < PER_SENDER; n++) {
                        for (Semaphore window : windows) {
                            if (!window.tryAcquire(30, TimeUnit.SECONDS)) {
                                throw new AssertionError(
                                        "a healthy listener stopped at message " + n + " of " + prefix);
                            }
                        }
                        String head = prefix + n + ":";
                        sender.sendText(head + "x".repeat(MESSAGE_LENGTH - head.length()));
                    }
                    return null;
                }));
            }
            for (Future<?> send : sends) {
                try {
                    send.get(600, TimeUnit.SECONDS); // 20 million deliveries: 2.5 to 4 minutes on 2 cores
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    List<String> listenersDone = new ArrayList<>();
                    for (Future<String> check : checks) {
                        if (check.isDone()) {
                            listenersDone.add(check.get());
                        }
                    }
                    throw new AssertionError("sending failed; listeners that stopped: " + listenersDone, e);
                }
            }
            for (Future<String> check : checks) {
                assertThat(check.get(60, TimeUnit.SECONDS)).isEqualTo("ok");
            }
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            sampler.shutdownNow();

            Connection slowOnServer = router.slow();
            if (overflow == SendOverflow.CLOSE) {
                Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> router.slowClose() != null);
                assertThat(router.slowClose().code()).isEqualTo(4000);
                assertThat(server.slowConsumerCloses())
                        .as("only the slow one is closed as slow")
                        .isEqualTo(1);
                assertThat(server.droppedMessages()).isZero();
            } else {
                assertThat(slowOnServer.isOpen()).isTrue();
                assertThat(router.slowClose()).isNull();
                assertThat(server.droppedMessages()).isPositive();
                assertThat(server.slowConsumerCloses()).isZero();
            }
            assertThat(router.closedOtherThanSlow())
                    .as("healthy listeners closed")
                    .isZero();
            System.out.printf(
                    "jakarta=%s, %s: %,d messages to %d listeners in %,d ms; longest sendText %.1f ms;"
                            + " slow queue max %,d B; queued total max %,d B; dropped %,d; heap max %,d MiB over %,d MiB%n",
                    jakarta,
                    overflow,
                    MESSAGES,
                    LISTENERS,
                    millis,
                    router.longestSendNanos() / 1e6,
                    router.slowQueuedMax(),
                    maxQueuedTotal.get(),
                    server.droppedMessages(),
                    (maxHeap.get() - heapBefore) >> 20,
                    heapBefore >> 20);

            assertThat(router.sends()).as("sendText calls").isGreaterThanOrEqualTo((long) MESSAGES * healthyCount);
            assertThat(router.longestSendNanos())
                    .as("longest sendText, ns")
                    .isLessThan(TimeUnit.MILLISECONDS.toNanos(SLOW_SEND_MILLIS));
            assertThat(router.slowQueuedMax())
                    .as("the slow connection's queued bytes")
                    .isPositive()
                    .isLessThanOrEqualTo(SEND_BUFFER + MESSAGE_LENGTH);
            assertThat(maxQueuedTotal.get())
                    .as("bytes queued over all connections")
                    .isLessThan(QUEUED_TOTAL_BOUND);
        } finally {
            sampler.shutdownNow();
            senders.shutdownNow();
            readers.shutdownNow();
            for (RawWebSocket listener : healthy) {
                listener.close();
            }
            server.stop();
            assertThat(readers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
            assertThat(senders.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Reads all messages, checking each sender's sequence; gives a window permit back for each. */
    private static String receiveEverything(RawWebSocket listener, Semaphore window) {
        int[] next = new int[SENDERS];
        byte[] buffer = new byte[1024];
        for (int i = 0; i < MESSAGES; i++) {
            int length;
            try {
                length = listener.readInto(buffer);
            } catch (java.io.IOException e) {
                return "failed after " + i + " messages: " + e;
            }
            window.release();
            int sender = 0;
            int pos = 0;
            while (buffer[pos] != ':') {
                sender = sender * 10 + buffer[pos++] - '0';
            }
            int n = 0;
            pos++;
            while (buffer[pos] != ':') {
                n = n * 10 + buffer[pos++] - '0';
            }
            if (length != MESSAGE_LENGTH || sender >= SENDERS || n != next[sender]) {
                return "expected message " + next[Math.min(sender, SENDERS - 1)] + " of sender " + sender + " but got "
                        + new String(buffer, 0, Math.min(length, 20), StandardCharsets.UTF_8);
            }
            next[sender]++;
        }
        return "ok";
    }

    /**
     * Hands the router connections that time each {@code sendText} and read the queue depth after
     * it; keeps the slow connection's close status.
     */
    private static final class TimedRouter implements MessageRouter {
        private final MessageRouter delegate;
        private final ConcurrentMap<Connection, TimedConnection> timed = new ConcurrentHashMap<>();
        private final AtomicLong opened = new AtomicLong();
        private final AtomicLong closedOthers = new AtomicLong();
        private final AtomicLong longestSend = new AtomicLong();
        private final AtomicLong sends = new AtomicLong();
        private final AtomicLong slowQueuedMax = new AtomicLong();
        private volatile Connection slow;
        private volatile CloseStatus slowClose;

        TimedRouter(MessageRouter delegate) {
            this.delegate = delegate;
        }

        @Override
        public HandshakeDecision onHandshake(HandshakeRequest request) {
            return delegate.onHandshake(request);
        }

        @Override
        public void onOpen(Connection connection) {
            boolean isSlow = connection.queryParameters().containsKey("role");
            TimedConnection wrapped = new TimedConnection(connection, isSlow);
            timed.put(connection, wrapped);
            if (isSlow) {
                slow = connection;
            }
            delegate.onOpen(wrapped);
            opened.incrementAndGet();
        }

        @Override
        public void onText(Connection connection, String text) {
            delegate.onText(timed.get(connection), text);
        }

        @Override
        public void onBinary(Connection connection, ByteBuffer data) {
            delegate.onBinary(timed.get(connection), data);
        }

        @Override
        public void onClose(Connection connection, CloseStatus status) {
            delegate.onClose(timed.remove(connection), status);
            if (connection == slow) {
                slowClose = status;
            } else {
                closedOthers.incrementAndGet();
            }
        }

        @Override
        public void onError(Connection connection, Throwable error) {
            delegate.onError(timed.get(connection), error);
        }

        long opened() {
            return opened.get();
        }

        Connection slow() {
            return slow;
        }

        CloseStatus slowClose() {
            return slowClose;
        }

        long closedOtherThanSlow() {
            return closedOthers.get();
        }

        long longestSendNanos() {
            return longestSend.get();
        }

        long sends() {
            return sends.get();
        }

        long slowQueuedMax() {
            return slowQueuedMax.get();
        }

        long queuedTotal() {
            long total = 0;
            for (Connection connection : timed.keySet()) {
                total += connection.queuedBytes();
            }
            return total;
        }

        private final class TimedConnection implements Connection {
            private final Connection delegate;
            private final boolean isSlow;

            TimedConnection(Connection delegate, boolean isSlow) {
                this.delegate = delegate;
                this.isSlow = isSlow;
            }

            @Override
            public CompletionStage<Void> sendText(String text) {
                long start = System.nanoTime();
                CompletionStage<Void> sent = delegate.sendText(text);
                longestSend.accumulateAndGet(System.nanoTime() - start, Math::max);
                sends.incrementAndGet();
                if (isSlow) {
                    slowQueuedMax.accumulateAndGet(delegate.queuedBytes(), Math::max);
                }
                return sent;
            }

            @Override
            public CompletionStage<Void> sendBinary(ByteBuffer data) {
                return delegate.sendBinary(data);
            }

            @Override
            public CompletionStage<Void> close(CloseStatus status) {
                return delegate.close(status);
            }

            @Override
            public String id() {
                return delegate.id();
            }

            @Override
            public String path() {
                return delegate.path();
            }

            @Override
            public Map<String, String> pathParameters() {
                return delegate.pathParameters();
            }

            @Override
            public Map<String, List<String>> queryParameters() {
                return delegate.queryParameters();
            }

            @Override
            public Map<String, List<String>> headers() {
                return delegate.headers();
            }

            @Override
            public ConcurrentMap<String, Object> attributes() {
                return delegate.attributes();
            }

            @Override
            public long queuedBytes() {
                return delegate.queuedBytes();
            }

            @Override
            public boolean isOpen() {
                return delegate.isOpen();
            }

            @Override
            public String identity() {
                return delegate.identity();
            }

            @Override
            public String subprotocol() {
                return delegate.subprotocol();
            }

            @Override
            public CompletionStage<CloseStatus> closeFuture() {
                return delegate.closeFuture();
            }
        }
    }
}
