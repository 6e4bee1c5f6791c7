package io.github.wsrouter.examples;

import static org.assertj.core.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * A JDK {@link WebSocket} client for tests: every whole text message it receives goes into a queue,
 * and {@link #awaitText()} takes the next one or fails after {@value #TIMEOUT_SECONDS} s.
 */
final class WsTestClient implements AutoCloseable {

    static final long TIMEOUT_SECONDS = 5;

    /** A close frame received from the server. */
    record Close(int statusCode, String reason) {}

    private final URI uri;
    private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
    private final CompletableFuture<Close> closed = new CompletableFuture<>();
    private final WebSocket webSocket;

    private WsTestClient(URI uri, HttpClient http) {
        this.uri = uri;
        try {
            this.webSocket = http.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(TIMEOUT_SECONDS))
                    .buildAsync(uri, new QueueingListener())
                    .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("could not open " + uri + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("could not open " + uri + " within " + TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while opening " + uri, e);
        }
    }

    /** Opens a connection to {@code ws://127.0.0.1:port + path}, failing the test if it does not open. */
    static WsTestClient connect(HttpClient http, int port, String path) {
        return new WsTestClient(URI.create("ws://127.0.0.1:" + port + path), http);
    }

    /** Sends one whole text message and waits until it has been handed to the network. */
    WsTestClient send(String text) {
        try {
            webSocket.sendText(text, true).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("could not send on " + uri + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("could not send on " + uri + " within " + TIMEOUT_SECONDS + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while sending on " + uri, e);
        }
        return this;
    }

    /** The next whole text message received, waiting at most {@value #TIMEOUT_SECONDS} s. */
    String awaitText() {
        return awaitText(Duration.ofSeconds(TIMEOUT_SECONDS));
    }

    /** The next whole text message received, waiting at most {@code timeout}. */
    String awaitText(Duration timeout) {
        String text;
        try {
            text = texts.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a text message on " + uri, e);
        }
        if (text == null) {
            String state = closed.isDone() ? " (connection closed: " + describeClose() + ")" : "";
            fail("no text message received on " + uri + " within " + timeout.toMillis() + " ms" + state);
        }
        return text;
    }

    private String describeClose() {
        try {
            return String.valueOf(closed.join());
        } catch (RuntimeException e) {
            return "failed: " + e.getCause();
        }
    }

    /**
     * The next whole text message that {@code skip} does not match, dropping those it matches (such as
     * presence objects), waiting at most {@value #TIMEOUT_SECONDS} s for each.
     */
    String awaitTextSkipping(Predicate<String> skip) {
        String text = awaitText();
        while (skip.test(text)) {
            text = awaitText();
        }
        return text;
    }

    /** The close frame from the server, waiting at most {@value #TIMEOUT_SECONDS} s. */
    Close awaitClose() {
        return awaitClose(Duration.ofSeconds(TIMEOUT_SECONDS));
    }

    /** The close frame from the server, waiting at most {@code timeout}. */
    Close awaitClose(Duration timeout) {
        try {
            return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("connection " + uri + " not closed within " + timeout.toMillis() + " ms", e);
        } catch (ExecutionException e) {
            throw new AssertionError("connection " + uri + " failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + uri + " to close", e);
        }
    }

    /** Text messages received and not yet taken. */
    int pending() {
        return texts.size();
    }

    /** Sends a normal close and waits (bounded) for the server's close before dropping the socket. */
    @Override
    public void close() {
        try {
            if (!webSocket.isOutputClosed()) {
                webSocket.sendClose(WebSocket.NORMAL_CLOSURE, "test done").get(2, TimeUnit.SECONDS);
            }
            closed.get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // the socket is dropped below either way
        } finally {
            webSocket.abort();
        }
    }

    private final class QueueingListener implements WebSocket.Listener {
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
            closed.complete(new Close(statusCode, reason));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
