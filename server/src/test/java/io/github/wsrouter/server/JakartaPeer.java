package io.github.wsrouter.server;

import io.github.wsrouter.CloseStatus;
import io.undertow.websockets.jsr.UndertowSession;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A {@link Peer} over the Jakarta WebSocket client ({@code ContainerProvider}, Undertow's implementation). */
final class JakartaPeer extends Endpoint implements Peer {

    private static final long TIMEOUT_MILLIS = 10_000;
    private static final WebSocketContainer CONTAINER = clientContainer();

    /**
     * The client container of {@code ContainerProvider}. Undertow answers by context class loader,
     * and a servlet deployment registers its server container under its own loader; asking with a
     * loader no deployment uses gives the standalone client container, which outlives every server.
     */
    private static WebSocketContainer clientContainer() {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(new ClassLoader(JakartaPeer.class.getClassLoader()) { });
        try {
            return ContainerProvider.getWebSocketContainer();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private record Closed(CloseStatus status) {
    }

    private record Failed(Throwable error) {
    }

    private final LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
    private final Session session;

    private JakartaPeer(URI uri) {
        try {
            this.session = CONTAINER.connectToServer(this, ClientEndpointConfig.Builder.create().build(), uri);
        } catch (Exception e) {
            throw new AssertionError("could not connect to " + uri + ": " + e, e);
        }
    }

    static JakartaPeer connect(URI uri) {
        return new JakartaPeer(uri);
    }

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        session.setMaxTextMessageBufferSize(1 << 20);
        session.setMaxBinaryMessageBufferSize(1 << 20);
        session.addMessageHandler(String.class, (MessageHandler.Whole<String>) events::add);
        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) data -> {
            ByteBuffer copy = ByteBuffer.allocate(data.remaining());
            copy.put(data).flip();
            events.add(copy);
        });
    }

    @Override
    public void onClose(Session session, CloseReason reason) {
        events.add(new Closed(CloseStatus.of(reason.getCloseCode().getCode(), reason.getReasonPhrase())));
    }

    @Override
    public void onError(Session session, Throwable error) {
        events.add(new Failed(error));
    }

    @Override
    public synchronized void sendText(String text) {
        try {
            session.getBasicRemote().sendText(text);
        } catch (Exception e) {
            throw new AssertionError("could not send text: " + e, e);
        }
    }

    @Override
    public synchronized void sendBinary(byte[] data) {
        try {
            session.getBasicRemote().sendBinary(ByteBuffer.wrap(data));
        } catch (Exception e) {
            throw new AssertionError("could not send binary: " + e, e);
        }
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
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(status.code()), status.reason()));
        } catch (Exception e) {
            throw new AssertionError("could not close: " + e, e);
        }
    }

    @Override
    public void abort() {
        ((UndertowSession) session).forceClose();
    }

    private Object next() {
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
}
