package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Peer} that records what its client library delivers — text, binary, the close, a
 * failure — in one queue, and takes them in order with a bounded wait.
 */
abstract class RecordingPeer implements Peer {

    static final long TIMEOUT_MILLIS = 10_000;

    private record Closed(CloseStatus status) {}

    private record Failed(Throwable error) {}

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();

    final void receivedText(String text) {
        events.add(text);
    }

    final void receivedBinary(ByteBuffer data) {
        events.add(data);
    }

    final void receivedClose(CloseStatus status) {
        events.add(new Closed(status));
    }

    final void failed(Throwable error) {
        events.add(new Failed(error));
    }

    @Override
    public final String awaitText() {
        Object event = next();
        if (event instanceof String s) {
            return s;
        }
        throw new AssertionError("expected a text message but got " + event);
    }

    @Override
    public final ByteBuffer awaitBinary() {
        Object event = next();
        if (event instanceof ByteBuffer b) {
            return b;
        }
        throw new AssertionError("expected a binary message but got " + event);
    }

    @Override
    public final CloseStatus awaitClose() {
        Object event = next();
        if (event instanceof Closed closed) {
            return closed.status;
        }
        throw new AssertionError("expected the server to close but got " + event);
    }

    /** The next event, which must come within the timeout. */
    final Object next() {
        try {
            Object event = events.poll(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            if (event == null) {
                throw new AssertionError("nothing arrived within " + TIMEOUT_MILLIS + " ms");
            }
            return event;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Waits for the server's close after our own close frame; fails if something else comes. */
    final void awaitCloseReply() {
        Object event = next();
        if (!(event instanceof Closed)) {
            throw new AssertionError("expected the server's close reply but got " + event);
        }
    }
}
