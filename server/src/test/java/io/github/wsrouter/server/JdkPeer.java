package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link Peer} over the JDK's {@code java.net.http.WebSocket}. */
final class JdkPeer implements Peer, WebSocket.Listener {

    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private record Closed(CloseStatus status) {
    }

    private record Failed(Throwable error) {
    }

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final StringBuilder text = new StringBuilder();
    private java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
    private final WebSocket webSocket;
    private CompletableFuture<WebSocket> sending = CompletableFuture.completedFuture(null);

    private JdkPeer(HttpClient client, URI uri) {
        try {
            this.webSocket = client.newWebSocketBuilder().connectTimeout(TIMEOUT)
                    .buildAsync(uri, this).get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not connect to " + uri + ": " + e, e);
        }
    }

    static JdkPeer connect(HttpClient client, URI uri) {
        return new JdkPeer(client, uri);
    }

    @Override
    public void onOpen(WebSocket ws) {
        ws.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        text.append(data);
        if (last) {
            events.add(text.toString());
            text.setLength(0);
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
        byte[] bytes = new byte[data.remaining()];
        data.get(bytes);
        binary.writeBytes(bytes);
        if (last) {
            events.add(ByteBuffer.wrap(binary.toByteArray()));
            binary = new java.io.ByteArrayOutputStream();
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        events.add(new Closed(CloseStatus.of(statusCode, reason)));
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        events.add(new Failed(error));
    }

    /** Sends in order: the JDK client allows one outstanding send at a time. */
    @Override
    public synchronized void sendText(String message) {
        sending = sending.thenCompose(ws -> webSocket.sendText(message, true));
        await(sending, "send text");
    }

    @Override
    public synchronized void sendBinary(byte[] data) {
        sending = sending.thenCompose(ws -> webSocket.sendBinary(ByteBuffer.wrap(data), true));
        await(sending, "send binary");
    }

    @Override
    public String awaitText() {
        Object event = next();
        if (event instanceof String s) {
            return s;
        }
        throw new AssertionError("expected a text message but got " + event);
    }

    @Override
    public ByteBuffer awaitBinary() {
        Object event = next();
        if (event instanceof ByteBuffer b) {
            return b;
        }
        throw new AssertionError("expected a binary message but got " + event);
    }

    @Override
    public CloseStatus awaitClose() {
        Object event = next();
        if (event instanceof Closed closed) {
            return closed.status;
        }
        throw new AssertionError("expected the server to close but got " + event);
    }

    @Override
    public void close(CloseStatus status) {
        await(webSocket.sendClose(status.code(), status.reason()), "send close");
        Object event = next();
        if (!(event instanceof Closed)) {
            throw new AssertionError("expected the server's close reply but got " + event);
        }
    }

    @Override
    public void abort() {
        webSocket.abort();
    }

    private Object next() {
        try {
            Object event = events.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (event == null) {
                throw new AssertionError("nothing arrived within " + TIMEOUT);
            }
            return event;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static void await(CompletableFuture<?> future, String what) {
        try {
            future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not " + what + ": " + e, e);
        }
    }
}
