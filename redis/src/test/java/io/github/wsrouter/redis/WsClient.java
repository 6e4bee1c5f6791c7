package io.github.wsrouter.redis;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A JDK {@link WebSocket} client for tests: whole text messages go into a queue, taken with a
 * bounded wait. Sends wait until the frame is handed to the network (one at a time, in order).
 */
final class WsClient implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final URI uri;
    private final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final WebSocket webSocket;
    private volatile boolean aborted;

    private WsClient(HttpClient http, URI uri) {
        this.uri = uri;
        try {
            this.webSocket = http.newWebSocketBuilder()
                    .connectTimeout(TIMEOUT)
                    .buildAsync(uri, new Listener())
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not connect to " + uri + ": " + e, e);
        }
    }

    static WsClient connect(HttpClient http, URI uri) {
        return new WsClient(http, uri);
    }

    synchronized WsClient send(String text) {
        try {
            webSocket.sendText(text, true).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not send on " + uri + ": " + e, e);
        }
        return this;
    }

    /** Sends the messages one after another without waiting for each, then waits until the last is written. */
    synchronized WsClient sendAll(Iterable<String> messages) {
        CompletableFuture<WebSocket> sending = CompletableFuture.completedFuture(webSocket);
        for (String message : messages) {
            sending = sending.thenCompose(ws -> ws.sendText(message, true));
        }
        try {
            sending.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not send on " + uri + ": " + e, e);
        }
        return this;
    }

    /** The next text message, which must come within {@link #TIMEOUT}. */
    String awaitText() {
        String text = poll(TIMEOUT);
        if (text == null) {
            throw new AssertionError("nothing arrived on " + uri + " within " + TIMEOUT.toMillis() + " ms"
                    + (closed.isDone() ? " (closed: " + closed.getNow(null) + ")" : ""));
        }
        return text;
    }

    /** The next text message that {@code skip} does not match, dropping those it matches. */
    String awaitTextSkipping(Predicate<String> skip) {
        String text = awaitText();
        while (skip.test(text)) {
            text = awaitText();
        }
        return text;
    }

    /** The next text message within the timeout, or {@code null}. */
    String poll(Duration timeout) {
        try {
            return texts.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Messages received and not yet taken. */
    int pending() {
        return texts.size();
    }

    /** The status the server closed with, which must come within {@link #TIMEOUT}. */
    int closeCode() {
        try {
            return closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("not closed within " + TIMEOUT.toMillis() + " ms: " + e, e);
        }
    }

    /** Drops the TCP connection without a close frame, as a lost network would. */
    void abort() {
        aborted = true;
        webSocket.abort();
    }

    /** Closes with 1000 and waits (bounded) for the server's close. */
    @Override
    public void close() {
        if (aborted) {
            return; // nothing left to close, and no close will come
        }
        try {
            if (!webSocket.isOutputClosed()) {
                webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
            closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // dropped below either way
        } finally {
            webSocket.abort();
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
