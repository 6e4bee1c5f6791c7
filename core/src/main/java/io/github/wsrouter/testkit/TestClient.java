package io.github.wsrouter.testkit;

import io.github.wsrouter.CloseStatus;
import io.github.wsrouter.Connection;
import io.github.wsrouter.ConnectionClosedException;
import io.github.wsrouter.spi.AbstractConnection;
import io.github.wsrouter.spi.Handshake;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

// About 450 lines: a test client offers every await and peek a test needs (text, binary, close,
// counts, predicates), each a few lines with its javadoc; splitting it would split its one API.
/**
 * The peer of one in-memory connection: sends what a WebSocket client would send, and records
 * everything the router sends, in order, for the test to read.
 *
 * <h2>Reading</h2>
 * {@link #nextText()} and {@link #nextBinary()} take the next recorded message and throw {@link
 * AssertionError} saying what came instead (another kind of message, nothing, or a close); {@link
 * #awaitText(Duration)}, {@link #awaitBinary(Duration)} and {@link #awaitClose(Duration)} wait up to
 * a timeout for a router that acts from another thread (a route with an executor, or a router with
 * threads of its own). {@link #hasMessages()}, {@link #hasText()} and {@link #peekText()} look at
 * what waits without taking it. {@link #assertNoMoreMessages()} at the end of a test checks that
 * nothing unexpected was sent.
 *
 * <h2>Sending and closing</h2>
 * On a route without an executor, the router's callback has run when {@link #sendText}, {@link
 * #sendBinary}, {@link #close()} or {@link #disconnect()} returns; on a route with one, it has been
 * queued there. A message over the route's {@code maxMessageSize} is not given to the router: the
 * server closes the connection with {@link CloseStatus#MESSAGE_TOO_BIG 1009}, as a real one does.
 * The first close wins, from either side; sending after it throws {@link AssertionError}.
 *
 * <h2>A peer that stops reading</h2>
 * Frames the router sends are read at once, unless {@link #pauseReading()} was called: then the
 * frame being written stays in flight and later ones wait in the connection's send buffer ({@link
 * Connection#queuedBytes()}), where the route's send buffer limit applies, until {@link
 * #resumeReading()}. There is no close timeout in memory: a peer that never resumes is never
 * dropped.
 *
 * <p>Safe for use from several threads; a test usually reads from one.
 */
public final class TestClient {

    private final InMemoryConnection connection;
    private final LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
    /** Completed with the status of the first close, from either side. */
    private final CompletableFuture<CloseStatus> closure = new CompletableFuture<>();

    private final long maxMessageSize;
    private final Consumer<TestClient> onClosed;

    TestClient(Handshake handshake, TestServer.Mount mount, Consumer<TestClient> onClosed) {
        this.connection = new InMemoryConnection(handshake, mount);
        this.maxMessageSize = mount.maxMessageSize();
        this.onClosed = onClosed;
    }

    void open() {
        connection.deliverOpen();
    }

    /** The server side of this connection, as the router sees it. */
    public Connection connection() {
        return connection;
    }

    /**
     * Sends a text message to the router. One whose UTF-8 encoding is over the route's {@code
     * maxMessageSize} closes the connection with 1009 instead.
     *
     * @throws AssertionError if the connection is closed
     */
    public TestClient sendText(String text) {
        Objects.requireNonNull(text, "text");
        requireOpen("send text");
        if (utf8Length(text) > maxMessageSize) {
            tooBig();
        } else {
            connection.deliverText(text);
        }
        return this;
    }

    /**
     * Sends a binary message (the bytes are copied). One over the route's {@code maxMessageSize}
     * closes the connection with 1009 instead.
     *
     * @throws AssertionError if the connection is closed
     */
    public TestClient sendBinary(byte[] data) {
        requireOpen("send binary");
        if (data.length > maxMessageSize) {
            tooBig();
        } else {
            connection.deliverBinary(ByteBuffer.wrap(data.clone()));
        }
        return this;
    }

    /** Closes from the client side with 1000. */
    public void close() {
        close(CloseStatus.NORMAL);
    }

    /**
     * Closes from the client side; the server answers with the same status, as RFC 6455 has it,
     * and the router's {@code onClose} gets it. Does nothing if the connection is already closed.
     */
    public void close(CloseStatus status) {
        Objects.requireNonNull(status, "status");
        gone(status);
    }

    /** Drops the connection without a close frame: the router sees 1006 (abnormal closure). */
    public void disconnect() {
        gone(CloseStatus.ABNORMAL_CLOSURE);
    }

    /**
     * Stops reading: what the router sends from now on is not recorded, and stays in the server's
     * send buffer, until {@link #resumeReading()}.
     */
    public TestClient pauseReading() {
        connection.pause();
        return this;
    }

    /** Reads again: what waited in the server's send buffer is recorded, in order. */
    public TestClient resumeReading() {
        connection.resume();
        return this;
    }

    /** Whether neither side has closed. */
    public boolean isOpen() {
        return !closure.isDone();
    }

    /** The close status, from whichever side closed first, or {@code null} while open. */
    public CloseStatus closeStatus() {
        return closure.getNow(null);
    }

    /**
     * Waits until the connection is closed, from either side; returns at once if it is.
     *
     * @return the status of the first close
     * @throws AssertionError if the connection is still open after the timeout
     */
    public CloseStatus awaitClose(Duration timeout) {
        try {
            return closure.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("expected the connection " + connection.path() + " to be closed within "
                    + describe(timeout) + " but it is still open");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for the connection to close", e);
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause()); // never completed exceptionally
        }
    }

    /** Whether the router sent something not yet taken. */
    public boolean hasMessages() {
        return !received.isEmpty();
    }

    /** Whether the next message not yet taken is text. */
    public boolean hasText() {
        return received.peek() instanceof String;
    }

    /**
     * The next message the router sent, which must be text, without taking it: the next {@link
     * #nextText()} returns it again.
     *
     * @throws AssertionError if nothing was sent, or the next message is binary
     */
    public String peekText() {
        return asText(received.peek(), null);
    }

    /**
     * Takes the next message the router sent, which must be text.
     *
     * @throws AssertionError if nothing was sent, or the next message is binary
     */
    public String nextText() {
        return asText(received.poll(), null);
    }

    /**
     * Like {@link #nextText()}, but waits up to the timeout for a router that sends from another
     * thread.
     *
     * @throws AssertionError if nothing came within the timeout, or the next message is binary
     */
    public String awaitText(Duration timeout) {
        return asText(poll(timeout), timeout);
    }

    /**
     * Takes the next message the router sent, which must be binary.
     *
     * @throws AssertionError if nothing was sent, or the next message is text
     */
    public ByteBuffer nextBinary() {
        return asBinary(received.poll(), null);
    }

    /**
     * Like {@link #nextBinary()}, but waits up to the timeout.
     *
     * @throws AssertionError if nothing came within the timeout, or the next message is text
     */
    public ByteBuffer awaitBinary(Duration timeout) {
        return asBinary(poll(timeout), timeout);
    }

    /**
     * Takes every text message recorded so far, in order; fails on a binary one, which is then
     * left as the next message.
     */
    public List<String> texts() {
        List<String> texts = new ArrayList<>();
        while (hasMessages()) {
            texts.add(peekText());
            received.poll();
        }
        return texts;
    }

    /** @throws AssertionError if the connection is not closed with this code */
    public CloseStatus assertClosed(int expectedCode) {
        CloseStatus status = closeStatus();
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
            throw new AssertionError(
                    "expected no more messages but " + received.size() + " remain, the next: " + describe(next));
        }
    }

    /** Decodes a binary message as UTF-8, for tests of routers that send text as bytes. */
    public static String utf8(ByteBuffer data) {
        return StandardCharsets.UTF_8.decode(data.duplicate()).toString();
    }

    // ---- internals ----

    /** The client closed or dropped the connection: the first close wins. */
    private void gone(CloseStatus status) {
        if (!closure.complete(status)) {
            return;
        }
        connection.closed(status);
        connection.failHeld();
        onClosed.accept(this);
    }

    /** The server refuses a message over the limit, as its frame guard does. */
    private void tooBig() {
        connection.close(CloseStatus.MESSAGE_TOO_BIG.withReason("message over " + maxMessageSize + " bytes"));
    }

    private static long utf8Length(String text) {
        long length = text.length();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x800) {
                length += Character.isSurrogate(c) ? 1 : 2; // a pair is 4 bytes for 2 chars
            } else if (c >= 0x80) {
                length += 1;
            }
        }
        return length;
    }

    private Object poll(Duration timeout) {
        try {
            return received.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a message", e);
        }
    }

    private String asText(Object next, Duration waited) {
        if (next instanceof String text) {
            return text;
        }
        throw new AssertionError("expected a text message" + within(waited) + " but " + describeMissing(next));
    }

    private ByteBuffer asBinary(Object next, Duration waited) {
        if (next instanceof ByteBuffer data) {
            return data;
        }
        throw new AssertionError("expected a binary message" + within(waited) + " but " + describeMissing(next));
    }

    private static String within(Duration waited) {
        return waited == null ? "" : " within " + describe(waited);
    }

    private String describeMissing(Object next) {
        if (next != null) {
            return "got " + describe(next);
        }
        CloseStatus status = closeStatus();
        return status == null ? "none was sent" : "none was sent and the connection was closed with " + status;
    }

    private static String describe(Object message) {
        if (message instanceof String text) {
            return "text \"" + (text.length() > 200 ? text.substring(0, 200) + "..." : text) + "\"";
        }
        ByteBuffer data = (ByteBuffer) message;
        return "binary (" + data.remaining() + " bytes)";
    }

    /** "2 s", "50 ms", or the ISO form for what is not a whole number of milliseconds. */
    static String describe(Duration duration) {
        if (duration.toNanosPart() % 1_000_000 != 0) {
            return duration.toString();
        }
        long millis = duration.toMillis();
        return millis != 0 && millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }

    private void requireOpen(String action) {
        CloseStatus status = closeStatus();
        if (status != null) {
            throw new AssertionError(
                    "cannot " + action + ": the connection " + connection.path() + " was closed with " + status);
        }
    }

    /** A frame the client has not read yet, and the server's callback for it. */
    private record Held(Object frame, AbstractConnection.WriteCallback callback) {}

    /** The server side: frames the router writes land in the client's record. */
    private final class InMemoryConnection extends AbstractConnection {

        /** Guards paused and held; never held while calling out. */
        private final Object readLock = new Object();

        private boolean paused;
        private final List<Held> held = new ArrayList<>(1);

        InMemoryConnection(Handshake handshake, TestServer.Mount mount) {
            super(handshake, mount.router(), mount.executor(), mount.limits(), mount.counters());
        }

        @Override
        protected void writeText(String text, WriteCallback callback) {
            write(text, callback);
        }

        @Override
        protected void writeBinary(ByteBuffer data, WriteCallback callback) {
            ByteBuffer copy = ByteBuffer.allocate(data.remaining());
            copy.put(data).flip();
            write(copy.asReadOnlyBuffer(), callback);
        }

        @Override
        protected void writeClose(CloseStatus status, WriteCallback callback) {
            write(status, callback);
        }

        private void write(Object frame, WriteCallback callback) {
            synchronized (readLock) {
                if (paused) {
                    held.add(new Held(frame, callback));
                    return;
                }
            }
            read(frame, callback);
        }

        /** The client reads a frame: a message is recorded, a close ends the connection. */
        private void read(Object frame, WriteCallback callback) {
            if (frame instanceof CloseStatus status) {
                boolean first = closure.complete(status);
                callback.done(null);
                closed(status);
                if (first) {
                    onClosed.accept(TestClient.this);
                }
            } else {
                received.add(frame);
                callback.done(null);
            }
        }

        void pause() {
            synchronized (readLock) {
                paused = true;
            }
        }

        void resume() {
            List<Held> frames;
            synchronized (readLock) {
                paused = false;
                frames = List.copyOf(held);
                held.clear();
            }
            for (Held frame : frames) {
                read(frame.frame(), frame.callback());
            }
        }

        /** The client is gone: what it had not read is lost. */
        void failHeld() {
            List<Held> frames;
            synchronized (readLock) {
                frames = List.copyOf(held);
                held.clear();
            }
            for (Held frame : frames) {
                frame.callback()
                        .done(new ConnectionClosedException("connection " + id() + " (" + path() + ") is closed"));
            }
        }
    }
}
