package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A {@link Peer} over the JDK's {@code java.net.http.WebSocket}. */
final class JdkPeer extends RecordingPeer implements WebSocket.Listener {

    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final StringBuilder text = new StringBuilder();
    private java.io.ByteArrayOutputStream binary = new java.io.ByteArrayOutputStream();
    private final WebSocket webSocket;
    private CompletableFuture<WebSocket> sending = CompletableFuture.completedFuture(null);

    private JdkPeer(HttpClient client, URI uri) {
        try {
            this.webSocket = client.newWebSocketBuilder()
                    .connectTimeout(TIMEOUT)
                    .buildAsync(uri, this)
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
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
            receivedText(text.toString());
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
            receivedBinary(ByteBuffer.wrap(binary.toByteArray()));
            binary = new java.io.ByteArrayOutputStream();
        }
        ws.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        receivedClose(CloseStatus.of(statusCode, reason));
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
        failed(error);
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
    public void close(CloseStatus status) {
        await(webSocket.sendClose(status.code(), status.reason()), "send close");
        awaitCloseReply();
    }

    @Override
    public void abort() {
        webSocket.abort();
    }

    private static void await(CompletableFuture<?> future, String what) {
        try {
            future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new AssertionError("could not " + what + ": " + e, e);
        }
    }
}
