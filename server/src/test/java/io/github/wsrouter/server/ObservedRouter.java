package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.MessageRouter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Wraps a router and records its lifecycle events, so a test waits for "the server has seen the
 * open" or "the server has seen the close" instead of sleeping.
 */
final class ObservedRouter implements MessageRouter {

    record Event(String kind, Connection connection, CloseStatus status, Throwable error) {}

    private final MessageRouter delegate;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();

    ObservedRouter(MessageRouter delegate) {
        this.delegate = delegate;
    }

    @Override
    public void onRateLimited(Connection connection, io.github.wsrouter.RateLimit limit) {
        delegate.onRateLimited(connection, limit);
    }

    @Override
    public void onMount(io.github.wsrouter.RouteContext route) {
        delegate.onMount(route);
    }

    @Override
    public io.github.wsrouter.HandshakeDecision onHandshake(io.github.wsrouter.HandshakeRequest request) {
        return delegate.onHandshake(request);
    }

    @Override
    public void onOpen(Connection connection) {
        delegate.onOpen(connection);
        events.add(new Event("open", connection, null, null));
    }

    @Override
    public void onText(Connection connection, String text) {
        delegate.onText(connection, text);
    }

    @Override
    public void onBinary(Connection connection, ByteBuffer data) {
        delegate.onBinary(connection, data);
    }

    @Override
    public void onClose(Connection connection, CloseStatus status) {
        delegate.onClose(connection, status);
        events.add(new Event("close", connection, status, null));
    }

    @Override
    public void onError(Connection connection, Throwable error) {
        delegate.onError(connection, error);
        events.add(new Event("error", connection, null, error));
    }

    /** Waits for the next event of this kind, skipping events of the skippable kinds. */
    Event await(String kind, String... skippable) {
        for (; ; ) {
            Event event = next(kind);
            if (event.kind.equals(kind)) {
                return event;
            }
            if (!java.util.List.of(skippable).contains(event.kind)) {
                throw new AssertionError("expected " + kind + " but got " + event);
            }
        }
    }

    private Event next(String kind) {
        try {
            Event event = events.poll(10, TimeUnit.SECONDS);
            if (event == null) {
                throw new AssertionError("no " + kind + " event within " + Duration.ofSeconds(10));
            }
            return event;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Fails if any event comes within the time: for "nothing happens while time passes". */
    void assertNoEventWithin(Duration quiet) {
        try {
            Event event = events.poll(quiet.toMillis(), TimeUnit.MILLISECONDS);
            if (event != null) {
                throw new AssertionError("expected no event within " + quiet + " but got " + event);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Waits for n open events. */
    void awaitOpens(int n) {
        for (int i = 0; i < n; i++) {
            await("open");
        }
    }
}
