package io.github.wsrouter.testkit;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.internal.AbstractConnection;
import io.github.wsrouter.internal.Handshake;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The peer of one in-memory connection: sends what a WebSocket client would send, and records
 * everything the router sends, in order, for the test to read.
 *
 * <p>Reading takes the next recorded message: {@link #nextText()} and {@link #nextBinary()}
 * throw {@link AssertionError} saying what came instead (another kind of frame, nothing, or a
 * close). {@link #assertNoMoreMessages()} at the end of a test checks nothing unexpected was sent.
 */
public final class TestClient {

    private final InMemoryConnection connection;
    private final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private volatile CloseStatus closeStatus;
    private final Consumer<TestClient> onClosed;

    TestClient(Handshake handshake, MessageRouter router, Consumer<TestClient> onClosed) {
        this.connection = new InMemoryConnection(handshake, router);
        this.onClosed = onClosed;
    }

    void open() {
        connection.deliverOpen();
    }

    /** The server side of this connection, as the router sees it. */
    public Connection connection() {
        return connection;
    }

    /** Sends a text message to the router; its {@code onText} has run when this returns. */
    public TestClient sendText(String text) {
        requireOpen("send text");
        connection.deliverText(text);
        return this;
    }

    /** Sends a binary message (the bytes are copied). */
    public TestClient sendBinary(byte[] data) {
        requireOpen("send binary");
        connection.deliverBinary(ByteBuffer.wrap(data.clone()));
        return this;
    }

    /** Closes from the client side with 1000; the router's {@code onClose} has run when this returns. */
    public void close() {
        close(CloseStatus.NORMAL);
    }

    /** Closes from the client side; the server answers with the same status, as RFC 6455 has it. */
    public void close(CloseStatus status) {
        if (closeStatus != null) {
            return;
        }
        closeStatus = status;
        connection.closed(status);
        onClosed.accept(this);
    }

    /** Drops the connection without a close frame: the router sees 1006 (abnormal closure). */
    public void disconnect() {
        if (closeStatus != null) {
            return;
        }
        closeStatus = CloseStatus.ABNORMAL_CLOSURE;
        connection.closed(CloseStatus.ABNORMAL_CLOSURE);
        onClosed.accept(TestClient.this);
    }

    /** Whether neither side has closed. */
    public boolean isOpen() {
        return closeStatus == null;
    }

    /** The close status, from whichever side closed first, or {@code null} while open. */
    public CloseStatus closeStatus() {
        return closeStatus;
    }

    /**
     * Takes the next message the router sent, which must be text.
     *
     * @throws AssertionError if nothing was sent, or the next message is binary
     */
    public String nextText() {
        return asText(received.poll());
    }

    /** Like {@link #nextText()}, but waits up to the timeout for a router that sends from another thread. */
    public String awaitText(Duration timeout) {
        return asText(poll(timeout));
    }

    /**
     * Takes the next message the router sent, which must be binary.
     *
     * @throws AssertionError if nothing was sent, or the next message is text
     */
    public ByteBuffer nextBinary() {
        return asBinary(received.poll());
    }

    /** Like {@link #nextBinary()}, but waits up to the timeout. */
    public ByteBuffer awaitBinary(Duration timeout) {
        return asBinary(poll(timeout));
    }

    /** Takes every text message recorded so far, in order; fails on a binary one. */
    public List<String> texts() {
        List<String> texts = new ArrayList<>();
        while (!received.isEmpty()) {
            texts.add(nextText());
        }
        return texts;
    }

    /** @throws AssertionError if the connection is not closed with this code */
    public CloseStatus assertClosed(int expectedCode) {
        CloseStatus status = closeStatus;
        if (status == null || status.code() != expectedCode) {
            throw new AssertionError("expected the connection to be closed with " + expectedCode + " but it "
                    + (status == null ? "is open" : "was closed with " + status));
        }
        return status;
    }

    /** @throws AssertionError if the router sent anything not yet taken */
    public void assertNoMoreMessages() {
        Object next = received.peek();
        if (next != null) {
            throw new AssertionError("expected no more messages but " + received.size() + " remain, the next: "
                    + describe(next));
        }
    }

    private Object poll(Duration timeout) {
        try {
            return received.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a message", e);
        }
    }

    private String asText(Object next) {
        if (next instanceof String text) {
            return text;
        }
        throw new AssertionError("expected a text message but " + describeMissing(next));
    }

    private ByteBuffer asBinary(Object next) {
        if (next instanceof ByteBuffer data) {
            return data;
        }
        throw new AssertionError("expected a binary message but " + describeMissing(next));
    }

    private String describeMissing(Object next) {
        if (next != null) {
            return "got " + describe(next);
        }
        CloseStatus status = closeStatus;
        return status == null ? "none was sent" : "none was sent and the connection was closed with " + status;
    }

    private static String describe(Object message) {
        if (message instanceof String text) {
            return "text \"" + (text.length() > 200 ? text.substring(0, 200) + "..." : text) + "\"";
        }
        ByteBuffer data = (ByteBuffer) message;
        return "binary (" + data.remaining() + " bytes)";
    }

    private void requireOpen(String action) {
        CloseStatus status = closeStatus;
        if (status != null) {
            throw new AssertionError("cannot " + action + ": the connection " + connection.path()
                    + " was closed with " + status);
        }
    }

    /** The server side: frames the router writes land in the client's record. */
    private final class InMemoryConnection extends AbstractConnection {

        InMemoryConnection(Handshake handshake, MessageRouter router) {
            super(handshake, router, Runnable::run);
        }

        @Override
        protected void writeText(String text, WriteCallback callback) {
            received.add(text);
            callback.done(null);
        }

        @Override
        protected void writeBinary(ByteBuffer data, WriteCallback callback) {
            ByteBuffer copy = ByteBuffer.allocate(data.remaining());
            copy.put(data).flip();
            received.add(copy.asReadOnlyBuffer());
            callback.done(null);
        }

        @Override
        protected void writeClose(CloseStatus status, WriteCallback callback) {
            if (closeStatus == null) {
                closeStatus = status;
            }
            callback.done(null);
            closed(status);
            onClosed.accept(TestClient.this);
        }
    }

    /** Decodes a binary message as UTF-8, for tests of routers that send text as bytes. */
    public static String utf8(ByteBuffer data) {
        return StandardCharsets.UTF_8.decode(data.duplicate()).toString();
    }
}
