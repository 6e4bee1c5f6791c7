package io.github.wsrouter.spi;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.ConnectionClosedException;
import io.github.wsrouter.MessageRouter;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The batch contract of the transport SPI: one drain asked per wake-up, batches of everything that
 * fits, a callback per batch, and the closes the server starts.
 */
@Timeout(10)
class SendQueueTest {

    private static final Handshake HANDSHAKE =
            new Handshake("/test/", java.util.Map.of(), java.util.Map.of(), java.util.Map.of());

    /** A transport that drains only when the test says so, like one that hands batches to its IO thread. */
    private static final class BatchingConnection extends AbstractConnection {
        final List<List<Object>> batches = new CopyOnWriteArrayList<>();
        final List<OutboundFrame> lastOfBatch = new CopyOnWriteArrayList<>();
        final List<Boolean> lingers = new CopyOnWriteArrayList<>();
        int asked;
        int dropped;

        BatchingConnection(MessageRouter router) {
            super(
                    HANDSHAKE,
                    router,
                    Runnable::run,
                    new SendLimits(1000, io.github.wsrouter.SendOverflow.CLOSE),
                    new RouteCounters());
        }

        @Override
        protected int maxFramesInFlight() {
            return 4;
        }

        @Override
        protected void framesWaiting() {
            asked++;
        }

        void runDrain() {
            drain();
        }

        @Override
        protected void write(List<OutboundFrame> batch) {
            List<Object> frames = new ArrayList<>();
            for (OutboundFrame frame : batch) {
                frames.add(frame.kind() == OutboundFrame.Kind.CLOSE ? frame.status() : frame.text());
                if (frame.kind() == OutboundFrame.Kind.CLOSE) {
                    lingers.add(frame.lingers());
                }
            }
            batches.add(frames);
            lastOfBatch.add(batch.get(batch.size() - 1));
        }

        @Override
        protected void dropSocket() {
            dropped++;
        }
    }

    private static final class Closes implements MessageRouter {
        final List<CloseStatus> heard = new CopyOnWriteArrayList<>();

        @Override
        public void onText(Connection connection, String text) {}

        @Override
        public void onClose(Connection connection, CloseStatus status) {
            heard.add(status);
        }
    }

    @Test
    void sendsMadeBeforeTheTransportDrainsLeaveInOneBatchCalledBackOnce() throws Exception {
        BatchingConnection connection = new BatchingConnection(new Closes());
        List<CompletionStage<Void>> sent = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            sent.add(connection.sendText("m" + i));
        }
        assertThat(connection.asked).as("the transport is asked once").isEqualTo(1);

        connection.runDrain();
        assertThat(connection.batches).containsExactly(List.of("m0", "m1", "m2", "m3"));

        connection.lastOfBatch.get(0).doneThrough(null);
        for (int i = 0; i < 4; i++) {
            sent.get(i).toCompletableFuture().get(5, SECONDS);
        }
        assertThat(sent.get(4).toCompletableFuture()).isNotDone();
        assertThat(connection.asked).as("the rest asks again").isEqualTo(2);
        connection.runDrain();
        assertThat(connection.batches.get(1)).containsExactly("m4", "m5");
        connection.lastOfBatch.get(1).doneThrough(null);
        sent.get(5).toCompletableFuture().get(5, SECONDS);
        assertThat(connection.queuedBytes()).isZero();
    }

    @Test
    void aLateCallbackForFramesAlreadyCalledBackIsIgnored() throws Exception {
        BatchingConnection connection = new BatchingConnection(new Closes());
        connection.sendText("a");
        connection.runDrain();
        connection.sendText("b");
        connection.runDrain();
        connection.lastOfBatch.get(1).doneThrough(null); // covers "a" too
        connection.lastOfBatch.get(0).doneThrough(new IOException("late"));
        connection.lastOfBatch.get(0).done(new IOException("late"));
        assertThat(connection.queuedBytes()).isZero();
        CompletionStage<Void> c = connection.sendText("c");
        connection.runDrain();
        assertThat(connection.batches.get(2)).containsExactly("c");
        assertThat(c.toCompletableFuture()).isNotDone();
    }

    @Test
    void aViolationDiscardsWhatWaitsClosesBehindTheFramesInFlightAndIsWhatTheRouterHears() throws Exception {
        Closes router = new Closes();
        BatchingConnection connection = new BatchingConnection(router);
        CompletionStage<Void> inFlight = connection.sendText("a");
        connection.runDrain();
        CompletionStage<Void> waiting = connection.sendText("b");

        CloseStatus tooBig = CloseStatus.MESSAGE_TOO_BIG.withReason("message over 10 bytes");
        connection.closeForViolation(tooBig);

        assertThat(waiting.toCompletableFuture())
                .failsWithin(5, SECONDS)
                .withThrowableOfType(ExecutionException.class)
                .withCauseInstanceOf(ConnectionClosedException.class);
        assertThat(connection.isOpen()).isFalse();
        connection.runDrain();
        assertThat(connection.batches)
                .as("the close waits for the frame in flight")
                .hasSize(1);
        connection.lastOfBatch.get(0).doneThrough(null);
        inFlight.toCompletableFuture().get(5, SECONDS);
        connection.runDrain();
        assertThat(connection.batches.get(1)).containsExactly(tooBig);
        assertThat(connection.lingers).containsExactly(true);

        connection.closedWith(CloseStatus.ABNORMAL_CLOSURE);
        assertThat(router.heard).containsExactly(tooBig);
    }

    @Test
    void thePeersCloseIsAnsweredThroughTheQueueAndIsWhatTheRouterHears() {
        Closes router = new Closes();
        BatchingConnection connection = new BatchingConnection(router);
        CloseStatus away = CloseStatus.GOING_AWAY.withReason("bye");

        connection.closeReceived(away);
        connection.runDrain();

        assertThat(connection.batches).containsExactly(List.of(away));
        assertThat(connection.lingers).containsExactly(false);
        connection.closedWith(CloseStatus.ABNORMAL_CLOSURE);
        assertThat(router.heard).containsExactly(away);
    }

    @Test
    void aDropIsWhatTheRouterHearsThoughTheSocketJustEnds() {
        Closes router = new Closes();
        BatchingConnection connection = new BatchingConnection(router);
        CloseStatus idle = CloseStatus.GOING_AWAY.withReason("idle timeout");

        connection.drop(idle);
        assertThat(connection.dropped).isEqualTo(1);
        connection.closed(CloseStatus.ABNORMAL_CLOSURE);

        assertThat(router.heard).containsExactly(idle);
    }

    @Test
    void theRoutersOwnCloseLeavesTheStatusToTheTransport() {
        Closes router = new Closes();
        BatchingConnection connection = new BatchingConnection(router);
        CompletableFuture<Void> close = connection.close(CloseStatus.NORMAL).toCompletableFuture();
        connection.runDrain();
        assertThat(connection.lingers).containsExactly(false);
        connection.lastOfBatch.get(0).done(null);
        assertThat(close).isCompleted();

        connection.closed(CloseStatus.ABNORMAL_CLOSURE);
        assertThat(router.heard).containsExactly(CloseStatus.ABNORMAL_CLOSURE);
    }
}
