package io.github.wsrouter.spi;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.ConnectionClosedException;
import io.github.wsrouter.MessageRouter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The send queue and the callback guarantees of {@link AbstractConnection}, under a transport
 * whose writes complete later, on another thread.
 */
@Timeout(10)
class AbstractConnectionTest {

    private static final Handshake HANDSHAKE = new Handshake("/test/", Map.of(), Map.of(), Map.of());

    private final ExecutorService pool = Executors.newFixedThreadPool(8);

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    /** One frame handed to the transport, waiting for the test (or an executor) to complete it. */
    private record Pending(Object frame, AbstractConnection.WriteCallback callback) {}

    /**
     * A transport that records each write and completes it only when told: by the test through
     * {@link #complete}, or, with a completer set, on the completer's thread.
     */
    private static final class LaterConnection extends AbstractConnection {
        final LinkedBlockingQueue<Pending> pending = new LinkedBlockingQueue<>();
        final Queue<Object> written = new ConcurrentLinkedQueue<>();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        volatile Executor completer;
        volatile String explodeOn;
        /** What {@link #maxFramesInFlight()} says: 1 like most transports, more like Undertow's native one. */
        int maxFrames = 1;

        @Override
        protected int maxFramesInFlight() {
            return maxFrames;
        }

        LaterConnection(MessageRouter router) {
            super(HANDSHAKE, router, Runnable::run);
        }

        LaterConnection(MessageRouter router, Executor callbacks) {
            super(HANDSHAKE, router, callbacks);
        }

        final AtomicInteger slowConsumerCalls = new AtomicInteger();

        LaterConnection(MessageRouter router, SendLimits limits, RouteCounters counters) {
            super(HANDSHAKE, router, Runnable::run, limits, counters);
        }

        @Override
        protected void slowConsumer() {
            slowConsumerCalls.incrementAndGet();
        }

        @Override
        protected void writeText(String text, WriteCallback callback) {
            if (text.equals(explodeOn)) {
                throw new IllegalStateException("transport refused " + text);
            }
            begin(text, callback);
        }

        @Override
        protected void writeBinary(ByteBuffer data, WriteCallback callback) {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            begin(bytes, callback);
        }

        @Override
        protected void writeClose(CloseStatus status, WriteCallback callback) {
            begin(status, callback);
        }

        private void begin(Object frame, WriteCallback callback) {
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            written.add(frame);
            Pending write = new Pending(frame, callback);
            Executor executor = completer;
            if (executor != null) {
                executor.execute(() -> complete(write, null));
            } else {
                pending.add(write);
            }
        }

        /** The next frame handed to the transport; fails if none comes within 5 seconds. */
        Pending next() throws InterruptedException {
            Pending write = pending.poll(5, SECONDS);
            assertThat(write).as("a frame handed to the transport").isNotNull();
            return write;
        }

        void complete(Pending write, Throwable failure) {
            inFlight.decrementAndGet();
            write.callback().done(failure);
        }

        void completeNext() throws InterruptedException {
            complete(next(), null);
        }
    }

    /** Records callbacks; counts closes; checks callbacks never overlap. */
    private static final class Recorder implements MessageRouter {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final CountDownLatch closed = new CountDownLatch(1);
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger overlaps = new AtomicInteger();

        private void enter() {
            if (running.incrementAndGet() != 1) {
                overlaps.incrementAndGet();
            }
        }

        private void exit() {
            running.decrementAndGet();
        }

        @Override
        public void onOpen(Connection connection) {
            enter();
            events.add("open");
            exit();
        }

        @Override
        public void onText(Connection connection, String text) {
            enter();
            events.add(text);
            exit();
        }

        @Override
        public void onError(Connection connection, Throwable error) {
            enter();
            errors.add(error);
            events.add("error:" + error.getMessage());
            exit();
        }

        @Override
        public void onClose(Connection connection, CloseStatus status) {
            enter();
            events.add("close:" + status.code());
            exit();
            closed.countDown();
        }
    }

    private static void assertFailsWith(CompletionStage<Void> stage, Class<? extends Throwable> type) {
        assertThatThrownBy(() -> stage.toCompletableFuture().get(5, SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isInstanceOf(type);
    }

    private static void assertSucceeds(CompletionStage<Void> stage) throws Exception {
        assertThat(stage.toCompletableFuture().get(5, SECONDS)).isNull();
    }

    // ---- one frame at a time ----

    @Test
    void onlyOneFrameIsHandedToTheTransportUntilItCallsBack() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());

        CompletionStage<Void> a = connection.sendText("a");
        CompletionStage<Void> b = connection.sendText("bb");
        CompletionStage<Void> c = connection.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));

        Pending first = connection.next();
        assertThat(first.frame()).isEqualTo("a");
        assertThat(connection.pending).isEmpty();
        assertThat(connection.queuedBytes()).isEqualTo(1 + 2 + 4);
        assertThat(a.toCompletableFuture()).isNotDone();

        connection.complete(first, null);
        assertSucceeds(a);
        assertThat(b.toCompletableFuture()).isNotDone();
        assertThat(connection.queuedBytes()).isEqualTo(2 + 4);

        connection.completeNext();
        assertSucceeds(b);
        Pending third = connection.next();
        assertThat((byte[]) third.frame()).containsExactly(1, 2, 3, 4);
        connection.complete(third, null);
        assertSucceeds(c);

        assertThat(connection.queuedBytes()).isZero();
        assertThat(connection.maxInFlight.get()).isEqualTo(1);
    }

    @Test
    void aTransportThatTakesSeveralFramesGetsThemInOrderAndTheirBytesStayCountedUntilEachCallback() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        connection.maxFrames = 3;

        List<CompletionStage<Void>> stages = new ArrayList<>();
        for (String text : List.of("a", "bb", "ccc", "dddd", "eeeee")) {
            stages.add(connection.sendText(text));
        }

        assertThat(connection.written).containsExactly("a", "bb", "ccc");
        assertThat(connection.inFlight.get()).isEqualTo(3);
        assertThat(connection.queuedBytes()).isEqualTo(1 + 2 + 3 + 4 + 5);

        connection.completeNext(); // "a": one place frees, "dddd" goes
        assertSucceeds(stages.get(0));
        assertThat(connection.written).containsExactly("a", "bb", "ccc", "dddd");
        assertThat(connection.queuedBytes()).isEqualTo(2 + 3 + 4 + 5);
        assertThat(stages.get(1).toCompletableFuture()).isNotDone();

        for (int i = 0; i < 4; i++) {
            connection.completeNext();
        }
        for (CompletionStage<Void> stage : stages) {
            assertSucceeds(stage);
        }
        assertThat(connection.written).containsExactly("a", "bb", "ccc", "dddd", "eeeee");
        assertThat(connection.maxInFlight.get()).isEqualTo(3);
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void theCloseFrameWaitsUntilEveryFrameInFlightIsCalledBack() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        connection.maxFrames = 8;
        CompletionStage<Void> a = connection.sendText("a");
        CompletionStage<Void> b = connection.sendText("b");

        CompletionStage<Void> close = connection.close(CloseStatus.NORMAL);

        assertThat(connection.written).containsExactly("a", "b");
        connection.completeNext();
        assertThat(connection.written).as("one frame still in flight").containsExactly("a", "b");
        connection.completeNext();
        assertThat(connection.written).containsExactly("a", "b", CloseStatus.NORMAL);
        connection.completeNext();
        assertSucceeds(a);
        assertSucceeds(b);
        assertSucceeds(close);
    }

    @Test
    void framesInFlightCountTowardsTheSendBufferBound() throws Exception {
        RouteCounters counters = new RouteCounters();
        LaterConnection connection =
                new LaterConnection(new Recorder(), new SendLimits(10, io.github.wsrouter.SendOverflow.DROP), counters);
        connection.maxFrames = 8;
        CompletionStage<Void> first = connection.sendText("12345");
        CompletionStage<Void> second = connection.sendText("67890");

        assertThat(connection.written).as("both handed over").containsExactly("12345", "67890");
        assertFailsWith(connection.sendText("x"), io.github.wsrouter.SendBufferOverflowException.class);
        assertThat(counters.droppedMessages.sum()).isEqualTo(1);

        connection.completeNext();
        assertSucceeds(first);
        assertThat(connection.sendText("abcde").toCompletableFuture()).isNotDone();
        assertThat(connection.queuedBytes()).isEqualTo(10);
        connection.completeNext();
        connection.completeNext();
        assertSucceeds(second);
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void concurrentSendersThroughATransportOfSeveralFramesKeepTheirOrder() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        connection.maxFrames = 4;
        connection.completer = pool;
        int senders = 4;
        int each = 500;
        List<CompletableFuture<Void>> stages = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> running = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            int sender = s;
            running.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < each; i++) {
                    stages.add(connection.sendText(sender + ":" + i).toCompletableFuture());
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> r : running) {
            r.get(10, SECONDS);
        }
        CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new)).get(10, SECONDS);

        int[] last = new int[senders];
        java.util.Arrays.fill(last, -1);
        for (Object frame : connection.written) {
            String[] parts = ((String) frame).split(":");
            int sender = Integer.parseInt(parts[0]);
            int seq = Integer.parseInt(parts[1]);
            assertThat(seq).as("sender %d's order", sender).isEqualTo(last[sender] + 1);
            last[sender] = seq;
        }
        assertThat(connection.written).hasSize(senders * each);
        assertThat(connection.maxInFlight.get()).isBetween(1, 4);
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void failuresNameTheConnectionByItsIdEvenBeforeAnyoneAskedForIt() {
        LaterConnection connection = new LaterConnection(new Recorder());
        connection.closed(CloseStatus.NORMAL);

        Throwable failure = org.assertj.core.api.Assertions.catchThrowable(
                () -> connection.sendText("late").toCompletableFuture().join());

        assertThat(failure).hasCauseInstanceOf(ConnectionClosedException.class);
        assertThat(failure.getCause().getMessage()).isEqualTo("connection " + connection.id() + " (/test/) is closed");
        assertThat(connection.toString()).contains(connection.id());
    }

    @Test
    void callbacksFromAnotherThreadStartTheNextFrame() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        connection.completer = pool;

        List<CompletableFuture<Void>> stages = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            stages.add(connection.sendText("m" + i).toCompletableFuture());
        }

        CompletableFuture.allOf(stages.toArray(CompletableFuture[]::new)).get(5, SECONDS);
        assertThat(connection.written).hasSize(100).startsWith("m0", "m1").endsWith("m99");
        assertThat(connection.maxInFlight.get()).isEqualTo(1);
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void concurrentSendersNeverOverlapKeepTheirOrderAndEveryStageCompletes() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        ExecutorService completer = Executors.newSingleThreadExecutor();
        connection.completer = completer;
        int threads = 8;
        int perThread = 1000;
        CountDownLatch start = new CountDownLatch(1);
        List<Future<List<CompletableFuture<Void>>>> senders = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                int sender = t;
                senders.add(pool.submit(() -> {
                    List<CompletableFuture<Void>> stages = new ArrayList<>(perThread);
                    start.await(5, SECONDS);
                    for (int i = 0; i < perThread; i++) {
                        stages.add(connection.sendText(sender + ":" + i).toCompletableFuture());
                    }
                    return stages;
                }));
            }
            start.countDown();
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (Future<List<CompletableFuture<Void>>> sender : senders) {
                all.addAll(sender.get(5, SECONDS));
            }

            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(5, SECONDS);

            assertThat(all)
                    .hasSize(threads * perThread)
                    .allSatisfy(stage -> assertThat(stage).isCompleted().isNotCompletedExceptionally());
        } finally {
            completer.shutdownNow();
        }
        assertThat(connection.maxInFlight.get()).as("writes in flight at once").isEqualTo(1);
        assertThat(connection.written).hasSize(threads * perThread).doesNotHaveDuplicates();
        Map<String, Integer> lastBySender = new HashMap<>();
        for (Object frame : connection.written) {
            String[] parts = ((String) frame).split(":");
            int seq = Integer.parseInt(parts[1]);
            Integer previous = lastBySender.put(parts[0], seq);
            assertThat(seq).as("message of sender " + parts[0]).isEqualTo(previous == null ? 0 : previous + 1);
        }
        assertThat(lastBySender)
                .hasSize(threads)
                .allSatisfy((sender, last) -> assertThat(last).isEqualTo(perThread - 1));
        assertThat(connection.queuedBytes()).isZero();
    }

    // ---- failures ----

    @Test
    void failedWriteFailsThatStageAndTheNextFrameStillGoes() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        CompletionStage<Void> a = connection.sendText("a");
        CompletionStage<Void> b = connection.sendText("b");

        IOException broken = new IOException("broken pipe");
        connection.complete(connection.next(), broken);

        assertThatThrownBy(() -> a.toCompletableFuture().get(5, SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause()
                .isSameAs(broken);
        Pending second = connection.next();
        assertThat(second.frame()).isEqualTo("b");
        connection.complete(second, null);
        assertSucceeds(b);
        assertThat(connection.queuedBytes()).isZero();
        assertThat(connection.isOpen()).isTrue();
    }

    @Test
    void transportThatThrowsFailsThatStageAndTheNextFrameStillGoes() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        connection.explodeOn = "bad";
        CompletionStage<Void> a = connection.sendText("a");
        CompletionStage<Void> bad = connection.sendText("bad");
        CompletionStage<Void> c = connection.sendText("c");

        connection.completeNext();

        assertSucceeds(a);
        assertFailsWith(bad, IllegalStateException.class);
        Pending third = connection.next();
        assertThat(third.frame()).isEqualTo("c");
        connection.complete(third, null);
        assertSucceeds(c);
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void aSecondCallbackForTheSameFrameIsIgnored() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        CompletionStage<Void> a = connection.sendText("a");
        CompletionStage<Void> b = connection.sendText("b");
        Pending first = connection.next();
        connection.complete(first, null);
        Pending second = connection.next();

        first.callback().done(new IOException("late duplicate"));
        CompletionStage<Void> c = connection.sendText("c");

        assertSucceeds(a);
        assertThat(connection.pending).as("c must wait for b").isEmpty();
        assertThat(b.toCompletableFuture()).isNotDone();
        connection.complete(second, null);
        assertSucceeds(b);
        connection.completeNext();
        assertSucceeds(c);
        assertThat(connection.maxInFlight.get()).isEqualTo(1);
        assertThat(connection.queuedBytes()).isZero();
    }

    // ---- closing ----

    @Test
    void closedFailsQueuedFramesWithConnectionClosed() throws Exception {
        Recorder router = new Recorder();
        LaterConnection connection = new LaterConnection(router);
        connection.deliverOpen();
        CompletionStage<Void> a = connection.sendText("a");
        CompletionStage<Void> b = connection.sendText("b");
        CompletionStage<Void> c = connection.sendBinary(ByteBuffer.wrap(new byte[10]));
        Pending first = connection.next();

        connection.closed(CloseStatus.GOING_AWAY);

        assertFailsWith(b, ConnectionClosedException.class);
        assertFailsWith(c, ConnectionClosedException.class);
        assertThat(connection.queuedBytes()).isZero();
        assertThat(connection.isOpen()).isFalse();
        assertThat(connection.isClosed()).isTrue();
        assertFailsWith(connection.sendText("after"), ConnectionClosedException.class);
        assertThat(router.events).containsExactly("open", "close:1001");

        connection.complete(first, new IOException("socket gone"));
        assertFailsWith(a, IOException.class);
        assertThat(connection.pending).isEmpty();
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void closeIsWrittenAfterQueuedFramesAndSendsAfterItFail() throws Exception {
        Recorder router = new Recorder();
        LaterConnection connection = new LaterConnection(router);
        CompletionStage<Void> a = connection.sendText("a");
        CompletionStage<Void> b = connection.sendText("b");

        CompletionStage<Void> close = connection.close(CloseStatus.of(4000, "bye"));

        assertThat(connection.isOpen()).isFalse();
        assertFailsWith(connection.sendText("too late"), ConnectionClosedException.class);
        assertThat(connection.close(CloseStatus.NORMAL).toCompletableFuture()).isCompleted();
        connection.completeNext();
        connection.completeNext();
        Pending closeFrame = connection.next();
        assertThat(closeFrame.frame()).isEqualTo(CloseStatus.of(4000, "bye"));
        assertThat(close.toCompletableFuture()).isNotDone();
        connection.complete(closeFrame, null);
        assertSucceeds(a);
        assertSucceeds(b);
        assertSucceeds(close);
        assertThat(connection.written).containsExactly("a", "b", CloseStatus.of(4000, "bye"));
        assertThat(router.events)
                .as("onClose waits for the transport's closed()")
                .isEmpty();

        connection.closed(CloseStatus.of(4000, "bye"));
        connection.closed(CloseStatus.NORMAL);
        assertThat(router.events).containsExactly("close:4000");
    }

    @Test
    void closedWhileTheCloseFrameIsQueuedCompletesItsStage() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        connection.sendText("a");
        CompletionStage<Void> close = connection.close();

        connection.closed(CloseStatus.ABNORMAL_CLOSURE);

        assertSucceeds(close);
    }

    @Test
    void localOnlyStatusIsRefusedAndTheConnectionStaysOpen() {
        LaterConnection connection = new LaterConnection(new Recorder());

        assertThatThrownBy(() -> connection.close(CloseStatus.ABNORMAL_CLOSURE))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(connection.isOpen()).isTrue();
        assertThat(connection.pending).isEmpty();
    }

    @Test
    void binaryWriteSeesTheRemainingBytesAndLeavesTheCallersBufferAlone() throws Exception {
        LaterConnection connection = new LaterConnection(new Recorder());
        ByteBuffer data = ByteBuffer.wrap(new byte[] {0, 1, 2, 3});
        data.position(1);

        CompletionStage<Void> stage = connection.sendBinary(data);
        Pending write = connection.next();
        connection.complete(write, null);

        assertSucceeds(stage);
        assertThat((byte[]) write.frame()).containsExactly(1, 2, 3);
        assertThat(data.position()).isEqualTo(1);
        assertThat(data.remaining()).isEqualTo(3);
    }

    // ---- towards the router ----

    @Test
    void transportErrorIsReportedBeforeCloseAndNotAfterIt() throws Exception {
        Recorder router = new Recorder();
        LaterConnection connection = new LaterConnection(router);
        connection.deliverOpen();

        connection.deliverError(new IOException("reset"));
        connection.closed(CloseStatus.ABNORMAL_CLOSURE);
        connection.deliverError(new IOException("after close"));
        connection.deliverText("after close");

        assertThat(router.events).containsExactly("open", "error:reset", "close:1006");
    }

    /** Runs callback tasks only when the test says so: a callback executor that lags behind the transport. */
    private static final class ManualExecutor implements Executor {
        final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();

        @Override
        public void execute(Runnable task) {
            tasks.add(task);
        }

        void runAll() {
            Runnable task;
            while ((task = tasks.poll()) != null) {
                task.run();
            }
        }
    }

    @Test
    void messagesThatArrivedBeforeTheCloseAreDeliveredBeforeOnCloseOnALaggingExecutor() {
        Recorder router = new Recorder();
        ManualExecutor lagging = new ManualExecutor();
        LaterConnection connection = new LaterConnection(router, lagging);
        connection.deliverOpen();
        connection.deliverText("hello");
        connection.deliverText("bye");
        connection.deliverError(new IOException("reset"));

        connection.closed(CloseStatus.NORMAL);
        connection.deliverText("after close");
        connection.deliverError(new IOException("after close"));
        assertThat(router.events).isEmpty();
        lagging.runAll();

        assertThat(router.events).containsExactly("open", "hello", "bye", "error:reset", "close:1000");
    }

    @Test
    void callbacksOnAPoolRunOneAtATimeInOrder() throws Exception {
        Recorder router = new Recorder();
        LaterConnection connection = new LaterConnection(router, pool);
        connection.deliverOpen();
        for (int i = 0; i < 2000; i++) {
            connection.deliverText("m" + i);
        }
        connection.closed(CloseStatus.NORMAL);

        assertThat(router.closed.await(5, SECONDS)).isTrue();
        List<String> expected = new ArrayList<>();
        expected.add("open");
        for (int i = 0; i < 2000; i++) {
            expected.add("m" + i);
        }
        expected.add("close:1000");
        assertThat(router.events).containsExactlyElementsOf(expected);
        assertThat(router.overlaps.get()).isZero();
    }

    @Test
    void routerFailureOnAPoolIsReportedOnceAndClosesWith1011() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        List<String> events = new CopyOnWriteArrayList<>();
        MessageRouter failing = new MessageRouter() {
            @Override
            public void onText(Connection connection, String text) {
                events.add(text);
                throw new IllegalStateException("boom");
            }

            @Override
            public void onError(Connection connection, Throwable error) {
                events.add("error:" + error.getMessage());
            }

            @Override
            public void onClose(Connection connection, CloseStatus status) {
                events.add("close:" + status.code());
                closed.countDown();
            }
        };
        LaterConnection connection = new LaterConnection(failing, pool);

        connection.deliverText("one");
        connection.deliverText("two");
        Pending closeFrame = connection.next();
        assertThat(closeFrame.frame())
                .isInstanceOfSatisfying(
                        CloseStatus.class, status -> assertThat(status.code()).isEqualTo(1011));
        connection.complete(closeFrame, null);
        connection.closed(CloseStatus.INTERNAL_ERROR);

        assertThat(closed.await(5, SECONDS)).isTrue();
        assertThat(events).containsExactly("one", "error:boom", "close:1011");
    }

    @Test
    void transportErrorAfterARouterFailureDoesNotCallOnErrorAgain() {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        List<CloseStatus> closes = new CopyOnWriteArrayList<>();
        MessageRouter failing = new MessageRouter() {
            @Override
            public void onText(Connection connection, String text) {
                throw new IllegalStateException("router bug");
            }

            @Override
            public void onError(Connection connection, Throwable error) {
                errors.add(error);
            }

            @Override
            public void onClose(Connection connection, CloseStatus status) {
                closes.add(status);
            }
        };
        LaterConnection connection = new LaterConnection(failing);
        connection.deliverOpen();
        connection.deliverText("boom");
        connection.deliverError(new IOException("connection reset"));
        connection.closed(CloseStatus.ABNORMAL_CLOSURE);

        assertThat(errors).singleElement().satisfies(e -> assertThat(e).hasMessage("router bug"));
        assertThat(closes).containsExactly(CloseStatus.ABNORMAL_CLOSURE);
    }

    private static SendLimits limits(long max, io.github.wsrouter.SendOverflow overflow) {
        return new SendLimits(max, overflow);
    }

    @Test
    void overTheBoundUnderDropTheMessageIsDroppedAndCountedAndTheConnectionStaysOpen() throws Exception {
        RouteCounters counters = new RouteCounters();
        LaterConnection connection =
                new LaterConnection(new MessageRouter() {}, limits(10, io.github.wsrouter.SendOverflow.DROP), counters);
        CompletionStage<Void> first = connection.sendText("aaaaa"); // in flight, 5 queued
        CompletionStage<Void> second = connection.sendText("bbbb"); // 9: fits
        CompletionStage<Void> third = connection.sendText("cc"); // 11: over the bound

        assertThat(third.toCompletableFuture()).isCompletedExceptionally();
        assertThatThrownBy(() -> third.toCompletableFuture().get(5, SECONDS))
                .hasCauseInstanceOf(io.github.wsrouter.SendBufferOverflowException.class);
        assertThat(counters.snapshot().droppedMessages()).isEqualTo(1);
        assertThat(connection.isOpen()).isTrue();
        assertThat(connection.queuedBytes()).isEqualTo(9);

        connection.completeNext();
        connection.completeNext();
        first.toCompletableFuture().get(5, SECONDS);
        second.toCompletableFuture().get(5, SECONDS);
        assertThat(connection.queuedBytes()).isZero();
        assertThat(connection.written).containsExactly("aaaaa", "bbbb");
        connection.sendText("later").toCompletableFuture();
        connection.completeNext();
        assertThat(connection.written).containsExactly("aaaaa", "bbbb", "later");
    }

    @Test
    void overTheBoundUnderCloseTheQueueIsDiscardedAndTheConnectionClosedWith4000() throws Exception {
        RouteCounters counters = new RouteCounters();
        LaterConnection connection = new LaterConnection(
                new MessageRouter() {}, limits(10, io.github.wsrouter.SendOverflow.CLOSE), counters);
        CompletionStage<Void> first = connection.sendText("aaaaa"); // in flight
        CompletionStage<Void> queued = connection.sendText("bbbb"); // waits
        CompletionStage<Void> over = connection.sendText("cc"); // over: close

        assertThat(connection.isOpen()).isFalse();
        assertThat(connection.slowConsumerCalls).hasValue(1);
        assertThat(counters.snapshot().slowConsumerCloses()).isEqualTo(1);
        for (CompletionStage<Void> failed : List.of(queued, over)) {
            assertThatThrownBy(() -> failed.toCompletableFuture().get(5, SECONDS))
                    .hasCauseInstanceOf(io.github.wsrouter.SendBufferOverflowException.class);
        }
        assertThat(connection.sendText("after").toCompletableFuture()).isCompletedExceptionally();

        connection.completeNext(); // the frame in flight finishes; then the close frame goes
        first.toCompletableFuture().get(5, SECONDS);
        connection.completeNext();
        assertThat(connection.written).containsExactly("aaaaa", io.github.wsrouter.CloseStatus.SLOW_CONSUMER);
    }

    @Test
    void aMessageLargerThanTheBoundStillGoesWhenNothingIsQueued() throws Exception {
        LaterConnection connection = new LaterConnection(
                new MessageRouter() {}, limits(4, io.github.wsrouter.SendOverflow.CLOSE), new RouteCounters());
        CompletionStage<Void> big = connection.sendText("larger than four");
        connection.completeNext();
        big.toCompletableFuture().get(5, SECONDS);
        assertThat(connection.isOpen()).isTrue();
    }

    @Test
    void countersFollowMessagesAndTheLifecycle() throws Exception {
        RouteCounters counters = new RouteCounters();
        LaterConnection connection = new LaterConnection(EchoingRouter.INSTANCE, SendLimits.unbounded(), counters);
        connection.completer = Runnable::run;
        connection.deliverOpen();
        connection.deliverText("abc");
        connection.deliverBinary(ByteBuffer.wrap(new byte[] {1, 2}));
        assertThat(counters.snapshot()).isEqualTo(new io.github.wsrouter.RouteStats(1, 1, 0, 2, 2, 5, 5, 0, 0, 0));
        connection.sendError("{\"error\":\"x\"}");
        assertThat(counters.snapshot()).isEqualTo(new io.github.wsrouter.RouteStats(1, 1, 0, 2, 3, 5, 18, 0, 0, 1));
        connection.closed(CloseStatus.NORMAL);
        connection.closed(CloseStatus.NORMAL);
        assertThat(counters.snapshot()).isEqualTo(new io.github.wsrouter.RouteStats(0, 1, 1, 2, 3, 5, 18, 0, 0, 1));
    }

    private enum EchoingRouter implements MessageRouter {
        INSTANCE;

        @Override
        public void onText(Connection connection, String text) {
            connection.sendText(text);
        }

        @Override
        public void onBinary(Connection connection, ByteBuffer data) {
            connection.sendBinary(data);
        }
    }
}
